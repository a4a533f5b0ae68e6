import AccelBenchCore
import CKernels
import Foundation
import Testing

@testable import AccelBenchKernels

/// GGUF q8_0 / q4_0 quantization and the quantized GEMM paths.
///
/// What is exact and what has a tolerance:
///  - Encodings are compared byte for byte with blocks worked out by hand from ggml's rules.
///  - Round trips are bounded per element by the format's error (derived at `q8Bound` / `q4Bound`).
///  - Every kernel path must return the *same bits* as an independent Swift reference that follows the
///    documented order: per block an exact integer dot, s = fp32(d_w) * fp32(d_x) (exact: two 11-bit
///    significands), acc = fma(s, Float(dot), acc) over blocks in order from +0. With unit scales the
///    output is the integer dot itself, so the int32 block dots are checked directly too.
///  - Against Float64 arithmetic on the dequantized operands the error is the fp32 accumulation error
///    only (`float64Bound`).
@Suite struct QuantTests {
    // MARK: - Inputs

    /// Kinds of 32-element blocks mixed into test rows.
    enum BlockKind: CaseIterable {
        case uniform, zero, spike, huge, tiny, integers, ties
    }

    /// Largest |x| whose scale is still a finite fp16 (a little below 65504 * 127 or * 8).
    static func hugeMagnitude(_ format: QuantFormat) -> Float { format == .q8_0 ? 65504 * 127 * 0.999 : 65504 * 8 * 0.999 }

    static func block(_ kind: BlockKind, format: QuantFormat, using g: inout SeededGenerator) -> [Float] {
        var x = (0..<32).map { _ in g.nextSignedUnitFloat() }
        switch kind {
        case .uniform: break
        case .zero: x = [Float](repeating: 0, count: 32)
        case .spike:
            x = [Float](repeating: 0, count: 32)
            x[Int(g.next() % 32)] = g.nextSignedUnitFloat() * 100
        case .huge:
            x = x.map { $0 * hugeMagnitude(format) }
            x[Int(g.next() % 32)] = (g.next() & 1 == 0 ? 1 : -1) * hugeMagnitude(format)
        case .tiny:
            // scales in fp16's subnormal range, and below its smallest subnormal (d16 = 0)
            let magnitude: Float = g.next() & 1 == 0 ? 1e-4 : 1e-7
            x = x.map { $0 * magnitude }
        case .integers: x = (0..<32).map { _ in Float(Int(g.next() % 255) - 127) }
        case .ties: x = (0..<32).map { _ in Float(Int(g.next() % 17) - 8) * 0.125 }
        }
        return x
    }

    /// `rows x columns` values, one block kind after another along each row.
    static func matrix(rows: Int, columns: Int, format: QuantFormat, seed: UInt64) -> [Float] {
        var g = SeededGenerator(seed: seed)
        var x = [Float]()
        x.reserveCapacity(rows * columns)
        let kinds = BlockKind.allCases
        for r in 0..<rows {
            for b in 0..<(columns / 32) {
                // mostly uniform, the special kinds every few blocks
                let kind = (r + b) % 3 == 0 ? kinds[(r * 7 + b) % kinds.count] : .uniform
                x += block(kind, format: format, using: &g)
            }
        }
        return x
    }

    static func fp16(_ bytes: [UInt8], block b: Int, format: QuantFormat) -> UInt16 {
        let o = b * format.blockBytes
        return UInt16(bytes[o]) | UInt16(bytes[o + 1]) << 8
    }

    // MARK: - fp16

    @Test func fp16Conversions() {
        #expect(QuantFormat.fp16(1.0) == 0x3C00)
        #expect(QuantFormat.fp16(-0.5) == 0xB800)
        #expect(QuantFormat.fp16(65504) == 0x7BFF)
        #expect(QuantFormat.fp16(65520) == 0x7C00)  // halfway to 2^16 rounds (to even) to inf
        #expect(QuantFormat.fp16(Float(bitPattern: 0x3380_0000)) == 0x0001)  // 2^-24, smallest subnormal
        #expect(QuantFormat.fp16(Float(bitPattern: 0x3300_0000)) == 0x0000)  // 2^-25: tie, rounds to even 0
        #expect(QuantFormat.fp16(1 + 1.0 / 2048) == 0x3C00)  // tie between 1 and 1 + 2^-10: even
        #expect(QuantFormat.fp16(1 + 3.0 / 2048) == 0x3C02)  // tie: even is up
        for h in UInt16(0)...UInt16(0x7BFF) {  // every finite positive fp16 survives the round trip
            #expect(QuantFormat.fp16(QuantFormat.float(fp16: h)) == h)
            #expect(QuantFormat.fp16(-QuantFormat.float(fp16: h)) == h | 0x8000)
        }
    }

    // MARK: - Encodings worked out by hand

    /// Each expected byte follows from ggml's rule (ckernels_quant.h) by hand; d is little-endian first.
    @Test func q8_0EncodingsByHand() {
        // amax = 127 -> d = 1 (0x3C00), id = 1: qs = x.
        var a = (0..<31).map { Float($0 - 16) }
        a.append(127)
        #expect(QuantFormat.q8_0.quantize(a) == [0x00, 0x3C] + a.map { UInt8(bitPattern: Int8($0)) })

        // amax = 63.5 -> d = 0.5 (0x3800), id = 2; roundf rounds halves away from zero:
        // 0.25 -> 0.5 -> 1, -0.25 -> -1, 0.75 -> 1.5 -> 2, 1.25 -> 2.5 -> 3 (not 2), -1.25 -> -3, 0.2 -> 0.4 -> 0.
        var b = [Float](repeating: 0, count: 32)
        b[0] = 0.25; b[1] = -0.25; b[2] = 0.75; b[3] = 1.25; b[4] = -1.25; b[5] = 0.2; b[6] = 63.5; b[7] = -63.5
        var q: [Int8] = [1, -1, 2, 3, -3, 0, 127, -127]
        q += [Int8](repeating: 0, count: 24)
        #expect(QuantFormat.q8_0.quantize(b) == [0x00, 0x38] + q.map { UInt8(bitPattern: $0) })

        // all zero: d = 0, id = 0, qs = 0.
        #expect(QuantFormat.q8_0.quantize([Float](repeating: 0, count: 32)) == [UInt8](repeating: 0, count: 34))
    }

    @Test func q4_0EncodingsByHand() {
        // x0 = -8 comes before x5 = +8, so max = -8 (the first largest |x|), d = -8 / -8 = 1 (0x3C00), id = 1;
        // nibble = min(15, trunc(x + 8.5)): -8 -> 0, 7 -> 15, 0.4 -> 8, -0.6 -> 7, +8 -> 16 -> 15 (clamped),
        // 0.5 -> 9, -0.5 -> 8, 0 -> 8. Byte j = nibble(x[j]) | nibble(x[j + 16]) << 4.
        var c = [Float](repeating: 0, count: 32)
        c[0] = -8; c[1] = 7; c[2] = 0.4; c[3] = -0.6; c[5] = 8; c[16] = 0.5; c[17] = -0.5
        var qc = [UInt8](repeating: 0x88, count: 16)
        qc[0] = 0x90; qc[1] = 0x8F; qc[3] = 0x87; qc[5] = 0x8F
        #expect(QuantFormat.q4_0.quantize(c) == [0x00, 0x3C] + qc)

        // x3 = +4 comes before x7 = -4, so max = +4, d = 4 / -8 = -0.5 (0xB800), id = -2:
        // 4 -> 0.5 -> 0, -4 -> 16.5 -> 15 (clamped), 1 -> 6.5 -> 6, x20 = -1 -> 10.5 -> 10, 0 -> 8.
        var e = [Float](repeating: 0, count: 32)
        e[3] = 4; e[7] = -4; e[1] = 1; e[20] = -1
        var qe = [UInt8](repeating: 0x88, count: 16)
        qe[1] = 0x86; qe[3] = 0x80; qe[4] = 0xA8; qe[7] = 0x8F
        let bytes = QuantFormat.q4_0.quantize(e)
        #expect(bytes == [0x00, 0xB8] + qe)
        // The clamp is where q4_0's error reaches |d|: x7 = -4 comes back as (15 - 8) * -0.5 = -3.5.
        let back = QuantFormat.q4_0.dequantize(bytes)
        #expect(back[7] == -3.5 && back[3] == 4 && back[1] == 1 && back[20] == -1)

        // all zero: max = 0, d = 0 / -8 = -0.0 (0x8000, as ggml writes it), id = 0, every nibble trunc(8.5) = 8.
        #expect(QuantFormat.q4_0.quantize([Float](repeating: 0, count: 32)) == [0x00, 0x80] + [UInt8](repeating: 0x88, count: 16))
    }

    /// Past the largest finite fp16 scale the block's d is +-inf, as in ggml (the format cannot hold it).
    @Test func scaleOverflowIsInfinite() {
        var x = [Float](repeating: 1, count: 32)
        x[9] = -1e30
        #expect(QuantTests.fp16(QuantFormat.q8_0.quantize(x), block: 0, format: .q8_0) == 0x7C00)
        #expect(QuantTests.fp16(QuantFormat.q4_0.quantize(x), block: 0, format: .q4_0) == 0x7C00)  // -1e30 / -8 > 0
    }

    // MARK: - Round trip bounds

    /// q8_0 bound for a block with d = amax / 127 (fp32) stored as d16 = fp16(d):
    ///   |x - q * d16| <= d/2 + 127 |d - d16| + slack.
    /// q = roundf(x * id) is within 1/2 of x / d up to the two fp32 roundings of id = 1/d and x * id
    /// (relative 2^-23 at |x / d| <= 127: < 2^-15 d); the scale's fp16 rounding moves q * d by at most
    /// |q| |d - d16| <= 127 |d - d16|; dequantizing rounds once more (< 127 d16 2^-24). slack = 2^-15 (d + d16).
    static func q8Bound(d: Float, d16: Float) -> Double {
        0.5 * Double(d) + 127 * abs(Double(d) - Double(d16)) + 0x1p-15 * (Double(d) + Double(d16))
    }

    /// q4_0 bound for a block with d = max / -8 stored as d16: nibble - 8 = min(7, floor(x / d + 1/2)),
    /// so elements with x / d < 7.5 are within |d|/2, and those clamped at +7 (x / d in [7.5, 8]: sign
    /// opposite to max and |x| >= 15/16 |max|) within |d|:
    ///   |x - (nibble - 8) * d16| <= (1/2 or 1) |d| + 8 |d - d16| + 2^-15 (|d| + |d16|).
    static func q4Bound(d: Float, d16: Float, clamped: Bool) -> Double {
        (clamped ? 1.0 : 0.5) * abs(Double(d)) + 8 * abs(Double(d) - Double(d16)) + 0x1p-15 * (abs(Double(d)) + abs(Double(d16)))
    }

    @Test(arguments: QuantFormat.allCases)
    func roundTripWithinBound(format: QuantFormat) {
        let rows = 64, columns = 4096
        let x = QuantTests.matrix(rows: rows, columns: columns, format: format, seed: 0x51 + UInt64(format.blockBytes))
        let bytes = format.quantize(x)
        let back = format.dequantize(bytes)
        var worst = 0.0, zeroBlocksExact = true
        for b in 0..<(rows * columns / 32) {
            let xs = x[(32 * b)..<(32 * b + 32)]
            let d16 = QuantFormat.float(fp16: QuantTests.fp16(bytes, block: b, format: format))
            var amax: Float = 0, max: Float = 0
            for v in xs where abs(v) > amax { amax = abs(v); max = v }
            for j in 0..<32 {
                let err = abs(Double(xs[32 * b + j]) - Double(back[32 * b + j]))
                let bound: Double
                switch format {
                case .q8_0:
                    bound = QuantTests.q8Bound(d: amax / 127, d16: d16)
                case .q4_0:
                    let d = max / -8
                    let clamped = d != 0 && Double(xs[32 * b + j]) / Double(d) >= 7.5 - 1e-4
                    bound = QuantTests.q4Bound(d: d, d16: d16, clamped: clamped)
                }
                if amax == 0 { zeroBlocksExact = zeroBlocksExact && back[32 * b + j] == 0 }
                worst = Swift.max(worst, bound == 0 ? (err == 0 ? 0 : .infinity) : err / bound)
            }
        }
        #expect(worst <= 1, "\(format): worst error / bound = \(worst)")
        #expect(zeroBlocksExact)
    }

    // MARK: - Kernel paths: exact

    /// The Swift reference: independent integer dots, then the documented fp32 order.
    static func reference(format: QuantFormat, w: [UInt8], xq: [UInt8], m: Int, n: Int, k: Int) -> [Float] {
        let nb = k / 32, wb = format.blockBytes
        var y = [Float](repeating: 0, count: n * m)
        for t in 0..<n {
            for i in 0..<m {
                var acc: Float = 0
                for b in 0..<nb {
                    let wo = (i * nb + b) * wb, xo = (t * nb + b) * 34
                    var dot: Int32 = 0
                    for j in 0..<32 {
                        let qx = Int32(Int8(bitPattern: xq[xo + 2 + j]))
                        let qw: Int32
                        switch format {
                        case .q8_0: qw = Int32(Int8(bitPattern: w[wo + 2 + j]))
                        case .q4_0:
                            let byte = w[wo + 2 + (j % 16)]
                            qw = Int32(j < 16 ? byte & 0x0F : byte >> 4) - 8
                        }
                        dot += qw * qx
                    }
                    let dw = QuantFormat.float(fp16: UInt16(w[wo]) | UInt16(w[wo + 1]) << 8)
                    let dx = QuantFormat.float(fp16: UInt16(xq[xo]) | UInt16(xq[xo + 1]) << 8)
                    acc = acc.addingProduct(dw * dx, Float(dot))
                }
                y[t * m + i] = acc
            }
        }
        return y
    }

    /// Runs the plan with Y inside a poisoned buffer (NaN in the block, a sentinel in the padding of
    /// each row), returns Y and whether the padding survived.
    static func runPlan(_ plan: QuantizedGEMMPlan, x: [Float]) -> (y: [Float], paddingIntact: Bool) {
        let m = plan.weights.rows, n = plan.n, ldy = m + 5
        let sentinel: Float = 4242.5
        var buffer = [Float](repeating: sentinel, count: n * ldy)
        for t in 0..<n { for i in 0..<m { buffer[t * ldy + i] = .nan } }
        x.withUnsafeBufferPointer { xs in
            buffer.withUnsafeMutableBufferPointer { plan.run(x: xs.baseAddress!, ldx: plan.weights.columns, y: $0.baseAddress!, ldy: ldy) }
        }
        var y = [Float](repeating: 0, count: n * m), intact = true
        for t in 0..<n {
            for i in 0..<m { y[t * m + i] = buffer[t * ldy + i] }
            for i in m..<ldy where buffer[t * ldy + i] != sentinel { intact = false }
        }
        return (y, intact)
    }

    struct Shape: Sendable, CustomStringConvertible {
        var m: Int, n: Int, k: Int
        var description: String { "\(m)x\(n)x\(k)" }
    }

    /// Ragged M (not a multiple of the 16-row groups), N = 1, 3 (GEMV), 8, 9, 32, 37 (GEMM, a partial
    /// tile), K = 32 (one block, an odd block count), 96, 4096 (four full k chunks of the repacked
    /// layout), 1056 (a chunk and a last chunk of one odd block), 2112 (two chunks and one of two blocks).
    static let shapes: [Shape] = [
        Shape(m: 1, n: 1, k: 32), Shape(m: 17, n: 3, k: 32), Shape(m: 40, n: 1, k: 4096), Shape(m: 33, n: 3, k: 4096),
        Shape(m: 16, n: 8, k: 96), Shape(m: 23, n: 9, k: 96), Shape(m: 70, n: 32, k: 64), Shape(m: 37, n: 37, k: 96),
        Shape(m: 19, n: 32, k: 4096), Shape(m: 50, n: 37, k: 256), Shape(m: 35, n: 1, k: 1056),
        Shape(m: 21, n: 2, k: 2112), Shape(m: 18, n: 11, k: 1056),
    ]

    static let threadCounts = [1, 2, 3]

    @Test(arguments: QuantFormat.allCases, QuantizedGEMMPlan.Path.supported)
    func everyPathMatchesTheReferenceBitForBit(format: QuantFormat, path: QuantizedGEMMPlan.Path) {
        for (index, s) in QuantTests.shapes.enumerated() {
            let seed = UInt64(index) &* 0x9E37 &+ UInt64(format.blockBytes)
            let wf = QuantTests.matrix(rows: s.m, columns: s.k, format: format, seed: seed)
            let x = QuantTests.matrix(rows: s.n, columns: s.k, format: .q8_0, seed: seed ^ 0xABCD)
            let weights = wf.withUnsafeBufferPointer { QuantizedMatrix(format: format, rows: s.m, columns: s.k, quantizing: $0.baseAddress!) }
            let w = [UInt8](UnsafeRawBufferPointer(start: weights.blocks, count: weights.byteCount))
            let xq = QuantFormat.q8_0.quantize(x)
            let expected = QuantTests.reference(format: format, w: w, xq: xq, m: s.m, n: s.n, k: s.k)

            // the C reference agrees with the Swift one
            var cRef = [Float](repeating: .nan, count: s.n * s.m)
            x.withUnsafeBufferPointer { xs in
                cRef.withUnsafeMutableBufferPointer { weights.referenceProduct(x: xs.baseAddress!, tokens: s.n, y: $0.baseAddress!) }
            }
            #expect(cRef.map(\.bitPattern) == expected.map(\.bitPattern), "\(format) C reference \(s)")

            for threads in QuantTests.threadCounts {
                let plan = QuantizedGEMMPlan(weights: weights, tokens: s.n, pool: WorkerPool(threadCount: threads), path: path)
                let (y, intact) = QuantTests.runPlan(plan, x: x)
                let mismatches = zip(y, expected).filter { $0.bitPattern != $1.bitPattern }.count
                #expect(mismatches == 0, "\(plan.kernelPath) \(s): \(mismatches) outputs differ from the reference")
                #expect(intact, "\(plan.kernelPath) \(s): wrote outside Y")
            }
        }
    }

    /// With unit scales (d_w = d_x = 1) every output is the exact integer sum of its block dots, so the
    /// paths' int32 dots are visible directly. Raw GGUF bytes use the whole code range (q8_0 includes -128,
    /// which ggml's quantizer never writes but a file may hold); activations are integers with one +-127
    /// per block, so their q8_0 scale is exactly 1 and qx = x.
    @Test(arguments: QuantFormat.allCases, QuantizedGEMMPlan.Path.supported)
    func int32BlockDotsAreExact(format: QuantFormat, path: QuantizedGEMMPlan.Path) {
        var g = SeededGenerator(seed: 0xD07 + UInt64(format.blockBytes))
        for (m, n, k) in [(17, 1, 32), (16, 9, 32), (33, 37, 96)] {
            let nb = k / 32
            var w = [UInt8]()
            for _ in 0..<(m * nb) {
                w += [0x00, 0x3C]  // d = 1.0
                w += (0..<(format.blockBytes - 2)).map { _ in UInt8(truncatingIfNeeded: g.next()) }
            }
            var x = [Float]()
            for _ in 0..<(n * nb) {
                var blk = (0..<32).map { _ in Float(Int(g.next() % 255) - 127) }
                blk[Int(g.next() % 32)] = g.next() & 1 == 0 ? 127 : -127
                x += blk
            }
            let weights = w.withUnsafeBytes { QuantizedMatrix(format: format, rows: m, columns: k, ggufBlocks: $0.baseAddress!) }
            let plan = QuantizedGEMMPlan(weights: weights, tokens: n, pool: WorkerPool(threadCount: 2), path: path)
            let (y, _) = QuantTests.runPlan(plan, x: x)
            var bad = 0
            for t in 0..<n {
                for i in 0..<m {
                    var sum: Int32 = 0
                    for j in 0..<k {
                        let b = j / 32, e = j % 32, o = (i * nb + b) * format.blockBytes + 2
                        let qw: Int32 = format == .q8_0
                            ? Int32(Int8(bitPattern: w[o + e]))
                            : Int32(e < 16 ? w[o + e] & 0x0F : w[o + e - 16] >> 4) - 8
                        sum += qw * Int32(x[t * k + j])
                    }
                    if y[t * m + i] != Float(sum) { bad += 1 }
                }
            }
            #expect(bad == 0, "\(plan.kernelPath) \(m)x\(n)x\(k): \(bad) int32 sums differ")
        }
    }

    /// The AVX512-VNNI q4_0 kernel's fallback for CPUs without GFNI (vpsrlw + vpand), which a GFNI
    /// machine's plans never pick, called directly: same bits as the reference.
    @Test(.enabled(if: QuantizedGEMMPlan.Path.avx512vnni.isSupported))
    func q4_0WithoutGFNIMatchesTheReference() {
        for (index, s) in QuantTests.shapes.enumerated() {
            let seed = UInt64(index) &* 0x51ED
            let wf = QuantTests.matrix(rows: s.m, columns: s.k, format: .q4_0, seed: seed)
            let x = QuantTests.matrix(rows: s.n, columns: s.k, format: .q8_0, seed: seed ^ 0x77)
            let weights = wf.withUnsafeBufferPointer { QuantizedMatrix(format: .q4_0, rows: s.m, columns: s.k, quantizing: $0.baseAddress!) }
            let w = [UInt8](UnsafeRawBufferPointer(start: weights.blocks, count: weights.byteCount))
            let expected = QuantTests.reference(format: .q4_0, w: w, xq: QuantFormat.q8_0.quantize(x), m: s.m, n: s.n, k: s.k)
            let actBytes = ckernels_qact_bytes(s.n, s.k)
            let act = UnsafeMutableRawPointer.allocate(byteCount: actBytes, alignment: 64)
            defer { act.deallocate() }
            var y = [Float](repeating: .nan, count: s.n * s.m)
            x.withUnsafeBufferPointer { xs in
                ckernels_qact_quantize(Int32(CKERNELS_QPATH_AVX512VNNI), Int32(CKERNELS_QFORMAT_Q4_0), 0, s.n, s.n, s.k, xs.baseAddress!, s.k, act)
            }
            y.withUnsafeMutableBufferPointer { ys in
                let split = s.m / 3  // two row ranges, the first not on a 16-row group boundary
                ckernels_q4_0_gemm_avx512vnni_nogfni(s.m, s.n, s.k, weights.repacked, act, ys.baseAddress!, s.m, 0, split)
                ckernels_q4_0_gemm_avx512vnni_nogfni(s.m, s.n, s.k, weights.repacked, act, ys.baseAddress!, s.m, split, s.m)
            }
            #expect(y.map(\.bitPattern) == expected.map(\.bitPattern), "q4_0 avx512vnni without GFNI \(s)")
        }
    }

    /// The activation quantizer of every path writes the GGUF q8_0 blocks of ggml's rule.
    @Test(arguments: QuantizedGEMMPlan.Path.supported)
    func activationQuantizerMatchesGGUFBlocks(path: QuantizedGEMMPlan.Path) {
        let (n, k) = (19, 96)
        let x = QuantTests.matrix(rows: n, columns: k, format: .q8_0, seed: 0xAC7)
        let expected = QuantFormat.q8_0.quantize(x)
        let act = UnsafeMutableRawPointer.allocate(byteCount: ckernels_qact_bytes(n, k), alignment: 64)
        defer { act.deallocate() }
        x.withUnsafeBufferPointer { xs in  // two token ranges, as two workers would
            ckernels_qact_quantize(path.cPath, Int32(CKERNELS_QFORMAT_Q8_0), 0, 7, n, k, xs.baseAddress!, k, act)
            ckernels_qact_quantize(path.cPath, Int32(CKERNELS_QFORMAT_Q8_0), 7, n, n, k, xs.baseAddress!, k, act)
        }
        var blocks = [UInt8](repeating: 0, count: expected.count)
        blocks.withUnsafeMutableBytes { b in
            let base = b.baseAddress!.assumingMemoryBound(to: ckernels_block_q8_0.self)
            for t in 0..<n { ckernels_qact_unpack(n, k, act, t, base + t * (k / 32)) }
        }
        #expect(blocks == expected)
    }

    // MARK: - Against Float64

    /// Y against Float64 sums of the dequantized weights times the dequantized activations. Each block
    /// term s * dot is exact inside the fma, so the only error is fp32 rounding: one rounding per block
    /// (nb of them) plus the dequantized operands' own rounding (2 more): |y - y64| <= (nb + 2) 2^-24
    /// sum_k |w_ik x_tk| (dequantized values).
    static func float64Bound(nb: Int, absSum: Double) -> Double { Double(nb + 2) * 0x1p-24 * absSum }

    @Test(arguments: QuantFormat.allCases)
    func outputMatchesFloat64OnDequantizedOperands(format: QuantFormat) {
        let (m, n, k) = (37, 5, 4096)
        let wf = QuantTests.matrix(rows: m, columns: k, format: format, seed: 77)
        var g = SeededGenerator(seed: 78)
        let x = (0..<(n * k)).map { _ in g.nextSignedUnitFloat() * 4 }
        let weights = wf.withUnsafeBufferPointer { QuantizedMatrix(format: format, rows: m, columns: k, quantizing: $0.baseAddress!) }
        let wd = weights.dequantized()
        let xd = QuantFormat.q8_0.dequantize(QuantFormat.q8_0.quantize(x))
        let plan = QuantizedGEMMPlan(weights: weights, tokens: n, pool: WorkerPool(threadCount: 2))
        let (y, _) = QuantTests.runPlan(plan, x: x)
        var worst = 0.0
        for t in 0..<n {
            for i in 0..<m {
                var sum = 0.0, absSum = 0.0
                for j in 0..<k {
                    let p = Double(wd[i * k + j]) * Double(xd[t * k + j])
                    sum += p
                    absSum += abs(p)
                }
                let bound = QuantTests.float64Bound(nb: k / 32, absSum: absSum)
                worst = max(worst, abs(Double(y[t * m + i]) - sum) / max(bound, .leastNormalMagnitude))
            }
        }
        #expect(worst <= 1, "\(plan.kernelPath): worst error / bound = \(worst)")
    }

    // MARK: - Matrix and plan plumbing

    @Test(arguments: QuantFormat.allCases)
    func matrixFromGGUFBytesEqualsQuantized(format: QuantFormat) {
        let (m, k) = (21, 64)
        let wf = QuantTests.matrix(rows: m, columns: k, format: format, seed: 5)
        let a = wf.withUnsafeBufferPointer { QuantizedMatrix(format: format, rows: m, columns: k, quantizing: $0.baseAddress!) }
        let bytes = format.quantize(wf)
        let b = bytes.withUnsafeBytes { QuantizedMatrix(format: format, rows: m, columns: k, ggufBlocks: $0.baseAddress!) }
        #expect(a.byteCount == bytes.count && a.byteCount == m * k / 32 * format.blockBytes)
        #expect(memcmp(a.blocks, b.blocks, a.byteCount) == 0)
        #expect(a.repackedByteCount == b.repackedByteCount)
        if let ra = a.repacked, let rb = b.repacked { #expect(memcmp(ra, rb, a.repackedByteCount) == 0) }
        var row = [Float](repeating: 0, count: k)
        row.withUnsafeMutableBufferPointer { a.dequantizeRow(3, into: $0.baseAddress!) }
        #expect(row == Array(a.dequantized()[(3 * k)..<(4 * k)]))
    }

    @Test func planReportsPathAndSplitsRowsInGroups() {
        let weights = [Float](repeating: 0.5, count: 100 * 64).withUnsafeBufferPointer {
            QuantizedMatrix(format: .q4_0, rows: 100, columns: 64, quantizing: $0.baseAddress!)
        }
        let plan = QuantizedGEMMPlan(weights: weights, tokens: 1, pool: WorkerPool(threadCount: 3))
        #expect(plan.path == QuantizedGEMMPlan.Path.detect())
        #expect(plan.kernelPath.hasPrefix("q4_0 \(plan.path.rawValue)"))
        // 7 groups of 16 rows over 3 workers: 3, 2, 2 groups; the last slice ends at row 100
        #expect(plan.rowSlices == [0..<48, 48..<80, 80..<100])
        #expect(QuantizedGEMMPlan.Path.supported.last == .portable)
    }

    /// A grouped call (one pool job for Q/K/V-like matrices sharing X) gives the bits of separate calls,
    /// for GEMV token counts (grouped) and GEMM ones (run one after another), on every path.
    @Test(arguments: QuantizedGEMMPlan.Path.supported)
    func groupedRunMatchesSeparateRuns(path: QuantizedGEMMPlan.Path) {
        let pool = WorkerPool(threadCount: 2)
        let k = 96
        for format in [QuantFormat.q8_0, .q4_0] {
            for n in [1, 3, 12] {
                let rows = [64, 16, 48]
                let matrices = rows.enumerated().map { index, m in
                    QuantTests.matrix(rows: m, columns: k, format: format, seed: UInt64(100 + index)).withUnsafeBufferPointer {
                        QuantizedMatrix(format: format, rows: m, columns: k, quantizing: $0.baseAddress!)
                    }
                }
                let plans = matrices.map { QuantizedGEMMPlan(weights: $0, tokens: n, pool: pool, path: path) }
                let x = QuantTests.matrix(rows: n, columns: k, format: .q8_0, seed: 0x6E0)
                let separate = plans.map { plan -> [Float] in
                    var y = [Float](repeating: .nan, count: n * plan.weights.rows)
                    x.withUnsafeBufferPointer { xs in y.withUnsafeMutableBufferPointer { plan.run(x: xs.baseAddress!, y: $0.baseAddress!) } }
                    return y
                }
                let outputs = plans.map { plan -> UnsafeMutablePointer<Float> in
                    let y = UnsafeMutablePointer<Float>.allocate(capacity: n * plan.weights.rows)
                    y.initialize(repeating: .nan, count: n * plan.weights.rows)
                    return y
                }
                defer { for y in outputs { y.deallocate() } }
                x.withUnsafeBufferPointer { QuantizedGEMMPlan.run(plans, x: $0.baseAddress!, outputs: outputs) }
                for (i, plan) in plans.enumerated() {
                    let grouped = Array(UnsafeBufferPointer(start: outputs[i], count: n * plan.weights.rows))
                    #expect(grouped.map(\.bitPattern) == separate[i].map(\.bitPattern), "\(path) \(format) n=\(n) matrix \(i)")
                }
            }
        }
    }
}

@Suite struct WeightReadTests {
    /// Every whole double of every buffer is read once, whatever the worker count (the shares are
    /// contiguous and cover the buffer); a tail shorter than a double is not counted or read.
    @Test(arguments: [1, 2, 3])
    func readsEveryWholeDoubleOnce(threads: Int) {
        let count = 1001
        let a = UnsafeMutablePointer<Double>.allocate(capacity: count)
        defer { a.deallocate() }
        for i in 0..<count { a[i] = Double(i) }
        let b = UnsafeMutableRawPointer.allocate(byteCount: 13, alignment: 8)
        defer { b.deallocate() }
        b.storeBytes(of: 0.5, as: Double.self)
        let read = WeightRead(
            buffers: [UnsafeRawBufferPointer(start: a, count: count * 8), UnsafeRawBufferPointer(start: b, count: 13)],
            pool: WorkerPool(threadCount: threads))
        #expect(read.bytes == count * 8 + 8)
        read.run()
        #expect(read.lastTotal == Double(count * (count - 1) / 2) + 0.5)
    }

    /// The repacked layout's k chunks, as ckernels_quant.h documents them: 32 rows (two groups) x 66
    /// blocks are chunks of 32, 32 and 2 blocks; chunk c holds group 0's pairs, then group 1's. Each
    /// block's 16 fp16 scales sit at the start of its pair (+32 for the odd block), row r at +2r.
    @Test(arguments: QuantFormat.allCases)
    func repackedScalesSitWhereTheLayoutSays(format: QuantFormat) throws {
        let (rows, k) = (32, 2112)
        let nb = k / 32, groups = 2, chunkPairs = Int(CKERNELS_QREPACK_CHUNK_BLOCKS) / 2
        let pairBytes = format == .q8_0 ? 2 * 512 + 64 : 2 * 256 + 64
        let values = QuantTests.matrix(rows: rows, columns: k, format: format, seed: 0xC4)
        let m = values.withUnsafeBufferPointer { QuantizedMatrix(format: format, rows: rows, columns: k, quantizing: $0.baseAddress!) }
        let repacked = try #require(m.repacked)
        #expect(m.repackedByteCount == groups * (nb / 2) * pairBytes)
        let gguf = UnsafeRawPointer(m.blocks)
        var wrong = 0
        for r in 0..<rows {
            for b in 0..<nb {
                let (g, pair) = (r / 16, b / 2)
                let c = pair / chunkPairs
                let pairsInChunk = min(chunkPairs, nb / 2 - c * chunkPairs)
                let offset = (c * groups * chunkPairs + g * pairsInChunk + pair % chunkPairs) * pairBytes + (b % 2) * 32 + (r % 16) * 2
                let stored = repacked.load(fromByteOffset: offset, as: UInt16.self)
                let expected = gguf.loadUnaligned(fromByteOffset: (r * nb + b) * format.blockBytes, as: UInt16.self)
                if stored != expected { wrong += 1 }
            }
        }
        #expect(wrong == 0, "\(format): \(wrong) of \(rows * nb) scales are not where the layout puts them")
    }

    @Test func pathsReadTheirOwnLayout() {
        let values = (0..<(32 * 64)).map { Float($0 % 17) - 8 }
        let m = values.withUnsafeBufferPointer { QuantizedMatrix(format: .q4_0, rows: 32, columns: 64, quantizing: $0.baseAddress!) }
        #expect(m.weightBuffer(path: .portable).baseAddress == UnsafeRawPointer(m.blocks))
        #expect(m.weightBuffer(path: .portable).count == m.byteCount)
        if let repacked = m.repacked {
            #expect(m.weightBuffer(path: .avx2).baseAddress == UnsafeRawPointer(repacked))
            #expect(m.weightBuffer(path: .avx2).count == m.byteCount)  // 32 rows, 2 blocks: no padding
        }
    }
}
