import AccelBenchCore

extension Ceilings {
    /// Human-readable summary: every figure with unit, spread and method.
    public func renderTable() -> String {
        var table = TextTable(header: ["ceiling", "value", "p5-p95", "method"])
        func add(_ f: Figure?) {
            guard let f else { return }
            let spread = f.p5.flatMap { p5 in f.p95.map { "\(Format.number(p5))-\(Format.number($0))" } } ?? "-"
            table.append([f.label, "\(Format.number(f.value)) \(f.unit)", spread, f.method])
        }
        add(clock)
        add(fp32SingleCore)
        add(fp32AllCores)
        add(bf16SingleCore)
        add(bf16AllCores)
        add(int8SingleCore)
        add(int8AllCores)
        for f in memory { add(f) }
        var lines = [table.render()]
        lines.append(
            "fp32 FLOP/cycle/core: measured \(Format.number(fp32FlopsPerCycleMeasured)), nominal \(fp32FlopsPerCycleNominal) (\(nominalRule))")
        lines.append(
            "nominal fp32 peak: \(cores) cores x \(fp32FlopsPerCycleNominal) FLOP/cycle x \(Format.number(clock.value)) GHz (measured clock) = \(Format.number(fp32NominalPeakGFLOPS)) GFLOPS; measured \(Format.number(fp32AllCores.value)) GFLOPS"
        )
        lines += warnings.map { "warning: \($0)" }
        if let mhz = cpu.reportedMHz {
            lines.append("/proc/cpuinfo reports \(Format.number(mhz)) MHz; the running clock above is what the cores did")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
