// fp32 GEMM for any CPU (this module is compiled for the baseline target: SSE2 on x86-64, NEON on
// arm64). The driver is SGEMMDriver.swift (this folder holds the file itself; the AVX modules link to
// it).

enum SGEMMShape {
    static var mr: Int { 6 }
    static var nr: Int { 8 }
    /// Bytes of the next B panel each k step of the micro-kernel prefetches (0: none).
    static var nextPanelBytesPerStep: Int { 0 }
}

enum SGEMMBlocking {
    // Smaller panels: 16 xmm registers and no FMA on baseline x86-64 make this kernel several times
    // slower, so it needs less bandwidth per flop and fits its blocks more loosely.
    static var kc: Int { 256 }
    static var mc: Int { 96 }
    static var nc: Int { 4096 }
}

/// Packs 6 full rows of A (kc long, row stride lda) into a kc x 6 panel.
@inline(__always)
func sgemmPackAFull(kc: Int, a: UnsafePointer<Float>, lda: Int, into dst: UnsafeMutablePointer<Float>) {
    let mr = SGEMMShape.mr
    var out = dst
    for p in 0..<kc {
        for r in 0..<mr { out[r] = a[r &* lda &+ p] }
        out += mr
    }
}

/// c + a * b. On arm64 FMA is baseline (`fmla`); on baseline x86-64 there is no FMA instruction and
/// `addingProduct` would call `fmaf` for every lane, so it multiplies and adds (two roundings).
@inline(__always)
func sgemmMultiplyAdd(_ c: SIMD4<Float>, _ a: SIMD4<Float>, _ b: SIMD4<Float>) -> SIMD4<Float> {
    #if arch(arm64)
    return c.addingProduct(a, b)
    #else
    return c + a * b
    #endif
}


/// The 6x8 register tile: C[r][j] (=, or += when `accumulate`) sum over p < kc of
/// A(r, p) * B(p, j), where A(r, p) = a[r * aRowStride + p * aKStride], B(p, j) = b[p * bKStride + j]
/// and C[r][j] = c[r * ldc + j], for r < 6, j < 8: 12 accumulators of SIMD4<Float> in registers.
@inline(__always)
func sgemmTile(
    kc: Int, a: UnsafePointer<Float>, aRowStride: Int, aKStride: Int,
    b: UnsafePointer<Float>, bKStride: Int,
    c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, next: UnsafeRawPointer
) {
    // `next` is not used: this module prefetches no B panel (SGEMMShape.nextPanelBytesPerStep = 0).
    typealias V = SIMD4<Float>
    var c0_0 = V(); var c0_1 = V()
    var c1_0 = V(); var c1_1 = V()
    var c2_0 = V(); var c2_1 = V()
    var c3_0 = V(); var c3_1 = V()
    var c4_0 = V(); var c4_1 = V()
    var c5_0 = V(); var c5_1 = V()
    var pa = a
    var pb = UnsafeRawPointer(b)
    let bStep: Int = bKStride &* 4
    var left = kc
    while left > 0 {
        let b0 = pb.loadUnaligned(fromByteOffset: 0, as: V.self)
        let b1 = pb.loadUnaligned(fromByteOffset: 16, as: V.self)
        let a0 = V(repeating: pa[0])
        c0_0 = sgemmMultiplyAdd(c0_0, a0, b0)
        c0_1 = sgemmMultiplyAdd(c0_1, a0, b1)
        let a1 = V(repeating: pa[1 &* aRowStride])
        c1_0 = sgemmMultiplyAdd(c1_0, a1, b0)
        c1_1 = sgemmMultiplyAdd(c1_1, a1, b1)
        let a2 = V(repeating: pa[2 &* aRowStride])
        c2_0 = sgemmMultiplyAdd(c2_0, a2, b0)
        c2_1 = sgemmMultiplyAdd(c2_1, a2, b1)
        let a3 = V(repeating: pa[3 &* aRowStride])
        c3_0 = sgemmMultiplyAdd(c3_0, a3, b0)
        c3_1 = sgemmMultiplyAdd(c3_1, a3, b1)
        let a4 = V(repeating: pa[4 &* aRowStride])
        c4_0 = sgemmMultiplyAdd(c4_0, a4, b0)
        c4_1 = sgemmMultiplyAdd(c4_1, a4, b1)
        let a5 = V(repeating: pa[5 &* aRowStride])
        c5_0 = sgemmMultiplyAdd(c5_0, a5, b0)
        c5_1 = sgemmMultiplyAdd(c5_1, a5, b1)
        pa += aKStride
        pb += bStep
        left &-= 1
    }
    let rowBytes: Int = ldc &* 4
    var pc = UnsafeMutableRawPointer(c)
    if accumulate {
        pc.storeBytes(of: c0_0 + pc.loadUnaligned(fromByteOffset: 0, as: V.self), toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c0_1 + pc.loadUnaligned(fromByteOffset: 16, as: V.self), toByteOffset: 16, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c1_0 + pc.loadUnaligned(fromByteOffset: 0, as: V.self), toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c1_1 + pc.loadUnaligned(fromByteOffset: 16, as: V.self), toByteOffset: 16, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c2_0 + pc.loadUnaligned(fromByteOffset: 0, as: V.self), toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c2_1 + pc.loadUnaligned(fromByteOffset: 16, as: V.self), toByteOffset: 16, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c3_0 + pc.loadUnaligned(fromByteOffset: 0, as: V.self), toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c3_1 + pc.loadUnaligned(fromByteOffset: 16, as: V.self), toByteOffset: 16, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c4_0 + pc.loadUnaligned(fromByteOffset: 0, as: V.self), toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c4_1 + pc.loadUnaligned(fromByteOffset: 16, as: V.self), toByteOffset: 16, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c5_0 + pc.loadUnaligned(fromByteOffset: 0, as: V.self), toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c5_1 + pc.loadUnaligned(fromByteOffset: 16, as: V.self), toByteOffset: 16, as: V.self)
    } else {
        pc.storeBytes(of: c0_0, toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c0_1, toByteOffset: 16, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c1_0, toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c1_1, toByteOffset: 16, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c2_0, toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c2_1, toByteOffset: 16, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c3_0, toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c3_1, toByteOffset: 16, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c4_0, toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c4_1, toByteOffset: 16, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c5_0, toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c5_1, toByteOffset: 16, as: V.self)
    }
}
