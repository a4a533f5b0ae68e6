import AccelBenchCore
import Foundation

/// One result matched between a base record and a new one.
public struct ResultComparison: Sendable, Equatable {
    public enum Verdict: String, Sendable, Equatable, CaseIterable {
        /// No change worth the name: not significant and under the minimum change, or significant but tiny.
        case same
        case faster
        case slower
        /// The medians moved by more than the minimum change, but the rank test cannot tell it from noise.
        case ambiguous
        /// Fewer than `MannWhitney.minimumSamples` samples on a side: medians shown, no verdict.
        case tooFewSamples = "too_few_samples"
        /// Passed in the base, failed (wrong output or error) in the new record: a regression.
        case nowFailing = "now_failing"
        /// Failed in the base, passes now.
        case nowPassing = "now_passing"
        /// Present in the base only, or in the new record only.
        case missing
        case added
        /// Skipped or failed on both sides.
        case notMeasured = "not_measured"

        /// What makes `compare` exit with 3.
        public var isRegression: Bool { self == .slower || self == .nowFailing }
    }

    public var key: String
    public var workload: String
    public var shape: String
    public var dtype: String
    public var backend: String
    public var threads: Int
    public var unit: String
    public var baseMedian: Double?
    public var newMedian: Double?
    public var baseSamples: Int
    public var newSamples: Int
    /// new median / base median (above 1: faster, throughput being higher-is-better).
    public var ratio: Double?
    public var test: MannWhitneyResult?
    public var verdict: Verdict
    public var note: String
}

/// Matches results of two records by workload, shape, dtype, backend and threads and classifies each
/// change with a two-sided Mann-Whitney U test on the stored per-sample throughputs.
public struct RecordComparison: Sendable {
    /// Significance level of the rank test.
    public var alpha: Double
    /// The least relative change of the median that counts as faster or slower (0.02 = 2 %).
    public var minimumChange: Double

    public init(alpha: Double = 0.05, minimumChange: Double = 0.02) {
        self.alpha = alpha
        self.minimumChange = minimumChange
    }

    public func compare(base: CapabilityRecord, new: CapabilityRecord) -> [ResultComparison] {
        var newByKey: [String: CapabilityRecord.Result] = [:]
        for r in new.results where newByKey[r.matchKey] == nil { newByKey[r.matchKey] = r }
        var seen = Set<String>()
        var out: [ResultComparison] = []
        for b in base.results where seen.insert(b.matchKey).inserted {
            out.append(compare(b, newByKey[b.matchKey]))
        }
        for n in new.results where seen.insert(n.matchKey).inserted {
            var c = comparison(n, verdict: .added, note: "only in the new record")
            c.newMedian = n.throughput?.median
            c.newSamples = n.samples.count
            c.baseSamples = 0
            out.append(c)
        }
        return out
    }

    func comparison(_ r: CapabilityRecord.Result, verdict: ResultComparison.Verdict, note: String) -> ResultComparison {
        ResultComparison(
            key: r.matchKey, workload: r.workload, shape: r.shape, dtype: r.dtype, backend: r.backend, threads: r.threads, unit: r.unit,
            baseMedian: nil, newMedian: nil, baseSamples: 0, newSamples: 0, ratio: nil, test: nil, verdict: verdict, note: note)
    }

    func compare(_ b: CapabilityRecord.Result, _ n: CapabilityRecord.Result?) -> ResultComparison {
        guard let n else {
            var c = comparison(b, verdict: .missing, note: "only in the base record")
            c.baseMedian = b.throughput?.median
            c.baseSamples = b.samples.count
            return c
        }
        var c = comparison(b, verdict: .same, note: "")
        c.baseMedian = b.throughput?.median
        c.newMedian = n.throughput?.median
        c.baseSamples = b.samples.count
        c.newSamples = n.samples.count
        let basePassed = b.status == "passed" && b.throughput != nil
        let newPassed = n.status == "passed" && n.throughput != nil
        switch (basePassed, newPassed) {
        case (true, false):
            c.verdict = .nowFailing
            c.note = "\(n.status) in the new record" + (n.reason.map { ": \($0)" } ?? "")
            return c
        case (false, true):
            c.verdict = .nowPassing
            c.note = "\(b.status) in the base record" + (b.reason.map { ": \($0)" } ?? "")
            return c
        case (false, false):
            c.verdict = .notMeasured
            c.note = "base \(b.status), new \(n.status)"
            return c
        case (true, true):
            break
        }
        guard b.unit == n.unit else {
            c.verdict = .notMeasured
            c.note = "units differ (\(b.unit) vs \(n.unit))"
            return c
        }
        let baseMedian = b.throughput!.median
        let newMedian = n.throughput!.median
        let ratio = newMedian / baseMedian
        c.ratio = ratio
        guard b.samples.count >= MannWhitney.minimumSamples && n.samples.count >= MannWhitney.minimumSamples else {
            c.verdict = .tooFewSamples
            c.note = "the rank test needs >= \(MannWhitney.minimumSamples) samples per side; base has \(b.samples.count), new \(n.samples.count)"
            return c
        }
        guard let test = MannWhitney.test(n.samples, b.samples) else {
            c.verdict = .notMeasured
            c.note = "the samples cannot be ranked"
            return c
        }
        c.test = test
        let change = ratio - 1
        let p = String(format: "%.3g", test.pValue)
        if test.pValue < alpha {
            if abs(change) < minimumChange {
                c.verdict = .same
                c.note = "significant (p = \(p)) but under the \(String(format: "%.1f%%", minimumChange * 100)) minimum change"
            } else {
                c.verdict = change > 0 ? .faster : .slower
                c.note = "p = \(p)"
            }
        } else if abs(change) < minimumChange {
            c.verdict = .same
            c.note = "p = \(p)"
        } else {
            c.verdict = .ambiguous
            c.note = "median moved \(Self.percent(change)) but p = \(p) >= \(alpha): rerun with more samples (--suite full)"
        }
        return c
    }

    /// A signed change in percent, e.g. "+12.5%" or "-3.0%".
    static func percent(_ x: Double) -> String { String(format: "%+.1f%%", x * 100) }
}
