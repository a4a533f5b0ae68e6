/// The rules that derive a record's `normalized` block from its results. A pure function of the
/// results and efficiency entries: the checker derives the block again and compares.
///
/// Rules `accelbench-normalized-2026.1`:
/// - only passed results count, and only measured ones (a record holds no projections), and only
///   those whose sampling is sound: robust CV <= 0.30 and >= 0.2 s of timed calls (the checker's
///   default result-quality limits, fixed here so the rules never depend on a checker's flags);
/// - FP16 "intelligent compute" is the best median of the fp16 matmul results, dense (2·M·N·K, no credit
///   for fast algorithms), in TFLOPS; BF16 is reported beside it and never substituted for it;
/// - general compute is the best fp32 matmul median, TFLOPS;
/// - INT8 is the best w8a8 qgemm median (integer multiply-adds counted as 2 ops), TOPS;
///   int8 figures are never converted into "FP16-equivalent" numbers;
/// - memory bandwidth is the best stream median, GB/s (STREAM byte rule);
/// - tokens/s: every passed llm result (model, test, dtype, threads);
/// - efficiency: for each figure above, its result's efficiency entries, the comparable ones first,
///   then the highest measurement level, then the widest scope.
public enum NormalizationRules {
    public static let rulesVersion = "accelbench-normalized-2026.1"
    /// The sampling a result needs to count (see the rules above).
    public static let maxRobustCV = 0.30
    public static let minTimedSeconds = 0.2

    public static func derive(results: [CapabilityRecord.Result], efficiency: [CapabilityRecord.Efficiency]) -> CapabilityRecord.Normalized {
        let passed = results.filter {
            $0.status == "passed" && $0.throughput != nil && $0.throughput!.robustCv <= maxRobustCV && ($0.timedSeconds ?? 0) >= minTimedSeconds
        }

        func best(_ rule: String, scale: Double, absent: String, _ include: (CapabilityRecord.Result) -> Bool) -> CapabilityRecord.Figure {
            // Highest median; ties go to the earlier result, so the choice is stable.
            var chosen: CapabilityRecord.Result?
            for r in passed where include(r) {
                if chosen == nil || r.throughput!.median > chosen!.throughput!.median { chosen = r }
            }
            guard let chosen else { return CapabilityRecord.Figure(value: nil, derivedFrom: nil, rule: rule, absentReason: absent) }
            return CapabilityRecord.Figure(value: chosen.throughput!.median * scale, derivedFrom: chosen.id, rule: rule, absentReason: nil)
        }

        let fp16 = best(
            "best median of passed fp16 matmul results (dense, 2MNK), GFLOPS / 1000", scale: 1e-3,
            absent: "no passed fp16 matmul result in this record") { $0.workload == "matmul" && $0.dtype == "fp16" }
        let bf16 = best(
            "best median of passed bf16 matmul results (dense, 2MNK), GFLOPS / 1000", scale: 1e-3,
            absent: "no passed bf16 matmul result in this record") { $0.workload == "matmul" && $0.dtype == "bf16" }
        let fp32 = best(
            "best median of passed fp32 matmul results (dense, 2MNK), GFLOPS / 1000", scale: 1e-3,
            absent: "no passed fp32 matmul result in this record") { $0.workload == "matmul" && $0.dtype == "fp32" }
        let int8 = best(
            "best median of passed w8a8 qgemm results (int8 x int8 -> int32, 2MNK ops), GOPS / 1000", scale: 1e-3,
            absent: "no passed w8a8 qgemm result in this record") { $0.workload == "qgemm" && $0.dtype == "w8a8" }
        let memory = best(
            "best median of passed stream results (STREAM byte rule), GB/s", scale: 1,
            absent: "no passed stream result in this record") { $0.workload == "stream" }

        var llm: [CapabilityRecord.LLMFigure] = []
        for r in passed where r.workload == "llm" && r.unit == "tokens_per_s" {
            let parts = r.shape.split(separator: ":", maxSplits: 1).map(String.init)
            llm.append(CapabilityRecord.LLMFigure(
                model: parts[0], test: parts.count > 1 ? parts[1] : r.shape, dtype: r.dtype, threads: r.threads,
                value: r.throughput!.median, derivedFrom: r.id))
        }

        let scopeOrder = ["node_wall", "node", "chassis", "accelerator_board", "platform", "cpu_package", "cpu_cores", "dram"]
        var figures: [CapabilityRecord.EfficiencyFigure] = []
        let named: [(String, CapabilityRecord.Figure)] = [
            ("intelligent_compute_fp16_dense_tflops", fp16), ("intelligent_compute_bf16_dense_tflops", bf16),
            ("general_compute_fp32_tflops", fp32), ("int8_dense_tops", int8), ("memory_bandwidth_gb_per_s", memory),
        ] + llm.map { ("llm_tokens_per_s:\($0.model):\($0.test):\($0.dtype):\($0.threads)T", CapabilityRecord.Figure(value: $0.value, derivedFrom: $0.derivedFrom, rule: "", absentReason: nil)) }
        for (name, figure) in named {
            guard let source = figure.derivedFrom else { continue }
            let candidates = efficiency.filter { $0.result == source }
            let chosen = candidates.min { a, b in
                if a.comparable != b.comparable { return a.comparable }
                if a.level != b.level { return a.level > b.level }
                let ia = scopeOrder.firstIndex(of: a.scope) ?? scopeOrder.count
                let ib = scopeOrder.firstIndex(of: b.scope) ?? scopeOrder.count
                if ia != ib { return ia < ib }
                return a.channel < b.channel
            }
            if let chosen {
                figures.append(CapabilityRecord.EfficiencyFigure(
                    figure: name, value: chosen.value, unit: chosen.unit, method: chosen.method, scope: chosen.scope,
                    comparable: chosen.comparable, derivedFrom: source))
            }
        }
        return CapabilityRecord.Normalized(
            rulesVersion: rulesVersion, basis: "measured", intelligentComputeFp16DenseTflops: fp16,
            intelligentComputeBf16DenseTflops: bf16, generalComputeFp32Tflops: fp32, int8DenseTops: int8,
            memoryBandwidthGbPerS: memory, llmTokensPerS: llm, efficiency: figures)
    }
}
