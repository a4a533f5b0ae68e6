import AccelBenchCore
import CKernels
import Foundation
import Testing

@testable import AccelBenchKernels

/// W8A8: int8 per-channel weights x int8 per-token activations (ckernels_w8a8.h).
///
/// What is exact and what has a tolerance:
///  - Quantization is checked value for value against hand-worked rows and an independent Swift
///    implementation of the rule (s = max|x| / 127 in fp32, q = clamp(round-half-away(x / s), ±127)).
///  - Every kernel path must return the *same bits* as an independent Swift reference: the exact integer
///    dot, then (s_x * s_w) * Float(dot) in fp32. K must be a multiple of 4 (the kernels' requirement).
///  - Against Float64 arithmetic on the dequantized operands the error is three fp32 roundings
///    (`float64Bound`).
@Suite struct W8A8Tests {
    // MARK: - Inputs

    /// `rows x columns` values: mostly uniform in (-1, 1) at a per-row magnitude, with all-zero rows,
    /// single spikes, exact ties (x / s = j + 0.5) and, when `extreme`, huge, tiny and subnormal rows.
    static func matrix(rows: Int, columns: Int, seed: UInt64, extreme: Bool = false) -> [Float] {
        var g = SeededGenerator(seed: seed)
        var x = [Float]()
        x.reserveCapacity(rows * columns)
        for r in 0..<rows {
            let kind = extreme ? r % 7 : (r % 5 == 3 ? 0 : r % 5 == 4 ? 2 : 1)
            for j in 0..<columns {
                let u = g.nextSignedUnitFloat()
                switch kind {
                case 0: x.append(0)                                     // all-zero row
                case 1: x.append(u * Float(1 + r % 3))                  // ordinary
                case 2: x.append(j == 0 ? 127 : Float(Int(g.next() % 255) - 127) + 0.5 * (j % 2 == 0 ? 1 : -1) * (j % 3 == 0 ? 1 : 0)) // s = 1: ties
                case 3: x.append(u * 1e30)                              // huge
                case 4: x.append(u * 1e-30)                             // tiny (s still normal)
                case 5: x.append(u * (Float.leastNormalMagnitude / 100))  // subnormal inputs and scale
                default: x.append(j % 2 == 0 ? 3e38 : -3e38)            // every |q| = 127
                }
            }
        }
        return x
    }

    /// The rule, independently in Swift.
    static func quantize(_ x: ArraySlice<Float>) -> (q: [Int8], s: Float) {
        let amax = x.reduce(Float(0)) { max($0, abs($1)) }
        let s = amax / 127
        if s == 0 { return ([Int8](repeating: 0, count: x.count), 0) }
        return (x.map { Int8(min(127, max(-127, ($0 / s).rounded(.toNearestOrAwayFromZero)))) }, s)
    }

    /// Y (tokens x rows) by the documented formula, from the Swift quantizer.
    static func swiftReference(w: [Float], x: [Float], m: Int, n: Int, k: Int) -> [Float] {
        let qw = (0..<m).map { quantize(w[$0 * k..<($0 + 1) * k]) }
        let qx = (0..<n).map { quantize(x[$0 * k..<($0 + 1) * k]) }
        var y = [Float](repeating: 0, count: n * m)
        for t in 0..<n {
            for i in 0..<m {
                var dot: Int32 = 0
                for j in 0..<k { dot += Int32(qw[i].q[j]) * Int32(qx[t].q[j]) }
                let s = qx[t].s * qw[i].s
                y[t * m + i] = s * Float(dot)
            }
        }
        return y
    }

    static func bitsEqual(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
    }

    // MARK: - Quantization

    @Test func quantizationByHand() {
        // amax 127 -> s = 1: halves round away from zero, values round to nearest.
        let x: [Float] = [127, -63.5, 0.5, -0.5, 1.5, -2.5, 0.49, 0, -127, 126.5, 3.2, -3.7]
        let expected: [Int8] = [127, -64, 1, -1, 2, -3, 0, 0, -127, 127, 3, -4]
        let m = x.withUnsafeBufferPointer { W8A8Matrix(rows: 1, columns: x.count, quantizing: $0.baseAddress!) }
        #expect(Array(UnsafeBufferPointer(start: m.values, count: x.count)) == expected)
        #expect(m.scales[0] == 1)
        // An all-zero row: scale 0, every q 0, dequantizes to zeros.
        let z = [Float](repeating: 0, count: 8)
        let mz = z.withUnsafeBufferPointer { W8A8Matrix(rows: 1, columns: 8, quantizing: $0.baseAddress!) }
        #expect(mz.scales[0] == 0)
        #expect(Array(UnsafeBufferPointer(start: mz.values, count: 8)) == [Int8](repeating: 0, count: 8))
        #expect(mz.dequantized() == z)
    }

    @Test func quantizationMatchesSwiftRule() {
        let (rows, k) = (14, 68)
        for extreme in [false, true] {
            let x = W8A8Tests.matrix(rows: rows, columns: k, seed: 11, extreme: extreme)
            let m = x.withUnsafeBufferPointer { W8A8Matrix(rows: rows, columns: k, quantizing: $0.baseAddress!) }
            for r in 0..<rows {
                let (q, s) = W8A8Tests.quantize(x[r * k..<(r + 1) * k])
                #expect(Array(UnsafeBufferPointer(start: m.values + r * k, count: k)) == q, "row \(r)")
                #expect(m.scales[r].bitPattern == s.bitPattern, "row \(r)")
                var d = [Float](repeating: 0, count: k)
                m.dequantizeRow(r, into: &d)
                #expect(d == q.map { Float($0) * s })
            }
        }
    }

    /// The activation quantizer of every path writes the rule's values (SIMD rounding and ties included).
    @Test(arguments: W8A8GEMMPlan.Path.supported)
    func activationQuantizer(path: W8A8GEMMPlan.Path) {
        for (n, k) in [(1, 4), (13, 20), (25, 68), (7, 260)] {
            for extreme in [false, true] {
                let x = W8A8Tests.matrix(rows: n, columns: k, seed: UInt64(n * 1000 + k), extreme: extreme)
                let act = UnsafeMutableRawPointer.allocate(byteCount: ckernels_w8a8_act_bytes(n, k), alignment: 64)
                defer { act.deallocate() }
                x.withUnsafeBufferPointer { xs in
                    ckernels_w8a8_act_quantize(path.cPath, 0, n / 2, n, k, xs.baseAddress!, k, act)
                    ckernels_w8a8_act_quantize(path.cPath, n / 2, n, n, k, xs.baseAddress!, k, act)
                }
                var q = [Int8](repeating: 0, count: k)
                var s: Float = 0
                for t in 0..<n {
                    ckernels_w8a8_act_unpack(n, k, act, t, &q, &s)
                    let (eq, es) = W8A8Tests.quantize(x[t * k..<(t + 1) * k])
                    #expect(q == eq, "\(path) n \(n) k \(k) token \(t)")
                    #expect(s.bitPattern == es.bitPattern)
                }
            }
        }
    }

    /// The packed layout's k chunks, as ckernels_w8a8.h documents them: 20 rows (two groups, the second
    /// padded) x 2052 k are chunks of 1024, 1024 and 4; chunk c holds group 0's segment, then group 1's;
    /// byte e of lane r of vector s is qw + 128.
    @Test func packedBytesSitWhereTheLayoutSays() throws {
        let (rows, k, groups, chunk) = (20, 2052, 2, Int(CKERNELS_W8A8_CHUNK))
        let w = W8A8Tests.matrix(rows: rows, columns: k, seed: 0xC5, extreme: false)
        let m = w.withUnsafeBufferPointer { W8A8Matrix(rows: rows, columns: k, quantizing: $0.baseAddress!) }
        let packed = try #require(m.packed)
        var wrong = 0
        for row in 0..<(16 * groups) {
            for j in 0..<k {
                let (g, r, c) = (row / 16, row % 16, j / chunk)
                let kc = min(chunk, k - c * chunk), local = j - c * chunk
                let offset = c * groups * 16 * chunk + g * 16 * kc + (local / 4) * 64 + r * 4 + local % 4
                let expected = row < rows ? UInt8(bitPattern: m.values[row * k + j]) ^ 0x80 : 0x80
                if packed.load(fromByteOffset: offset, as: UInt8.self) != expected { wrong += 1 }
            }
        }
        #expect(wrong == 0, "\(wrong) of \(16 * groups * k) packed bytes are not where the layout puts them")
        let scales = packed.advanced(by: groups * 16 * k).assumingMemoryBound(to: Float.self)
        #expect((0..<rows).allSatisfy { scales[$0] == m.scales[$0] } && (rows..<32).allSatisfy { scales[$0] == 0 })
    }

    // MARK: - Exactness

    /// Ragged M / N / K (K a multiple of 4), several thread counts: every path gives the reference's bits.
    @Test(arguments: W8A8GEMMPlan.Path.supported)
    func pathsAreBitExact(path: W8A8GEMMPlan.Path) {
        let shapes: [(m: Int, n: Int, k: Int)] = [
            (1, 1, 4), (15, 3, 12), (17, 8, 68), (33, 9, 260), (100, 33, 132), (64, 1, 4096), (48, 6, 36),
            (70, 7, 20), (31, 12, 44), (65, 13, 16), (129, 25, 100),
            // k chunks of the packed layout (1024): two full and a ragged one, GEMV and GEMM
            (35, 1, 2052), (21, 4, 1028), (18, 13, 2060),
        ]
        for (si, s) in shapes.enumerated() {
            for extreme in [false, true] {
                let w = W8A8Tests.matrix(rows: s.m, columns: s.k, seed: UInt64(2 * si + 1), extreme: extreme)
                let x = W8A8Tests.matrix(rows: s.n, columns: s.k, seed: UInt64(2 * si + 2), extreme: extreme)
                let expected = W8A8Tests.swiftReference(w: w, x: x, m: s.m, n: s.n, k: s.k)
                let weights = w.withUnsafeBufferPointer { W8A8Matrix(rows: s.m, columns: s.k, quantizing: $0.baseAddress!) }
                var cref = [Float](repeating: .nan, count: s.n * s.m)
                x.withUnsafeBufferPointer { weights.referenceProduct(x: $0.baseAddress!, tokens: s.n, y: &cref) }
                #expect(W8A8Tests.bitsEqual(cref, expected), "C reference m \(s.m) n \(s.n) k \(s.k)")
                for threads in [1, 2, 3] {
                    let plan = W8A8GEMMPlan(weights: weights, tokens: s.n, pool: WorkerPool(threadCount: threads), path: path)
                    var y = [Float](repeating: .nan, count: s.n * s.m)
                    for _ in 0..<2 {  // twice: buffers are reused
                        x.withUnsafeBufferPointer { xs in y.withUnsafeMutableBufferPointer { plan.run(x: xs.baseAddress!, y: $0.baseAddress!) } }
                        #expect(W8A8Tests.bitsEqual(y, expected), "\(path) m \(s.m) n \(s.n) k \(s.k) threads \(threads) extreme \(extreme)")
                    }
                }
            }
        }
    }

    /// Leading dimensions larger than the matrix: only the n x M block of Y is written.
    @Test(arguments: W8A8GEMMPlan.Path.supported)
    func leadingDimensions(path: W8A8GEMMPlan.Path) {
        let (m, n, k, ldx, ldy) = (40, 9, 24, 31, 45)
        let w = W8A8Tests.matrix(rows: m, columns: k, seed: 5)
        let xd = W8A8Tests.matrix(rows: n, columns: k, seed: 6)
        var x = [Float](repeating: 1e30, count: n * ldx)
        for t in 0..<n { for j in 0..<k { x[t * ldx + j] = xd[t * k + j] } }
        let expected = W8A8Tests.swiftReference(w: w, x: xd, m: m, n: n, k: k)
        let weights = w.withUnsafeBufferPointer { W8A8Matrix(rows: m, columns: k, quantizing: $0.baseAddress!) }
        let plan = W8A8GEMMPlan(weights: weights, tokens: n, pool: WorkerPool(threadCount: 2), path: path)
        var y = [Float](repeating: -7, count: n * ldy)
        x.withUnsafeBufferPointer { xs in y.withUnsafeMutableBufferPointer { plan.run(x: xs.baseAddress!, ldx: ldx, y: $0.baseAddress!, ldy: ldy) } }
        for t in 0..<n {
            #expect(W8A8Tests.bitsEqual(Array(y[t * ldy..<t * ldy + m]), Array(expected[t * m..<(t + 1) * m])))
            #expect(y[t * ldy + m..<(t + 1) * ldy].allSatisfy { $0 == -7 })
        }
    }

    /// The int32 extremes: K = 65536 (the documented maximum) with every |q| = 127, both signs; the
    /// AVX512 path's intermediate sum over (q_w + 128) reaches -255 * 127 * 65536 without overflow.
    @Test(arguments: W8A8GEMMPlan.Path.supported)
    func largestDots(path: W8A8GEMMPlan.Path) {
        let (m, n, k) = (17, 2, W8A8Matrix.maxColumns)
        var w = [Float](repeating: 1, count: m * k)
        for i in 0..<m where i % 2 == 1 { for j in 0..<k { w[i * k + j] = -1 } }
        var x = [Float](repeating: -2, count: n * k)
        for j in 0..<k { x[k + j] = 2 }
        let weights = w.withUnsafeBufferPointer { W8A8Matrix(rows: m, columns: k, quantizing: $0.baseAddress!) }
        let plan = W8A8GEMMPlan(weights: weights, tokens: n, pool: WorkerPool(threadCount: 1), path: path)
        var y = [Float](repeating: .nan, count: n * m)
        x.withUnsafeBufferPointer { xs in y.withUnsafeMutableBufferPointer { plan.run(x: xs.baseAddress!, y: $0.baseAddress!) } }
        let sw: Float = 1 / 127, sx: Float = 2 / 127
        let dot = Float(127 * 127 * k)
        for t in 0..<n {
            for i in 0..<m {
                let sign: Float = (i % 2 == 1) == (t == 0) ? 1 : -1
                #expect(y[t * m + i].bitPattern == ((sx * sw) * (sign * dot)).bitPattern, "t \(t) i \(i)")
            }
        }
    }

    // MARK: - Against Float64

    /// |y - y64| <= float64Bound * |y64| + absolute slack, where y64 is the Float64 product of the
    /// dequantized operands (exact products, Float64 sum): y = fl(fl(s_x s_w) · fl(dot)) carries three
    /// fp32 roundings (relative 2^-24 each), so 4 * 2^-24 covers them with room; the Float64 sum itself
    /// adds at most k * 2^-53 of sum |terms|.
    static let float64Bound = 4 * Double(Float.ulpOfOne) / 2

    @Test(arguments: W8A8GEMMPlan.Path.supported)
    func closeToFloat64(path: W8A8GEMMPlan.Path) {
        let (m, n, k) = (50, 33, 1028)
        let w = W8A8Tests.matrix(rows: m, columns: k, seed: 21)
        let x = W8A8Tests.matrix(rows: n, columns: k, seed: 22)
        let weights = w.withUnsafeBufferPointer { W8A8Matrix(rows: m, columns: k, quantizing: $0.baseAddress!) }
        let plan = W8A8GEMMPlan(weights: weights, tokens: n, pool: WorkerPool(threadCount: 2), path: path)
        var y = [Float](repeating: .nan, count: n * m)
        x.withUnsafeBufferPointer { xs in y.withUnsafeMutableBufferPointer { plan.run(x: xs.baseAddress!, y: $0.baseAddress!) } }
        let qx = (0..<n).map { W8A8Tests.quantize(x[$0 * k..<($0 + 1) * k]) }
        var worst = 0.0
        for t in 0..<n {
            for i in 0..<m {
                var sum = 0.0, mag = 0.0
                for j in 0..<k {
                    let a = Double(weights.values[i * k + j]) * Double(weights.scales[i])
                    let b = Double(qx[t].q[j]) * Double(qx[t].s)
                    sum += a * b
                    mag += abs(a * b)
                }
                let err = abs(Double(y[t * m + i]) - sum)
                let bound = W8A8Tests.float64Bound * abs(sum) + Double(k) * 0x1p-52 * mag + Double(Float.leastNonzeroMagnitude)
                #expect(err <= bound, "t \(t) i \(i): \(y[t * m + i]) vs \(sum)")
                if mag > 0 { worst = max(worst, err / mag) }
            }
        }
        #expect(worst < 1e-6)
    }

    @Test func planDescribesItself() {
        let w = [Float](repeating: 0.5, count: 32 * 8)
        let weights = w.withUnsafeBufferPointer { W8A8Matrix(rows: 32, columns: 8, quantizing: $0.baseAddress!) }
        for path in W8A8GEMMPlan.Path.supported {
            let plan = W8A8GEMMPlan(weights: weights, tokens: 3, pool: WorkerPool(threadCount: 2), path: path)
            #expect(plan.kernelPath.hasPrefix("w8a8 \(path.rawValue)"))
            #expect(plan.rowSlices == [0..<32, 32..<32])
        }
        #expect(W8A8GEMMPlan.Path.detect().isSupported)
        #expect(W8A8GEMMPlan.Path.supported.contains(.portable))
    }
    // MARK: - Timing (opt-in)

    /// Prints GOPS (2 M N K per call, quantization of X included) for the target shapes, 1 and 2 threads,
    /// interleaved. Opt-in: W8A8_BENCH=1 swift test -c release --filter W8A8Tests/benchmark.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["W8A8_BENCH"] != nil))
    func benchmark() {
        let (m, k) = (4096, 4096)
        let w = (0..<(m * k)).map { i in Float(Int((UInt64(i) &* 2654435761) % 255) - 127) / 127 }
        let weights = w.withUnsafeBufferPointer { W8A8Matrix(rows: m, columns: k, quantizing: $0.baseAddress!) }
        let pools = [WorkerPool(threadCount: 1), WorkerPool(threadCount: 2)]
        for n in [512, 1] {
            let x = (0..<(n * k)).map { i in Float(Int((UInt64(i) &* 40503) % 201) - 100) / 50 }
            var y = [Float](repeating: 0, count: n * m)
            let plans = pools.map { W8A8GEMMPlan(weights: weights, tokens: n, pool: $0) }
            var best = [Double](repeating: .infinity, count: plans.count)
            let reps = n == 1 ? 300 : 10
            for _ in 0..<reps {
                for (p, plan) in plans.enumerated() {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    x.withUnsafeBufferPointer { xs in y.withUnsafeMutableBufferPointer { plan.run(x: xs.baseAddress!, y: $0.baseAddress!) } }
                    best[p] = min(best[p], Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
                }
            }
            for (p, plan) in plans.enumerated() {
                let gops = 2.0 * Double(m * n * k) / best[p] * 1e-9
                print("w8a8 \(m)x\(n)x\(k) \(plan.kernelPath): best \(String(format: "%.1f", best[p] * 1e6)) us, \(String(format: "%.1f", gops)) GOPS")
            }
        }
    }
}
