import AccelBenchCore
import AccelBenchJSON
import Foundation

/// Limits the semantic checks hold a record to. The harness writes its own verdict with these
/// defaults; `accelbench verify` recomputes with the same (or the flags' values).
public struct CheckThresholds: Codable, Sendable, Equatable {
    /// Largest robust CV (IQR / (1.349 x median)) of a passed result's samples. 0.30 by default: the
    /// record is sound evidence (its median means something) on a shared machine; certification holds
    /// results to its own, tighter limit per SKU (0.10 built in).
    public var maxNoise: Double
    /// Least seconds of timed calls behind a passed result.
    public var minTimedSeconds: Double
    /// Relative tolerance when efficiency is recomputed from work and energy.
    public var efficiencyTolerance: Double
    /// A measured median above this multiple of a nominal (datasheet) peak is implausible.
    public var nominalPeakFactor: Double
    /// How far in the future a record's finish time may be (clock skew), seconds.
    public var clockSkewSeconds: Double

    public init(
        maxNoise: Double = 0.30, minTimedSeconds: Double = 0.2, efficiencyTolerance: Double = 0.01, nominalPeakFactor: Double = 1.05,
        clockSkewSeconds: Double = 300
    ) {
        self.maxNoise = maxNoise
        self.minTimedSeconds = minTimedSeconds
        self.efficiencyTolerance = efficiencyTolerance
        self.nominalPeakFactor = nominalPeakFactor
        self.clockSkewSeconds = clockSkewSeconds
    }
}

/// The semantic checks of a record, each with a stable id (CHECK or CHECK:ITEM):
///
/// | id | what |
/// |---|---|
/// | `ids.unique` | result, window and efficiency ids are unique |
/// | `refs.resolve` | every result, window and derived_from reference names something in the record |
/// | `time.ordered` | started_at <= finished_at |
/// | `time.not_future` | finished_at <= now + clock skew |
/// | `correctness.passed:rN` | a measured result's output matched its float64 reference within its tolerance |
/// | `samples.digest:rN` | samples_digest is the SHA-256 of the canonical samples |
/// | `stats.recompute:rN` | the throughput statistics follow from the samples |
/// | `noise.threshold:rN` | robust CV <= max noise |
/// | `duration.minimum:rN` | seconds of timed calls >= the minimum |
/// | `plausibility.nominal_peak:rN` | median <= 1.05 x a nominal (datasheet) peak |
/// | `power.window_covers_result:rN` | the result's power window lasted at least its timed calls |
/// | `throttle.none:rN` | no throttle reason in the window's telemetry |
/// | `efficiency.recompute:eN` | efficiency = window work / energy, within 1 % |
/// | `normalized.rederive` | the normalized block is what the rules derive from the results |
public enum RecordChecks {
    public static func evaluate(_ record: CapabilityRecord, thresholds: CheckThresholds = CheckThresholds(), now: Date = Date()) -> [CapabilityRecord.Check] {
        typealias Check = CapabilityRecord.Check
        var checks: [Check] = []

        // Identity and references.
        let resultIDs = record.results.map(\.id)
        let windowIDs = record.power.windows.map(\.id)
        var duplicates = Set<String>()
        for list in [resultIDs, windowIDs] {
            var seen = Set<String>()
            for id in list where !seen.insert(id).inserted { duplicates.insert(id) }
        }
        checks.append(Check(
            id: "ids.unique", passed: duplicates.isEmpty,
            note: duplicates.isEmpty ? nil : "duplicate ids: \(duplicates.sorted().joined(separator: ", "))"))
        let results = Dictionary(record.results.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let windows = Dictionary(record.power.windows.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var dangling: [String] = []
        for r in record.results { if let w = r.powerWindow, windows[w] == nil { dangling.append("\(r.id).power_window \(w)") } }
        for w in record.power.windows where results[w.result] == nil { dangling.append("\(w.id).result \(w.result)") }
        for (i, e) in record.efficiency.enumerated() {
            if results[e.result] == nil { dangling.append("efficiency[\(i)].result \(e.result)") }
            if windows[e.window] == nil { dangling.append("efficiency[\(i)].window \(e.window)") }
        }
        let n = record.normalized
        for figure in [n.intelligentComputeFp16DenseTflops, n.intelligentComputeBf16DenseTflops, n.generalComputeFp32Tflops, n.int8DenseTops, n.memoryBandwidthGbPerS] {
            if let id = figure.derivedFrom, results[id] == nil { dangling.append("normalized derived_from \(id)") }
        }
        for f in n.llmTokensPerS where results[f.derivedFrom] == nil { dangling.append("normalized llm derived_from \(f.derivedFrom)") }
        checks.append(Check(id: "refs.resolve", passed: dangling.isEmpty, note: dangling.isEmpty ? nil : "unresolved: " + dangling.prefix(10).joined(separator: "; ")))

        // Times.
        let started = parseTime(record.provenance.startedAt)
        let finished = parseTime(record.provenance.finishedAt)
        if let started, let finished {
            checks.append(Check(
                id: "time.ordered", passed: started <= finished, value: finished.timeIntervalSince(started), threshold: 0,
                note: started <= finished ? nil : "finished_at is before started_at"))
            let ahead = finished.timeIntervalSince(now)
            checks.append(Check(
                id: "time.not_future", passed: ahead <= thresholds.clockSkewSeconds, value: ahead, threshold: thresholds.clockSkewSeconds,
                note: ahead <= thresholds.clockSkewSeconds ? nil : "finished_at is \(Int(ahead)) s in the future"))
        } else {
            checks.append(Check(id: "time.ordered", passed: false, note: "started_at or finished_at is not an RFC 3339 UTC time"))
        }

        // Results.
        for r in record.results where r.status != "skipped" {
            if let c = r.correctness {
                let recomputed = c.nonFinite == 0 && c.value.isFinite && c.value <= c.tolerance
                    && (c.nmse == nil || c.nmseTolerance == nil || c.nmse! <= c.nmseTolerance!)
                let ok = c.passed && recomputed && r.status == "passed"
                checks.append(Check(
                    id: "correctness.passed:\(r.id)", passed: ok, value: c.value, threshold: c.tolerance,
                    note: ok ? nil : r.status == "failed" ? "failed: \(r.reason ?? "no reason given")" : "the error exceeds the tolerance \(c.toleranceName)"))
            } else {
                checks.append(Check(
                    id: "correctness.passed:\(r.id)", passed: false,
                    note: r.status == "failed" ? "failed: \(r.reason ?? "no reason given")" : "no correctness check recorded"))
            }
            guard r.status == "passed" else { continue }
            guard let stats = r.throughput, !r.samples.isEmpty else {
                checks.append(Check(id: "stats.recompute:\(r.id)", passed: false, note: "a passed result without samples or statistics"))
                continue
            }
            let digestOK = (try? RecordCoding.digest(canonical: r.samples)) == r.samplesDigest
            checks.append(Check(id: "samples.digest:\(r.id)", passed: digestOK, note: digestOK ? nil : "samples_digest does not match the samples"))
            let recomputed = Summary(r.samples)
            let statsOK = recomputed.n == stats.n && close(recomputed.median, stats.median) && close(recomputed.p5, stats.p5)
                && close(recomputed.p95, stats.p95) && close(recomputed.robustCV, stats.robustCv) && close(recomputed.mean, stats.mean)
            checks.append(Check(
                id: "stats.recompute:\(r.id)", passed: statsOK, value: stats.median,
                note: statsOK ? nil : "the statistics do not follow from the samples (recomputed median \(recomputed.median))"))
            checks.append(Check(
                id: "noise.threshold:\(r.id)", passed: stats.robustCv <= thresholds.maxNoise, value: stats.robustCv,
                threshold: thresholds.maxNoise))
            let timed = r.timedSeconds ?? 0
            checks.append(Check(
                id: "duration.minimum:\(r.id)", passed: timed >= thresholds.minTimedSeconds, value: timed, threshold: thresholds.minTimedSeconds))
            if let peak = r.peak, peak.kind == "nominal_profile" {
                let limit = thresholds.nominalPeakFactor * peak.value
                checks.append(Check(
                    id: "plausibility.nominal_peak:\(r.id)", passed: stats.median <= limit, value: stats.median, threshold: limit,
                    note: stats.median <= limit ? nil : "measured above \(thresholds.nominalPeakFactor) x the nominal peak of \(peak.profile ?? peak.label)"))
            }
            if let w = r.powerWindow, let window = windows[w] {
                let ok = window.result == r.id && window.durationS >= timed * 0.999
                checks.append(Check(
                    id: "power.window_covers_result:\(r.id)", passed: ok, value: window.durationS, threshold: timed,
                    note: ok ? nil : window.result != r.id ? "window \(w) belongs to \(window.result)" : "the window is shorter than the timed calls"))
                let throttled = window.telemetry.flatMap(\.values).filter { v in
                    v.name.contains("throttle") && !["", "0", "0x0", "none", "false"].contains(v.value.lowercased())
                }
                if window.telemetry.contains(where: { $0.values.contains { $0.name.contains("throttle") } }) {
                    checks.append(Check(
                        id: "throttle.none:\(r.id)", passed: throttled.isEmpty,
                        note: throttled.isEmpty ? nil : "throttled: " + throttled.prefix(3).map { "\($0.name)=\($0.value)" }.joined(separator: ", ")))
                }
            }
        }

        // Efficiency.
        for (i, e) in record.efficiency.enumerated() {
            guard let r = results[e.result] else { continue }
            let scale = r.workKind == "tokens" ? 1.0 : 1e-9
            let expected = e.windowWork / e.energyJ * scale
            var ok = abs(expected - e.value) <= thresholds.efficiencyTolerance * abs(expected)
            var note: String? = ok ? nil : "recomputed \(expected) \(e.unit) from window work and energy, record says \(e.value)"
            if let calls = r.callsPerSample {
                let work = r.workPerCall * Double(calls * r.samples.count)
                if abs(work - e.windowWork) > 1e-9 * work {
                    ok = false
                    note = "window_work \(e.windowWork) is not work_per_call x calls (\(work))"
                }
            }
            if let window = windows[e.window], let channel = window.channels.first(where: { $0.id == e.channel }) {
                if let joules = channel.energyJ, abs(joules - e.energyJ) > 1e-9 * joules {
                    ok = false
                    note = "energy_j differs from channel \(e.channel)'s energy in \(e.window)"
                }
                if e.comparable && !channel.comparable {
                    ok = false
                    note = "marked comparable, but channel \(e.channel) is not"
                }
            } else {
                ok = false
                note = "channel \(e.channel) is not in window \(e.window)"
            }
            if e.method == "estimate" && e.comparable {
                ok = false
                note = "an estimate is never comparable"
            }
            checks.append(Check(
                id: "efficiency.recompute:e\(i + 1)", passed: ok, value: e.value, threshold: thresholds.efficiencyTolerance, note: note))
        }

        // Normalized.
        let derived = NormalizationRules.derive(results: record.results, efficiency: record.efficiency)
        let sameRules = record.normalized.rulesVersion == NormalizationRules.rulesVersion
        let normalizedOK = !sameRules || derived == record.normalized
        checks.append(Check(
            id: "normalized.rederive", passed: normalizedOK,
            note: !sameRules ? "rules \(record.normalized.rulesVersion) are not known to this checker: not rederived"
                : normalizedOK ? nil : "the normalized block is not what \(NormalizationRules.rulesVersion) derives from the results"))
        return checks
    }

    /// Checks about one result's sampling quality: a failure flags that result (the record is then
    /// `partial` and normalized figures leave the result out) rather than making the record invalid.
    public static let resultQualityPrefixes = ["noise.threshold:", "duration.minimum:"]

    public static func isResultQuality(_ id: String) -> Bool {
        resultQualityPrefixes.contains { id.hasPrefix($0) }
    }

    /// The record's verdict from its checks (certification checks included): `valid` when all pass,
    /// `partial` when only result-quality checks fail (those results are flagged), else `invalid`.
    public static func status(of checks: [CapabilityRecord.Check]) -> String {
        let failed = checks.filter { !$0.passed }
        if failed.isEmpty { return "valid" }
        return failed.allSatisfy { isResultQuality($0.id) } ? "partial" : "invalid"
    }

    /// valid < partial < invalid.
    public static func severity(_ status: String) -> Int {
        switch status {
        case "valid": 0
        case "partial": 1
        default: 2
        }
    }

    static func close(_ a: Double, _ b: Double) -> Bool {
        a == b || abs(a - b) <= 1e-9 * max(abs(a), abs(b))
    }

    /// Parses an RFC 3339 UTC time as records write it.
    public static func parseTime(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let d = formatter.date(from: text) { return d }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}
