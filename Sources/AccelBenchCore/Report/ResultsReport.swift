import Foundation

/// Renders case results as a table, Markdown, or CSV. Pure functions of the results.
public struct ResultsReport: Sendable {
    public let results: [CaseResult]

    /// The backend other results of the same case are compared with, by preference.
    public static let baselinePreference = ["openblas", "swift-simd"]

    /// The CSV columns scripts rely on come first, in this order; more follow.
    public static let csvColumns = [
        "workload", "backend", "dtype", "shape", "threads", "median", "unit", "p5", "p95", "cv",
        "peak_fraction", "correct",
        "status", "kernel_path", "n", "stop_reason", "robust_cv", "ratio", "ratio_baseline", "error_metric",
        "error", "tolerance_name", "tolerance", "peak", "peak_label", "work_rule", "reason",
        "secondary_median", "secondary_unit", "secondary_p5", "secondary_p95", "secondary_peak_fraction",
        "secondary_peak_label", "secondary_rule", "peak_rss_bytes",
        "efficiency", "efficiency_unit", "energy_j", "avg_w", "idle_w", "power_channel", "power_method", "power_scope",
        "power_quality", "power_comparable", "power_samples", "power_interval_s", "power_gaps",
        "projection_profile", "projection_bound", "projection_seconds", "projection_bytes", "projection_bytes_rule",
        "projection_efficiency",
        "paired_fraction", "paired_fraction_low95", "paired_fraction_high95", "paired_reference_median",
        "paired_reference_unit", "paired_pairs", "paired_reference",
    ]

    public init(results: [CaseResult]) {
        self.results = results
    }

    /// For each passed result that has a passed baseline with the same comparison key (and is not the
    /// baseline itself): its median throughput divided by the baseline's.
    public func ratios() -> [Int: (ratio: Double, baseline: String)] {
        var groups: [String: [Int]] = [:]
        for (i, r) in results.enumerated() where r.status == .passed {
            groups[r.spec.comparisonKey, default: []].append(i)
        }
        var out: [Int: (Double, String)] = [:]
        for indices in groups.values where indices.count > 1 {
            let backends = indices.map { results[$0].spec.backend }
            let baseline = ResultsReport.baselinePreference.first(where: backends.contains) ?? backends[0]
            guard let b = indices.first(where: { results[$0].spec.backend == baseline }),
                let base = results[b].medianThroughput, base > 0
            else { continue }
            for i in indices where i != b {
                if let value = results[i].medianThroughput { out[i] = (value / base, baseline) }
            }
        }
        return out
    }

    public func table() -> TextTable {
        // Memory traffic of cases judged by it too (decode attention), when any are present.
        let showSecondary = results.contains { $0.secondary != nil }
        // Throughput per watt, when any case has a power window: the headline channel (best quality,
        // widest scope) with its method and scope, "estimated" spelled out.
        let showEnergy = results.contains { $0.energy != nil }
        // Kernels timed in alternation with a reference (cold GEMV against a read of its weights).
        let showPaired = results.contains { $0.paired != nil }
        var table = TextTable(header: [
            "workload", "backend", "dtype", "shape", "thr", "median", "p5-p95", "cv", "%peak", "vs", "correct",
            "stop",
        ] + (showSecondary ? ["memory (%read ceiling)"] : []) + (showPaired ? ["paired: kernel/reference [95% CI]"] : [])
            + (showEnergy ? ["per watt (method scope)"] : []))
        let ratios = ratios()
        for (i, r) in results.enumerated() {
            let s = r.spec
            var row = [s.workload.rawValue, s.backend, s.workload.dtypeLabel(s.dtype), s.shape.description, "\(s.threads)"]
            switch r.status {
            case .passed:
                let t = r.throughput!
                row += [
                    "\(Format.number(t.median)) \(r.unit.rawValue)",
                    "\(Format.number(t.p5))-\(Format.number(t.p95))",
                    Format.percent(t.cv),
                    r.peakFraction.map { Format.percent($0) } ?? "-",
                    ratios[i].map { String(format: "%.2fx %@", $0.ratio, $0.baseline) } ?? "-",
                    r.correctness.map { String(format: "ok %.1e", $0.value) } ?? "-",
                    r.measurement?.stopReason.rawValue ?? "-",
                ]
            case .failed:
                row += ["FAILED", "-", "-", "-", "-", "no", "-"]
            case .skipped:
                row += ["skipped", "-", "-", "-", "-", "-", "-"]
            case .projected:
                // Not a measurement: the median cell, the correct and stop columns all say so.
                let p = r.projection
                row += [
                    p.map { "\(Format.number($0.throughput)) \(r.unit.rawValue) projected" } ?? "projected",
                    "-", "-",
                    r.peakFraction.map { "\(Format.percent($0)) \(p?.profile ?? "")" } ?? "-",
                    "-", "projected", "projected",
                ]
            }
            if showSecondary {
                if let m = r.secondary {
                    row.append("\(Format.number(m.throughput.median)) \(m.unit.rawValue)" + (m.peakFraction.map { " (\(Format.percent($0)))" } ?? ""))
                } else {
                    row.append("-")
                }
            }
            if showPaired {
                row.append(r.status == .passed ? r.paired.map(ResultsReport.pairedCell) ?? "-" : "-")
            }
            if showEnergy {
                row.append(r.energy.map(ResultsReport.efficiencyCell) ?? "-")
            }
            table.append(row)
        }
        return table
    }

    /// "12.3 GFLOPS/W (rapl cpu_package, 85 W)"; estimates say so; a window without a valid energy
    /// names its first gap.
    static func efficiencyCell(_ window: EnergyWindow) -> String {
        guard let c = window.headline, let e = c.efficiency, let unit = c.efficiencyUnit else {
            let why = window.channels.first?.gaps.first ?? window.errors.first ?? "no valid energy"
            return "no figure: \(why)"
        }
        let watts = c.averageWatts.map { ", \(Format.number($0)) W" } ?? ""
        let estimated = c.comparable ? "" : "; ESTIMATED, not measured"
        return "\(Format.number(e)) \(unit) (\(c.method) \(c.scope)\(watts)\(estimated))"
    }

    /// "92.3% [90.1-94.0%] of 34.12 GB/s": the median per-pair ratio, its 95% interval, and the
    /// reference's median throughput.
    static func pairedCell(_ p: PairedComparison) -> String {
        let interval = p.ratioLow95.flatMap { low in
            p.ratioHigh95.map { " [\(String(format: "%.1f", low * 100))-\(Format.percent($0))]" }
        } ?? ""
        return "\(Format.percent(p.ratio.median))\(interval) of \(Format.number(p.reference.median)) \(p.unit.rawValue)"
    }

    static func energyFields(_ c: EnergyChannel?) -> [String] {
        guard let c else { return Array(repeating: "", count: 13) }
        return [
            c.efficiency.map(Format.plain) ?? "", c.efficiencyUnit ?? "", c.joules.map(Format.plain) ?? "",
            c.averageWatts.map(Format.plain) ?? "", c.idleWatts.map(Format.plain) ?? "", c.id, c.method, c.scope,
            c.quality, c.comparable ? "true" : "false", "\(c.readings)", Format.plain(c.sampleIntervalSeconds),
            c.gaps.joined(separator: "; "),
        ]
    }

    static func pairedFields(_ p: PairedComparison?) -> [String] {
        guard let p else { return Array(repeating: "", count: 7) }
        return [
            Format.plain(p.ratio.median), p.ratioLow95.map(Format.plain) ?? "", p.ratioHigh95.map(Format.plain) ?? "",
            Format.plain(p.reference.median), p.unit.rawValue, "\(p.ratio.n)", p.label,
        ]
    }

    /// Reasons for failed and skipped cases, and how each projection was made, one line each, to print
    /// under the table.
    public func notes() -> [String] {
        results.compactMap { r in
            if r.status == .projected, let p = r.projection {
                return "projected (not measured): \(r.spec): \(p.explanation)"
            }
            guard r.status != .passed, let reason = r.reason else { return nil }
            return "\(r.status.rawValue): \(r.spec): \(reason)"
        }
    }

    public func csv() -> String {
        var lines = [ResultsReport.csvColumns.joined(separator: ",")]
        let ratios = ratios()
        for (i, r) in results.enumerated() {
            let s = r.spec
            let t = r.throughput
            let p = r.projection
            let fields: [String] = [
                s.workload.rawValue, s.backend, s.workload.dtypeLabel(s.dtype), s.shape.description, "\(s.threads)",
                t.map { Format.plain($0.median) } ?? p.map { Format.plain($0.throughput) } ?? "", r.unit.rawValue,
                t.map { Format.plain($0.p5) } ?? "", t.map { Format.plain($0.p95) } ?? "",
                t.map { Format.plain($0.cv) } ?? "",
                r.peakFraction.map(Format.plain) ?? "",
                r.status == .skipped || r.status == .projected ? "" : (r.status == .passed ? "true" : "false"),
                r.status.rawValue, r.kernelPath ?? "", t.map { "\($0.n)" } ?? "",
                r.measurement?.stopReason.rawValue ?? (r.status == .projected ? "projected" : ""), t.map { Format.plain($0.robustCV) } ?? "",
                ratios[i].map { Format.plain($0.ratio) } ?? "", ratios[i]?.baseline ?? "",
                r.correctness?.metric ?? "", r.correctness.map { Format.plain($0.value) } ?? "",
                r.correctness?.toleranceName ?? "", r.correctness.map { Format.plain($0.tolerance) } ?? "",
                r.peak.map { Format.plain($0.value) } ?? "", r.peak?.label ?? "", r.work.rule, r.reason ?? "",
                r.secondary.map { Format.plain($0.throughput.median) } ?? "", r.secondary?.unit.rawValue ?? "",
                r.secondary.map { Format.plain($0.throughput.p5) } ?? "", r.secondary.map { Format.plain($0.throughput.p95) } ?? "",
                r.secondary?.peakFraction.map(Format.plain) ?? "", r.secondary?.peak?.label ?? "",
                r.secondary?.work.rule ?? "", r.peakResidentBytes.map { "\($0)" } ?? "",
            ] + ResultsReport.energyFields(r.energy?.headline) + [
                p?.profile ?? "", p?.bound.rawValue ?? "", p.map { Format.plain($0.seconds) } ?? "",
                p.map { Format.plain($0.bytes) } ?? "", p?.bytesRule ?? "",
                p.map { "compute \(Format.plain($0.efficiency.compute)), bandwidth \(Format.plain($0.efficiency.bandwidth))" } ?? "",
            ] + ResultsReport.pairedFields(r.status == .passed ? r.paired : nil)
            lines.append(fields.map(Format.csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Number formatting shared by the text formats.
public enum Format {
    /// Three significant digits for small numbers, one decimal above 100.
    public static func number(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        let magnitude = abs(value)
        if magnitude >= 100 { return String(format: "%.1f", value) }
        if magnitude >= 10 { return String(format: "%.2f", value) }
        if magnitude >= 0.01 || magnitude == 0 { return String(format: "%.3f", value) }
        return String(format: "%.3g", value)
    }

    /// A fraction printed as a percentage.
    public static func percent(_ fraction: Double) -> String {
        String(format: "%.1f%%", fraction * 100)
    }

    /// Round-trippable number for machine-readable outputs.
    public static func plain(_ value: Double) -> String {
        value.isFinite ? "\(value)" : ""
    }

    public static func bytes(_ value: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(value)
        var i = 0
        while v >= 1024 && i < units.count - 1 {
            v /= 1024
            i += 1
        }
        return i == 0 ? "\(value) B" : (v == v.rounded() ? String(format: "%.0f %@", v, units[i]) : String(format: "%.1f %@", v, units[i]))
    }

    public static func csvField(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return field }
        return "\"" + field.replacingAll("\"", with: "\"\"") + "\""
    }
}
