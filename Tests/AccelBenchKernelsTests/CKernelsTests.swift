import AccelBenchCore
import CKernels
import Testing

/// The C kernels (kernels/cpu): bf16 GEMM against a Float64 reference of the bf16-rounded inputs,
/// bf16 conversions, STREAM kernels, and the machine probes. Sizes are small so the whole suite runs in
/// well under a second in a debug build; the large-shape and performance checks live in the C driver.
@Suite struct CKernelsTests {
    // MARK: - Helpers

    static let features = UInt32(truncatingIfNeeded: ckernels_cpu_features())
    static func has(_ feature: some BinaryInteger) -> Bool {
        features & UInt32(truncatingIfNeeded: feature) != 0
    }
    static let hasAVX512BF16 = ckernels_sbgemm_avx512bf16_supported() != 0

    /// bf16 bit pattern -> Float (exact).
    static func float(bf16 h: UInt16) -> Float { Float(bitPattern: UInt32(h) << 16) }

    // MARK: - bf16 GEMM

    enum Kernel: String, CaseIterable, Sendable {
        case avx512bf16, portable

        var available: Bool { self == .portable || CKernelsTests.hasAVX512BF16 }

        func run(
            _ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<UInt16>, _ lda: Int, _ b: UnsafePointer<UInt16>,
            _ ldb: Int, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ workspace: UnsafeMutableRawPointer?
        ) {
            switch self {
            case .avx512bf16: ckernels_sbgemm_avx512bf16(m, n, k, a, lda, b, ldb, c, ldc, workspace)
            case .portable: ckernels_sbgemm_portable(m, n, k, a, lda, b, ldb, c, ldc, workspace)
            }
        }
    }

    struct Shape: CustomStringConvertible, Sendable {
        var m: Int, n: Int, k: Int
        /// Extra elements at the end of each row (leading dimension = row length + pad).
        var padA = 0, padB = 0, padC = 0
        var description: String { "\(m)x\(n)x\(k) pads \(padA)/\(padB)/\(padC)" }
    }

    static let mr = Int(CKERNELS_SBGEMM_MR), nr = Int(CKERNELS_SBGEMM_NR)
    static let kc = Int(CKERNELS_SBGEMM_KC), mc = Int(CKERNELS_SBGEMM_MC), nc = Int(CKERNELS_SBGEMM_NC)

    /// Edge shapes: single element, odd sizes, odd k, exact and one-past register tiles, several depth
    /// blocks (k > 2 KC, odd), several row blocks (m > MC), several column blocks (n > NC), k = 0, and
    /// sub-blocks of larger matrices (leading dimensions larger than the rows).
    static let shapes: [Shape] = [
        Shape(m: 1, n: 1, k: 1),
        Shape(m: 11, n: 31, k: 7),
        Shape(m: 13, n: 33, k: 3),
        Shape(m: mr, n: nr, k: 16),
        Shape(m: mr + 1, n: nr + 1, k: 17),
        Shape(m: 13, n: 35, k: 2 * kc + 77),
        Shape(m: mc + 8, n: 45, k: 37),
        Shape(m: 3, n: nc + 5, k: 5),
        Shape(m: 33, n: 17, k: 0),
        Shape(m: 5, n: 7, k: 9, padA: 11, padB: 4, padC: 6),
        Shape(m: 37, n: 45, k: kc + 6, padA: 11, padB: 5, padC: 2),
        Shape(m: mr, n: nr, k: 2, padA: 1, padB: 1, padC: 1),
    ]

    /// Largest error of C relative to sum_p |a_ip b_pj| (the natural scale of fp32 accumulation error),
    /// and the number of C elements that are not finite or were written outside the block.
    static func sbgemmError(_ kernel: Kernel, _ s: Shape, seed: UInt64) -> (error: Double, bad: Int) {
        let (m, n, k) = (s.m, s.n, s.k)
        let lda = k + s.padA, ldb = n + s.padB, ldc = n + s.padC
        var g = SeededGenerator(seed: seed)
        // Padding holds NaN: a kernel that reads past a row's end produces NaN in C.
        let nanBF16: UInt16 = 0x7FC0
        var a = [UInt16](repeating: nanBF16, count: max(m * lda, 1))
        var b = [UInt16](repeating: nanBF16, count: max(k * ldb, 1))
        var row = [Float](repeating: 0, count: max(k, n))
        for i in 0..<m {
            for p in 0..<k { row[p] = Float.random(in: -1...1, using: &g) }
            a.withUnsafeMutableBufferPointer { ckernels_f32_to_bf16(row, $0.baseAddress! + i * lda, k) }
        }
        for p in 0..<k {
            for j in 0..<n { row[j] = Float.random(in: -1...1, using: &g) }
            b.withUnsafeMutableBufferPointer { ckernels_f32_to_bf16(row, $0.baseAddress! + p * ldb, n) }
        }
        // C is poisoned with NaN inside the block (beta = 0: never read) and a sentinel after each row.
        let sentinel: Float = 12345.5
        var c = [Float](repeating: sentinel, count: m * ldc + 1)
        for i in 0..<m { for j in 0..<n { c[i * ldc + j] = .nan } }

        let workspaceBytes = ckernels_sbgemm_workspace_bytes(m, n, k)
        let workspace = UnsafeMutableRawPointer.allocate(byteCount: max(workspaceBytes, 1), alignment: 64)
        defer { workspace.deallocate() }
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    kernel.run(m, n, k, ap.baseAddress!, lda, bp.baseAddress!, ldb, cp.baseAddress!, ldc, workspace)
                }
            }
        }

        var worst = 0.0, bad = 0
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                for i in 0..<m {
                    for j in 0..<ldc {
                        let v = c[i * ldc + j]
                        if j >= n {
                            if v != sentinel { bad += 1 }
                            continue
                        }
                        var ref = 0.0, scale = 0.0
                        for p in 0..<k {
                            let x = Double(float(bf16: ap[i * lda + p])) * Double(float(bf16: bp[p * ldb + j]))
                            ref += x
                            scale += abs(x)
                        }
                        guard v.isFinite else { bad += 1; continue }
                        let err = abs(Double(v) - ref)
                        worst = max(worst, scale > 0 ? err / scale : err)
                    }
                }
            }
        }
        if c[m * ldc] != sentinel { bad += 1 }
        return (worst, bad)
    }

    @Test(arguments: Kernel.allCases, shapes)
    func sbgemmMatchesFloat64Reference(kernel: Kernel, shape: Shape) {
        guard kernel.available else { return }
        let (error, bad) = Self.sbgemmError(kernel, shape, seed: UInt64(shape.m * 7919 + shape.n * 31 + shape.k))
        #expect(bad == 0, "NaN/inf in C or writes outside the block")
        // fp32 accumulation of exact bf16 products: observed ~1e-7; a wrong or missing term is ~1/k.
        #expect(error <= 1e-5, "relative error \(error)")
    }

    @Test func sbgemmWithoutWorkspaceAllocatesItsOwn() {
        let a = [UInt16](repeating: 0x3F80, count: 6)  // 2 x 3 of 1.0
        let b = [UInt16](repeating: 0x4000, count: 12)  // 3 x 4 of 2.0
        for kernel in Kernel.allCases where kernel.available {
            var c = [Float](repeating: .nan, count: 8)
            c.withUnsafeMutableBufferPointer { kernel.run(2, 4, 3, a, 3, b, 4, $0.baseAddress!, 4, nil) }
            #expect(c == [Float](repeating: 6, count: 8), "\(kernel)")
        }
    }

    @Test func sbgemmWorkspaceIsZeroForEmptyShapes() {
        #expect(ckernels_sbgemm_workspace_bytes(0, 5, 5) == 0)
        #expect(ckernels_sbgemm_workspace_bytes(5, 5, 0) == 0)
        #expect(ckernels_sbgemm_workspace_bytes(5, 5, 5) > 0)
    }

    // MARK: - bf16 conversions

    static func toBF16(_ bits: UInt32) -> UInt16 {
        var out: UInt16 = 0
        let x = Float(bitPattern: bits)
        withUnsafePointer(to: x) { src in ckernels_f32_to_bf16(src, &out, 1) }
        return out
    }

    @Test func bf16RoundsToNearestEven() {
        #expect(Self.toBF16(0x3F80_0000) == 0x3F80)  // 1.0 exact
        #expect(Self.toBF16(0x3F80_8000) == 0x3F80)  // halfway, even below: down
        #expect(Self.toBF16(0x3F81_8000) == 0x3F82)  // halfway, odd below: up
        #expect(Self.toBF16(0x3F80_8001) == 0x3F81)  // just above halfway: up
        #expect(Self.toBF16(0x3F80_7FFF) == 0x3F80)  // just below halfway: down
        #expect(Self.toBF16(0xBFC0_0000) == 0xBFC0)  // -1.5
        #expect(Self.toBF16(0xBF80_8000) == 0xBF80)  // negative tie to even
        #expect(Self.toBF16(0x3FFF_FFFF) == 0x4000)  // carry into the exponent
        #expect(Self.toBF16(0x7F7F_FFFF) == 0x7F80)  // largest float rounds to +inf
        #expect(Self.toBF16(0x7F80_0000) == 0x7F80)  // +inf
        #expect(Self.toBF16(0xFF80_0000) == 0xFF80)  // -inf
        #expect(Self.toBF16(0x8000_0000) == 0x8000)  // -0
        #expect(Self.toBF16(0x0001_8000) == 0x0002)  // subnormal tie, odd below: up (not flushed)
        #expect(Self.toBF16(0x0000_8000) == 0x0000)  // subnormal tie, even below: down
    }

    @Test func bf16KeepsNaN() {
        for bits: UInt32 in [0x7FC0_0000, 0x7F80_0001, 0xFF80_0001, 0x7FFF_FFFF, 0x7F80_FFFF] {
            let h = Self.toBF16(bits)
            #expect(Self.float(bf16: h).isNaN, "\(String(bits, radix: 16)) -> \(String(h, radix: 16))")
            #expect(h >> 15 == UInt16(bits >> 31), "sign kept")
        }
    }

    @Test func bf16RoundTripsEveryPattern() {
        let all = (0...UInt16.max).map { $0 }
        var floats = [Float](repeating: 0, count: all.count)
        var back = [UInt16](repeating: 0, count: all.count)
        ckernels_bf16_to_f32(all, &floats, all.count)
        ckernels_f32_to_bf16(floats, &back, floats.count)
        var mismatches = 0
        for (h, (f, r)) in zip(all, zip(floats, back)) {
            if f.bitPattern != UInt32(h) << 16 { mismatches += 1 }  // widening is exact
            let isNaN = h & 0x7F80 == 0x7F80 && h & 0x007F != 0
            if isNaN ? !Self.float(bf16: r).isNaN : r != h { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }

    // MARK: - STREAM

    @Test(arguments: [0, 1, 7, 16, 33])
    func streamKernels(n: Int) {
        // One element of guard on each side, and the arrays start 8 bytes off any 16-byte boundary the
        // allocator may give, so the vector paths see unaligned pointers.
        let count = n + 3
        var a = (0..<count).map { Double($0) + 0.5 }
        var b = (0..<count).map { Double(2 * $0) - 1 }
        var c = [Double](repeating: -7, count: count)
        let q = 3.0
        let inRange = { (j: Int) in j >= 1 && j <= n }

        c.withUnsafeMutableBufferPointer { cp in a.withUnsafeBufferPointer { ckernels_stream_copy(cp.baseAddress! + 1, $0.baseAddress! + 1, n) } }
        #expect((0..<count).allSatisfy { c[$0] == (inRange($0) ? a[$0] : -7) }, "copy")

        b.withUnsafeMutableBufferPointer { bp in c.withUnsafeBufferPointer { ckernels_stream_scale(bp.baseAddress! + 1, $0.baseAddress! + 1, q, n) } }
        #expect((0..<count).allSatisfy { b[$0] == (inRange($0) ? q * a[$0] : Double(2 * $0) - 1) }, "scale")

        let a0 = a, b0 = b
        c.withUnsafeMutableBufferPointer { cp in
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { ckernels_stream_add(cp.baseAddress! + 1, ap.baseAddress! + 1, $0.baseAddress! + 1, n) } }
        }
        #expect((0..<count).allSatisfy { c[$0] == (inRange($0) ? a0[$0] + b0[$0] : -7) }, "add")

        let c0 = c
        a.withUnsafeMutableBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in c.withUnsafeBufferPointer { ckernels_stream_triad(ap.baseAddress! + 1, bp.baseAddress! + 1, $0.baseAddress! + 1, q, n) } }
        }
        #expect((0..<count).allSatisfy { a[$0] == (inRange($0) ? b0[$0] + q * c0[$0] : a0[$0]) }, "triad")

        let values = (0..<count).map { Double($0 % 5) - 1.25 }  // exact in binary: any summation order agrees
        let sum = values.withUnsafeBufferPointer { ckernels_stream_read($0.baseAddress! + 1, n) }
        #expect(sum == values[1..<(n + 1)].reduce(0, +), "read")
    }

    @Test func streamBytesPerElementFollowTheSTREAMRule() {
        #expect(CKERNELS_STREAM_COPY_BYTES_PER_ELEMENT == 16)
        #expect(CKERNELS_STREAM_SCALE_BYTES_PER_ELEMENT == 16)
        #expect(CKERNELS_STREAM_ADD_BYTES_PER_ELEMENT == 24)
        #expect(CKERNELS_STREAM_TRIAD_BYTES_PER_ELEMENT == 24)
        #expect(CKERNELS_STREAM_READ_BYTES_PER_ELEMENT == 8)
    }

    // MARK: - Probes

    @Test func addChainCountsEveryAdd() {
        #expect(ckernels_add_chain(0) == 0)
        #expect(ckernels_add_chain(1000) == 1000 * UInt64(CKERNELS_ADD_CHAIN_ADDS_PER_ITERATION))
    }

    @Test func throughputLoopsReturnFiniteValues() {
        for iterations: UInt64 in [0, 1, 1000] {
            #expect(ckernels_fma_peak_sse(iterations).isFinite)
            if Self.has(CKERNELS_FEAT_AVX2), Self.has(CKERNELS_FEAT_FMA) {
                #expect(ckernels_fma_peak_avx2(iterations).isFinite)
            }
            if Self.has(CKERNELS_FEAT_AVX512F) {
                #expect(ckernels_fma_peak_avx512(iterations).isFinite)
            }
            if Self.has(CKERNELS_FEAT_AVX512BF16) {
                #expect(ckernels_bf16_dot_peak_avx512(iterations).isFinite)
            }
            if Self.has(CKERNELS_FEAT_AVX512VNNI) && Self.has(CKERNELS_FEAT_AVX512BW) {
                // 16 accumulators x 16 lanes start at j and gain 1·1 x 4 products per iteration.
                #expect(ckernels_int8_dot_peak_avx512vnni(iterations) == 16 * 120 + 1024 * Int64(iterations))
            }
        }
        #expect(CKERNELS_FMA_PEAK_AVX512_FLOPS_PER_ITERATION == 512)
        #expect(CKERNELS_BF16_DOT_PEAK_AVX512_FLOPS_PER_ITERATION == 1024)
        #expect(CKERNELS_INT8_DOT_PEAK_AVX512VNNI_OPS_PER_ITERATION == 2048)
    }
}
