import AccelBenchCore
import Testing

@testable import AccelBenchKernels

/// The fused prefill kernel against the float64 `AttentionReference`, on every ISA this machine runs.
///
/// Every element of O is checked (O is poisoned with NaN before the call, so an element left unwritten
/// fails). Error measure per element: |o - ref| / (magnitude + tiny), where magnitude = Σ_j p_j·|v_j|
/// for that column (the scale of the fp32 P·V accumulation; `AttentionReference.Row.magnitude`).
/// Tolerance `relativeTolerance` = 1e-5: the largest error seen on these shapes is 3.3e-7 (fp32 dot
/// products over d <= 256, exp2 with ~2e-7 relative error), NMSE 6e-14; a wrong mask, a missing or
/// doubled key, or a bad rescale is off by orders of magnitude more. The NMSE Σ(o - ref)² / Σ ref²
/// must stay under `nmseTolerance` = 1e-10.
@Suite struct AttentionPrefillTests {
    static let relativeTolerance = 1e-5
    static let nmseTolerance = 1e-10
    static let tiny = 1e-30

    struct Case: CustomStringConvertible {
        var geometry: AttentionGeometry
        /// Inputs: Q uniform in ±qScale, K in ±kScale, V in ±1.
        var qScale: Float = 1
        var kScale: Float = 1
        var threads = 1
        var rowsPerItem: Int? = nil
        var headsPerItem: Int? = nil
        var blockKeys: Int? = nil
        var description: String {
            "\(geometry) \(geometry.kvType) q±\(qScale) k±\(kScale) \(threads)T"
                + " rows \(rowsPerItem.map(String.init) ?? "-") heads \(headsPerItem.map(String.init) ?? "-")"
                + " bc \(blockKeys.map(String.init) ?? "-")"
        }
    }

    struct Outcome {
        var maxRelative = 0.0
        var nmse = 0.0
        var unwritten = 0
    }

    /// Runs the plan on seeded inputs and compares every element with the reference.
    static func check(_ c: Case, isa: CPUISA, seed: UInt64 = 7) -> Outcome {
        let g = c.geometry
        var gen = SeededGenerator(seed: seed)
        var q = [Float](repeating: 0, count: g.queryElements)
        for i in q.indices { q[i] = gen.nextSignedUnitFloat() * c.qScale }
        var kf = [Float](repeating: 0, count: g.kvElements)
        var vf = [Float](repeating: 0, count: g.kvElements)
        for i in kf.indices { kf[i] = gen.nextSignedUnitFloat() * c.kScale }
        for i in vf.indices { vf[i] = gen.nextSignedUnitFloat() }
        var kBytes: [UInt8]
        var vBytes: [UInt8]
        switch g.kvType {
        case .fp32:
            kBytes = kf.withUnsafeBytes { Array($0) }
            vBytes = vf.withUnsafeBytes { Array($0) }
        case .fp16:
            kBytes = kf.map { Float16($0).bitPattern }.withUnsafeBytes { Array($0) }
            vBytes = vf.map { Float16($0).bitPattern }.withUnsafeBytes { Array($0) }
        }
        var o = [Float](repeating: .nan, count: g.queryElements)
        let pool = WorkerPool(threadCount: c.threads)
        let plan = AttentionPrefillPlan(
            geometry: g, isa: isa, pool: pool,
            rowsPerItem: c.rowsPerItem, headsPerItem: c.headsPerItem, blockKeys: c.blockKeys)
        var outcome = Outcome()
        q.withUnsafeBufferPointer { qp in
            kBytes.withUnsafeBytes { kp in
                vBytes.withUnsafeBytes { vp in
                    o.withUnsafeMutableBufferPointer { op in
                        plan.run(q: qp.baseAddress!, k: kp.baseAddress!, v: vp.baseAddress!, o: op.baseAddress!)
                        var scores = [Double](repeating: 0, count: g.kvLength)
                        var errorSquares = 0.0, refSquares = 0.0
                        scores.withUnsafeMutableBufferPointer { sp in
                            for b in 0..<g.batch {
                                for h in 0..<g.heads {
                                    for i in 0..<g.queryLength {
                                        let ref = AttentionReference.row(
                                            g, q: qp.baseAddress!, k: kp.baseAddress!, v: vp.baseAddress!,
                                            batch: b, head: h, row: i, scores: sp.baseAddress!)
                                        let base = ((b * g.heads + h) * g.queryLength + i) * g.headDim
                                        for col in 0..<g.headDim {
                                            let x = Double(op[base + col])
                                            if x.isNaN { outcome.unwritten += 1; continue }
                                            let diff = abs(x - ref.values[col])
                                            outcome.maxRelative = max(outcome.maxRelative, diff / (ref.magnitude[col] + tiny))
                                            errorSquares += diff * diff
                                            refSquares += ref.values[col] * ref.values[col]
                                        }
                                    }
                                }
                            }
                        }
                        outcome.nmse = errorSquares / max(refSquares, tiny)
                    }
                }
            }
        }
        return outcome
    }

    static func expectAccurate(_ c: Case, isa: CPUISA, sourceLocation: SourceLocation = #_sourceLocation) {
        let r = check(c, isa: isa)
        #expect(r.unwritten == 0, "\(isa) \(c): \(r.unwritten) elements unwritten", sourceLocation: sourceLocation)
        #expect(r.maxRelative <= relativeTolerance, "\(isa) \(c): max relative error \(r.maxRelative)",
                sourceLocation: sourceLocation)
        #expect(r.nmse <= nmseTolerance, "\(isa) \(c): NMSE \(r.nmse)", sourceLocation: sourceLocation)
    }

    static func geometry(
        b: Int = 1, h: Int = 2, kvh: Int = 2, q: Int, kv: Int, d: Int = 64, causal: Bool = false,
        type: AttentionGeometry.KVType = .fp32
    ) -> AttentionGeometry {
        AttentionGeometry(batch: b, heads: h, kvHeads: kvh, queryLength: q, kvLength: kv, headDim: d,
                          causal: causal, kvType: type)
    }

    static let isas = CPUISA.supportedISAs

    @Test(arguments: isas) func kvLengthOne(isa: CPUISA) {
        Self.expectAccurate(Case(geometry: Self.geometry(q: 1, kv: 1)), isa: isa)
        Self.expectAccurate(Case(geometry: Self.geometry(q: 5, kv: 1)), isa: isa)
        Self.expectAccurate(Case(geometry: Self.geometry(q: 1, kv: 1, causal: true)), isa: isa)
    }

    @Test(arguments: isas) func raggedQueryAndKVLengths(isa: CPUISA) {
        // Not multiples of the tile (16/48 queries, 4/8 keys) nor of the blocks.
        Self.expectAccurate(Case(geometry: Self.geometry(q: 37, kv: 53)), isa: isa)
        Self.expectAccurate(Case(geometry: Self.geometry(q: 101, kv: 75), blockKeys: 16), isa: isa)
        Self.expectAccurate(Case(geometry: Self.geometry(h: 1, kvh: 1, q: 130, kv: 131, causal: true),
                                 rowsPerItem: 50, blockKeys: 24), isa: isa)
    }

    @Test(arguments: isas) func headDims(isa: CPUISA) {
        for d in [16, 64, 80, 96, 128, 256] {
            Self.expectAccurate(Case(geometry: Self.geometry(h: 1, kvh: 1, q: 21, kv: 40, d: d)), isa: isa)
            Self.expectAccurate(Case(geometry: Self.geometry(h: 1, kvh: 1, q: 21, kv: 40, d: d, causal: true)), isa: isa)
        }
    }

    @Test(arguments: isas) func allEqualLogits(isa: CPUISA) {
        // Q = 0: every score is 0, P is uniform and O is the mean of the visible V rows.
        Self.expectAccurate(Case(geometry: Self.geometry(q: 30, kv: 70), qScale: 0), isa: isa)
        Self.expectAccurate(Case(geometry: Self.geometry(q: 30, kv: 70, causal: true), qScale: 0), isa: isa)
    }

    @Test(arguments: isas) func veryLargeLogits(isa: CPUISA) {
        // Scores around ±1e6..1e7: exp must see scores minus the running max, never the raw score.
        Self.expectAccurate(Case(geometry: Self.geometry(q: 40, kv: 90), qScale: 1000, kScale: 1000), isa: isa)
        Self.expectAccurate(
            Case(geometry: Self.geometry(q: 40, kv: 90, causal: true), qScale: 1000, kScale: 1000, blockKeys: 16),
            isa: isa)
        Self.expectAccurate(
            Case(geometry: Self.geometry(q: 40, kv: 90, type: .fp16), qScale: 1000, kScale: 1000), isa: isa)
    }

    @Test(arguments: isas) func causalFirstRowSeesOneKey(isa: CPUISA) {
        // q == kv: row 0 sees key 0 only, so O[row 0] = V[0] (up to fp32 rounding).
        let g = Self.geometry(h: 1, kvh: 1, q: 50, kv: 50, causal: true)
        Self.expectAccurate(Case(geometry: g), isa: isa)
        var gen = SeededGenerator(seed: 3)
        let q = (0..<g.queryElements).map { _ in gen.nextSignedUnitFloat() * 30 }
        let k = (0..<g.kvElements).map { _ in gen.nextSignedUnitFloat() * 30 }
        let v = (0..<g.kvElements).map { _ in gen.nextSignedUnitFloat() }
        var o = [Float](repeating: .nan, count: g.queryElements)
        let plan = AttentionPrefillPlan(geometry: g, isa: isa, pool: WorkerPool(threadCount: 1))
        q.withUnsafeBufferPointer { qp in
            k.withUnsafeBytes { kp in
                v.withUnsafeBytes { vp in
                    o.withUnsafeMutableBufferPointer { op in
                        plan.run(q: qp.baseAddress!, k: kp.baseAddress!, v: vp.baseAddress!, o: op.baseAddress!)
                    }
                }
            }
        }
        #expect(Array(o[0..<g.headDim]) == Array(v[0..<g.headDim]))
    }

    @Test(arguments: isas) func causalBottomRight(isa: CPUISA) {
        // q < kv: row i sees kv - q + i + 1 keys (decode-like rows against a longer cache).
        Self.expectAccurate(Case(geometry: Self.geometry(q: 20, kv: 150, causal: true)), isa: isa)
        Self.expectAccurate(Case(geometry: Self.geometry(q: 1, kv: 77, causal: true)), isa: isa)
        Self.expectAccurate(Case(geometry: Self.geometry(q: 70, kv: 133, causal: true), blockKeys: 32), isa: isa)
    }

    @Test(arguments: isas) func groupedQueryAttention(isa: CPUISA) {
        for kvh in [8, 2, 1] {  // group sizes 1, 4, 8
            Self.expectAccurate(Case(geometry: Self.geometry(h: 8, kvh: kvh, q: 19, kv: 33)), isa: isa)
            Self.expectAccurate(Case(geometry: Self.geometry(h: 8, kvh: kvh, q: 19, kv: 33, causal: true)), isa: isa)
            // Several heads per work item, and a ragged last head group.
            Self.expectAccurate(Case(geometry: Self.geometry(h: 8, kvh: kvh, q: 19, kv: 33, causal: true),
                                     headsPerItem: 3), isa: isa)
        }
    }

    @Test(arguments: isas) func halfPrecisionKV(isa: CPUISA) {
        Self.expectAccurate(Case(geometry: Self.geometry(q: 45, kv: 61, type: .fp16)), isa: isa)
        Self.expectAccurate(Case(geometry: Self.geometry(q: 45, kv: 61, d: 80, causal: true, type: .fp16),
                                 blockKeys: 16), isa: isa)
        Self.expectAccurate(Case(geometry: Self.geometry(h: 4, kvh: 1, q: 33, kv: 33, causal: true, type: .fp16),
                                 headsPerItem: 4), isa: isa)
    }

    @Test(arguments: isas) func batchAndThreads(isa: CPUISA) {
        for threads in [1, 2] {
            Self.expectAccurate(Case(geometry: Self.geometry(b: 2, h: 4, kvh: 2, q: 60, kv: 60), threads: threads),
                                isa: isa)
            Self.expectAccurate(Case(geometry: Self.geometry(b: 3, h: 2, kvh: 1, q: 70, kv: 90, causal: true),
                                     threads: threads, rowsPerItem: 16, blockKeys: 32), isa: isa)
        }
    }

    @Test func unsupportedHeadDim() {
        let g = Self.geometry(q: 4, kv: 4, d: 72)
        #expect(AttentionPrefillPlan.unsupportedReason(g)
                == "head dim 72 is not a multiple of 16; use backend reference or openblas")
        #expect(AttentionPrefillPlan.unsupportedReason(Self.geometry(q: 4, kv: 4, d: 80)) == nil)
    }

    @Test func planDescribesItself() {
        let g = Self.geometry(q: 100, kv: 100, d: 128, type: .fp16)
        let plan = AttentionPrefillPlan(geometry: g, isa: .portable, pool: WorkerPool(threadCount: 2))
        #expect(plan.kernelPath.hasPrefix("fused portable"))
        #expect(plan.scratchBytes > 0)
        // Per-worker scratch does not depend on the sequence lengths.
        let long = Self.geometry(q: 100_000, kv: 100_000, d: 128, type: .fp16)
        let longPlan = AttentionPrefillPlan(geometry: long, isa: .portable, pool: WorkerPool(threadCount: 2))
        #expect(longPlan.scratchBytes == plan.scratchBytes)
    }
}
