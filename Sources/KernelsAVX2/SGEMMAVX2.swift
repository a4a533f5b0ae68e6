// fp32 GEMM for CPUs with AVX2 + FMA (this module is compiled with -target-cpu haswell: call it only
// after the caller has checked the CPU, see CPUISA in AccelBenchKernels). The driver is
// SGEMMDriver.swift, shared with the other kernel modules by a symbolic link.

enum SGEMMShape {
    static var mr: Int { 6 }
    static var nr: Int { 16 }
    /// Bytes of the next B panel each k step of the micro-kernel prefetches (0: none).
    static var nextPanelBytesPerStep: Int { 0 }
}

enum SGEMMBlocking {
    // The classic BLIS fit for 32 KiB L1 / 256 KiB-1 MiB L2 (BLIS uses the same for Haswell): a
    // 256 x 16 B panel (16 KiB) and a 6 x 256 A panel (6 KiB) in L1, the packed A block
    // (mc x kc, 168 KiB) in L2, the packed B block in L3. Not tuned further here: on this Zen 4 the
    // AVX-512 module is the one that runs, and 2% differences drown in the host's noise.
    static var kc: Int { 256 }
    static var mc: Int { 168 }
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


/// The 6x16 register tile: C[r][j] (=, or += when `accumulate`) sum over p < kc of
/// A(r, p) * B(p, j), where A(r, p) = a[r * aRowStride + p * aKStride], B(p, j) = b[p * bKStride + j]
/// and C[r][j] = c[r * ldc + j], for r < 6, j < 16: 12 accumulators of SIMD8<Float> in registers.
@inline(__always)
func sgemmTile(
    kc: Int, a: UnsafePointer<Float>, aRowStride: Int, aKStride: Int,
    b: UnsafePointer<Float>, bKStride: Int,
    c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, next: UnsafeRawPointer
) {
    // `next` is not used: this module prefetches no B panel (SGEMMShape.nextPanelBytesPerStep = 0).
    typealias V = SIMD8<Float>
    var c0_0 = V(); var c0_1 = V()
    var c1_0 = V(); var c1_1 = V()
    var c2_0 = V(); var c2_1 = V()
    var c3_0 = V(); var c3_1 = V()
    var c4_0 = V(); var c4_1 = V()
    var c5_0 = V(); var c5_1 = V()
    var pa = a
    var pb = UnsafeRawPointer(b)
    let bStep: Int = bKStride &* 4
    // Two passes over k: the C tile is prefetched (for writing) shortly before the end, so its
    // lines arrive in L1 in time and are not evicted again by the B panel streaming through.
    let tail = min(kc, 32)
    var left = kc &- tail
    while left > 0 {
        let b0 = pb.loadUnaligned(fromByteOffset: 0, as: V.self)
        let b1 = pb.loadUnaligned(fromByteOffset: 32, as: V.self)
        let a0 = V(repeating: pa[0])
        c0_0 = c0_0.addingProduct(a0, b0)
        c0_1 = c0_1.addingProduct(a0, b1)
        let a1 = V(repeating: pa[1 &* aRowStride])
        c1_0 = c1_0.addingProduct(a1, b0)
        c1_1 = c1_1.addingProduct(a1, b1)
        let a2 = V(repeating: pa[2 &* aRowStride])
        c2_0 = c2_0.addingProduct(a2, b0)
        c2_1 = c2_1.addingProduct(a2, b1)
        let a3 = V(repeating: pa[3 &* aRowStride])
        c3_0 = c3_0.addingProduct(a3, b0)
        c3_1 = c3_1.addingProduct(a3, b1)
        let a4 = V(repeating: pa[4 &* aRowStride])
        c4_0 = c4_0.addingProduct(a4, b0)
        c4_1 = c4_1.addingProduct(a4, b1)
        let a5 = V(repeating: pa[5 &* aRowStride])
        c5_0 = c5_0.addingProduct(a5, b0)
        c5_1 = c5_1.addingProduct(a5, b1)
        pa += aKStride
        pb += bStep
        left &-= 1
    }
    do {
        let rowBytes: Int = ldc &* 4
        var row = UnsafeRawPointer(c)
        sgemmLLVMPrefetch(row + 0, 1, 3, 1)
        sgemmLLVMPrefetch(row + 60, 1, 3, 1)
        row += rowBytes
        sgemmLLVMPrefetch(row + 0, 1, 3, 1)
        sgemmLLVMPrefetch(row + 60, 1, 3, 1)
        row += rowBytes
        sgemmLLVMPrefetch(row + 0, 1, 3, 1)
        sgemmLLVMPrefetch(row + 60, 1, 3, 1)
        row += rowBytes
        sgemmLLVMPrefetch(row + 0, 1, 3, 1)
        sgemmLLVMPrefetch(row + 60, 1, 3, 1)
        row += rowBytes
        sgemmLLVMPrefetch(row + 0, 1, 3, 1)
        sgemmLLVMPrefetch(row + 60, 1, 3, 1)
        row += rowBytes
        sgemmLLVMPrefetch(row + 0, 1, 3, 1)
        sgemmLLVMPrefetch(row + 60, 1, 3, 1)
    }
    left = tail
    while left > 0 {
        let b0 = pb.loadUnaligned(fromByteOffset: 0, as: V.self)
        let b1 = pb.loadUnaligned(fromByteOffset: 32, as: V.self)
        let a0 = V(repeating: pa[0])
        c0_0 = c0_0.addingProduct(a0, b0)
        c0_1 = c0_1.addingProduct(a0, b1)
        let a1 = V(repeating: pa[1 &* aRowStride])
        c1_0 = c1_0.addingProduct(a1, b0)
        c1_1 = c1_1.addingProduct(a1, b1)
        let a2 = V(repeating: pa[2 &* aRowStride])
        c2_0 = c2_0.addingProduct(a2, b0)
        c2_1 = c2_1.addingProduct(a2, b1)
        let a3 = V(repeating: pa[3 &* aRowStride])
        c3_0 = c3_0.addingProduct(a3, b0)
        c3_1 = c3_1.addingProduct(a3, b1)
        let a4 = V(repeating: pa[4 &* aRowStride])
        c4_0 = c4_0.addingProduct(a4, b0)
        c4_1 = c4_1.addingProduct(a4, b1)
        let a5 = V(repeating: pa[5 &* aRowStride])
        c5_0 = c5_0.addingProduct(a5, b0)
        c5_1 = c5_1.addingProduct(a5, b1)
        pa += aKStride
        pb += bStep
        left &-= 1
    }
    let rowBytes: Int = ldc &* 4
    var pc = UnsafeMutableRawPointer(c)
    if accumulate {
        pc.storeBytes(of: c0_0 + pc.loadUnaligned(fromByteOffset: 0, as: V.self), toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c0_1 + pc.loadUnaligned(fromByteOffset: 32, as: V.self), toByteOffset: 32, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c1_0 + pc.loadUnaligned(fromByteOffset: 0, as: V.self), toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c1_1 + pc.loadUnaligned(fromByteOffset: 32, as: V.self), toByteOffset: 32, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c2_0 + pc.loadUnaligned(fromByteOffset: 0, as: V.self), toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c2_1 + pc.loadUnaligned(fromByteOffset: 32, as: V.self), toByteOffset: 32, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c3_0 + pc.loadUnaligned(fromByteOffset: 0, as: V.self), toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c3_1 + pc.loadUnaligned(fromByteOffset: 32, as: V.self), toByteOffset: 32, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c4_0 + pc.loadUnaligned(fromByteOffset: 0, as: V.self), toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c4_1 + pc.loadUnaligned(fromByteOffset: 32, as: V.self), toByteOffset: 32, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c5_0 + pc.loadUnaligned(fromByteOffset: 0, as: V.self), toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c5_1 + pc.loadUnaligned(fromByteOffset: 32, as: V.self), toByteOffset: 32, as: V.self)
    } else {
        pc.storeBytes(of: c0_0, toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c0_1, toByteOffset: 32, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c1_0, toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c1_1, toByteOffset: 32, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c2_0, toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c2_1, toByteOffset: 32, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c3_0, toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c3_1, toByteOffset: 32, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c4_0, toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c4_1, toByteOffset: 32, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c5_0, toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c5_1, toByteOffset: 32, as: V.self)
    }
}
