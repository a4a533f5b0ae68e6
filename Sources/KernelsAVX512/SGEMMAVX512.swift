// fp32 GEMM for CPUs with AVX-512 F/CD/BW/DQ/VL (this module is compiled with -target-cpu
// skylake-avx512: call it only after the caller has checked the CPU, see CPUISA in AccelBenchKernels).
// The driver (loops, packing, edges) is SGEMMDriver.swift, shared with the other kernel modules by a
// symbolic link; this file holds the register tile and the block sizes. The micro-kernel is fully
// written out: one local variable per accumulator register (arrays or tuples would not stay in
// registers), `addingProduct` for every multiply-add (Swift never fuses `a * b + c`).

enum SGEMMShape {
    static var mr: Int { 6 }
    static var nr: Int { 64 }
    /// Bytes of the next B panel each k step of the micro-kernel prefetches (0: none).
    static var nextPanelBytesPerStep: Int { 16 }
}

enum SGEMMBlocking {
    // Measured on Zen 4 (1 MiB L2, 32 MiB L3). kc = 512: a 512 x 64 B panel (128 KiB) in L2, each
    // micro-kernel call streaming it once (a 6 x 512 A panel, 12 KiB, alongside). mc = 288: the packed
    // A block (576 KiB) fills most of L2; a larger mc means fewer passes over the packed B block,
    // whose panels come back from L3 on every pass (144 was 2-3% slower at 2048-4096, 576 no better).
    // nc: the packed B block (kc x nc, 8 MiB at most) lives in L3.
    static var kc: Int { 512 }
    static var mc: Int { 288 }
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


/// The 6x64 register tile: C[r][j] (=, or += when `accumulate`) sum over p < kc of
/// A(r, p) * B(p, j), where A(r, p) = a[r * aRowStride + p * aKStride], B(p, j) = b[p * bKStride + j]
/// and C[r][j] = c[r * ldc + j], for r < 6, j < 64: 24 accumulators of SIMD16<Float> in registers.
@inline(__always)
func sgemmTile(
    kc: Int, a: UnsafePointer<Float>, aRowStride: Int, aKStride: Int,
    b: UnsafePointer<Float>, bKStride: Int,
    c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, next: UnsafeRawPointer
) {
    typealias V = SIMD16<Float>
    var c0_0 = V(); var c0_1 = V(); var c0_2 = V(); var c0_3 = V()
    var c1_0 = V(); var c1_1 = V(); var c1_2 = V(); var c1_3 = V()
    var c2_0 = V(); var c2_1 = V(); var c2_2 = V(); var c2_3 = V()
    var c3_0 = V(); var c3_1 = V(); var c3_2 = V(); var c3_3 = V()
    var c4_0 = V(); var c4_1 = V(); var c4_2 = V(); var c4_3 = V()
    var c5_0 = V(); var c5_1 = V(); var c5_2 = V(); var c5_3 = V()
    var pa = a
    var pb = UnsafeRawPointer(b)
    let bStep: Int = bKStride &* 4
    var nx = next
    // Two passes over k: the C tile is prefetched (for writing) shortly before the end, so its
    // lines arrive in L1 in time and are not evicted again by the B panel streaming through.
    let tail = min(kc, 32)
    var left = kc &- tail
    while left > 0 {
        sgemmLLVMPrefetch(nx, 0, 2, 1)
        nx += 16
        let b0 = pb.loadUnaligned(fromByteOffset: 0, as: V.self)
        let b1 = pb.loadUnaligned(fromByteOffset: 64, as: V.self)
        let b2 = pb.loadUnaligned(fromByteOffset: 128, as: V.self)
        let b3 = pb.loadUnaligned(fromByteOffset: 192, as: V.self)
        let a0 = V(repeating: pa[0])
        c0_0 = c0_0.addingProduct(a0, b0)
        c0_1 = c0_1.addingProduct(a0, b1)
        c0_2 = c0_2.addingProduct(a0, b2)
        c0_3 = c0_3.addingProduct(a0, b3)
        let a1 = V(repeating: pa[1 &* aRowStride])
        c1_0 = c1_0.addingProduct(a1, b0)
        c1_1 = c1_1.addingProduct(a1, b1)
        c1_2 = c1_2.addingProduct(a1, b2)
        c1_3 = c1_3.addingProduct(a1, b3)
        let a2 = V(repeating: pa[2 &* aRowStride])
        c2_0 = c2_0.addingProduct(a2, b0)
        c2_1 = c2_1.addingProduct(a2, b1)
        c2_2 = c2_2.addingProduct(a2, b2)
        c2_3 = c2_3.addingProduct(a2, b3)
        let a3 = V(repeating: pa[3 &* aRowStride])
        c3_0 = c3_0.addingProduct(a3, b0)
        c3_1 = c3_1.addingProduct(a3, b1)
        c3_2 = c3_2.addingProduct(a3, b2)
        c3_3 = c3_3.addingProduct(a3, b3)
        let a4 = V(repeating: pa[4 &* aRowStride])
        c4_0 = c4_0.addingProduct(a4, b0)
        c4_1 = c4_1.addingProduct(a4, b1)
        c4_2 = c4_2.addingProduct(a4, b2)
        c4_3 = c4_3.addingProduct(a4, b3)
        let a5 = V(repeating: pa[5 &* aRowStride])
        c5_0 = c5_0.addingProduct(a5, b0)
        c5_1 = c5_1.addingProduct(a5, b1)
        c5_2 = c5_2.addingProduct(a5, b2)
        c5_3 = c5_3.addingProduct(a5, b3)
        pa += aKStride
        pb += bStep
        left &-= 1
    }
    do {
        let rowBytes: Int = ldc &* 4
        var row = UnsafeRawPointer(c)
        sgemmLLVMPrefetch(row + 0, 1, 3, 1)
        sgemmLLVMPrefetch(row + 64, 1, 3, 1)
        sgemmLLVMPrefetch(row + 128, 1, 3, 1)
        sgemmLLVMPrefetch(row + 192, 1, 3, 1)
        sgemmLLVMPrefetch(row + 252, 1, 3, 1)
        row += rowBytes
        sgemmLLVMPrefetch(row + 0, 1, 3, 1)
        sgemmLLVMPrefetch(row + 64, 1, 3, 1)
        sgemmLLVMPrefetch(row + 128, 1, 3, 1)
        sgemmLLVMPrefetch(row + 192, 1, 3, 1)
        sgemmLLVMPrefetch(row + 252, 1, 3, 1)
        row += rowBytes
        sgemmLLVMPrefetch(row + 0, 1, 3, 1)
        sgemmLLVMPrefetch(row + 64, 1, 3, 1)
        sgemmLLVMPrefetch(row + 128, 1, 3, 1)
        sgemmLLVMPrefetch(row + 192, 1, 3, 1)
        sgemmLLVMPrefetch(row + 252, 1, 3, 1)
        row += rowBytes
        sgemmLLVMPrefetch(row + 0, 1, 3, 1)
        sgemmLLVMPrefetch(row + 64, 1, 3, 1)
        sgemmLLVMPrefetch(row + 128, 1, 3, 1)
        sgemmLLVMPrefetch(row + 192, 1, 3, 1)
        sgemmLLVMPrefetch(row + 252, 1, 3, 1)
        row += rowBytes
        sgemmLLVMPrefetch(row + 0, 1, 3, 1)
        sgemmLLVMPrefetch(row + 64, 1, 3, 1)
        sgemmLLVMPrefetch(row + 128, 1, 3, 1)
        sgemmLLVMPrefetch(row + 192, 1, 3, 1)
        sgemmLLVMPrefetch(row + 252, 1, 3, 1)
        row += rowBytes
        sgemmLLVMPrefetch(row + 0, 1, 3, 1)
        sgemmLLVMPrefetch(row + 64, 1, 3, 1)
        sgemmLLVMPrefetch(row + 128, 1, 3, 1)
        sgemmLLVMPrefetch(row + 192, 1, 3, 1)
        sgemmLLVMPrefetch(row + 252, 1, 3, 1)
    }
    left = tail
    while left > 0 {
        let b0 = pb.loadUnaligned(fromByteOffset: 0, as: V.self)
        let b1 = pb.loadUnaligned(fromByteOffset: 64, as: V.self)
        let b2 = pb.loadUnaligned(fromByteOffset: 128, as: V.self)
        let b3 = pb.loadUnaligned(fromByteOffset: 192, as: V.self)
        let a0 = V(repeating: pa[0])
        c0_0 = c0_0.addingProduct(a0, b0)
        c0_1 = c0_1.addingProduct(a0, b1)
        c0_2 = c0_2.addingProduct(a0, b2)
        c0_3 = c0_3.addingProduct(a0, b3)
        let a1 = V(repeating: pa[1 &* aRowStride])
        c1_0 = c1_0.addingProduct(a1, b0)
        c1_1 = c1_1.addingProduct(a1, b1)
        c1_2 = c1_2.addingProduct(a1, b2)
        c1_3 = c1_3.addingProduct(a1, b3)
        let a2 = V(repeating: pa[2 &* aRowStride])
        c2_0 = c2_0.addingProduct(a2, b0)
        c2_1 = c2_1.addingProduct(a2, b1)
        c2_2 = c2_2.addingProduct(a2, b2)
        c2_3 = c2_3.addingProduct(a2, b3)
        let a3 = V(repeating: pa[3 &* aRowStride])
        c3_0 = c3_0.addingProduct(a3, b0)
        c3_1 = c3_1.addingProduct(a3, b1)
        c3_2 = c3_2.addingProduct(a3, b2)
        c3_3 = c3_3.addingProduct(a3, b3)
        let a4 = V(repeating: pa[4 &* aRowStride])
        c4_0 = c4_0.addingProduct(a4, b0)
        c4_1 = c4_1.addingProduct(a4, b1)
        c4_2 = c4_2.addingProduct(a4, b2)
        c4_3 = c4_3.addingProduct(a4, b3)
        let a5 = V(repeating: pa[5 &* aRowStride])
        c5_0 = c5_0.addingProduct(a5, b0)
        c5_1 = c5_1.addingProduct(a5, b1)
        c5_2 = c5_2.addingProduct(a5, b2)
        c5_3 = c5_3.addingProduct(a5, b3)
        pa += aKStride
        pb += bStep
        left &-= 1
    }
    let rowBytes: Int = ldc &* 4
    var pc = UnsafeMutableRawPointer(c)
    if accumulate {
        pc.storeBytes(of: c0_0 + pc.loadUnaligned(fromByteOffset: 0, as: V.self), toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c0_1 + pc.loadUnaligned(fromByteOffset: 64, as: V.self), toByteOffset: 64, as: V.self)
        pc.storeBytes(of: c0_2 + pc.loadUnaligned(fromByteOffset: 128, as: V.self), toByteOffset: 128, as: V.self)
        pc.storeBytes(of: c0_3 + pc.loadUnaligned(fromByteOffset: 192, as: V.self), toByteOffset: 192, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c1_0 + pc.loadUnaligned(fromByteOffset: 0, as: V.self), toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c1_1 + pc.loadUnaligned(fromByteOffset: 64, as: V.self), toByteOffset: 64, as: V.self)
        pc.storeBytes(of: c1_2 + pc.loadUnaligned(fromByteOffset: 128, as: V.self), toByteOffset: 128, as: V.self)
        pc.storeBytes(of: c1_3 + pc.loadUnaligned(fromByteOffset: 192, as: V.self), toByteOffset: 192, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c2_0 + pc.loadUnaligned(fromByteOffset: 0, as: V.self), toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c2_1 + pc.loadUnaligned(fromByteOffset: 64, as: V.self), toByteOffset: 64, as: V.self)
        pc.storeBytes(of: c2_2 + pc.loadUnaligned(fromByteOffset: 128, as: V.self), toByteOffset: 128, as: V.self)
        pc.storeBytes(of: c2_3 + pc.loadUnaligned(fromByteOffset: 192, as: V.self), toByteOffset: 192, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c3_0 + pc.loadUnaligned(fromByteOffset: 0, as: V.self), toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c3_1 + pc.loadUnaligned(fromByteOffset: 64, as: V.self), toByteOffset: 64, as: V.self)
        pc.storeBytes(of: c3_2 + pc.loadUnaligned(fromByteOffset: 128, as: V.self), toByteOffset: 128, as: V.self)
        pc.storeBytes(of: c3_3 + pc.loadUnaligned(fromByteOffset: 192, as: V.self), toByteOffset: 192, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c4_0 + pc.loadUnaligned(fromByteOffset: 0, as: V.self), toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c4_1 + pc.loadUnaligned(fromByteOffset: 64, as: V.self), toByteOffset: 64, as: V.self)
        pc.storeBytes(of: c4_2 + pc.loadUnaligned(fromByteOffset: 128, as: V.self), toByteOffset: 128, as: V.self)
        pc.storeBytes(of: c4_3 + pc.loadUnaligned(fromByteOffset: 192, as: V.self), toByteOffset: 192, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c5_0 + pc.loadUnaligned(fromByteOffset: 0, as: V.self), toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c5_1 + pc.loadUnaligned(fromByteOffset: 64, as: V.self), toByteOffset: 64, as: V.self)
        pc.storeBytes(of: c5_2 + pc.loadUnaligned(fromByteOffset: 128, as: V.self), toByteOffset: 128, as: V.self)
        pc.storeBytes(of: c5_3 + pc.loadUnaligned(fromByteOffset: 192, as: V.self), toByteOffset: 192, as: V.self)
    } else {
        pc.storeBytes(of: c0_0, toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c0_1, toByteOffset: 64, as: V.self)
        pc.storeBytes(of: c0_2, toByteOffset: 128, as: V.self)
        pc.storeBytes(of: c0_3, toByteOffset: 192, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c1_0, toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c1_1, toByteOffset: 64, as: V.self)
        pc.storeBytes(of: c1_2, toByteOffset: 128, as: V.self)
        pc.storeBytes(of: c1_3, toByteOffset: 192, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c2_0, toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c2_1, toByteOffset: 64, as: V.self)
        pc.storeBytes(of: c2_2, toByteOffset: 128, as: V.self)
        pc.storeBytes(of: c2_3, toByteOffset: 192, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c3_0, toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c3_1, toByteOffset: 64, as: V.self)
        pc.storeBytes(of: c3_2, toByteOffset: 128, as: V.self)
        pc.storeBytes(of: c3_3, toByteOffset: 192, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c4_0, toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c4_1, toByteOffset: 64, as: V.self)
        pc.storeBytes(of: c4_2, toByteOffset: 128, as: V.self)
        pc.storeBytes(of: c4_3, toByteOffset: 192, as: V.self)
        pc += rowBytes
        pc.storeBytes(of: c5_0, toByteOffset: 0, as: V.self)
        pc.storeBytes(of: c5_1, toByteOffset: 64, as: V.self)
        pc.storeBytes(of: c5_2, toByteOffset: 128, as: V.self)
        pc.storeBytes(of: c5_3, toByteOffset: 192, as: V.self)
    }
}
