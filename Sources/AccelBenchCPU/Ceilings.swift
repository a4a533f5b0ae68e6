import AccelBenchCore
import CKernels

/// One measured machine figure, with its unit, the method that produced it and its spread.
public struct Figure: Codable, Sendable, Equatable {
    /// Stable id, part of the output format (e.g. "fp32.fma.gflops.1t").
    public var id: String
    public var label: String
    /// The ceiling: the 95th percentile of the per-sample figures (interference from other processes
    /// only ever lowers a sample, so the upper samples are the machine's capability).
    public var value: Double
    public var unit: String
    public var method: String
    public var p5: Double?
    public var p95: Double?
    public var n: Int?
    public var stopReason: StopReason?
    public var threads: Int
}

/// The machine's measured ceilings and the nominal peak derived from the ISA and the measured clock.
public struct Ceilings: Codable, Sendable {
    public var cpu: CPUIdentity
    public var cores: Int
    /// Running clock from a dependent add chain (1 add per cycle), GHz.
    public var clock: Figure
    /// The FMA code path the compute ceilings used ("avx512", "avx2", "sse2").
    public var fmaPath: String
    public var fp32SingleCore: Figure
    public var fp32AllCores: Figure
    /// Measured fp32 FLOP per cycle per core: single-core GFLOPS / clock GHz.
    public var fp32FlopsPerCycleMeasured: Double
    public var fp32FlopsPerCycleNominal: Int
    public var nominalRule: String
    /// cores x nominal FLOP/cycle x measured clock, GFLOPS.
    public var fp32NominalPeakGFLOPS: Double
    public var bf16SingleCore: Figure?
    public var bf16AllCores: Figure?
    /// int8 dot throughput (vpdpbusd), GOPS (2 ops per multiply-add), where the CPU has AVX512-VNNI.
    public var int8SingleCore: Figure?
    public var int8AllCores: Figure?
    /// STREAM figures for 1 thread and all cores (GB/s by the STREAM byte rule).
    public var memory: [Figure]
    /// Elements per STREAM array (4x the last-level cache or more).
    public var streamElements: Int
    /// Figures that look disturbed (e.g. all cores slower than the cores alone would be), and what
    /// was done about them.
    public var warnings: [String] = []

    /// All-core figures below this fraction of cores x the 1-core figure are taken as disturbed by
    /// another process, and peak fractions use cores x the 1-core figure instead.
    public static let minimumPlausibleScaling = 0.75

    /// The all-core ceiling to judge cases against: the measured one, unless it is implausibly low.
    func allCores(_ one: Figure?, _ all: Figure?) -> Double? {
        guard let one else { return all?.value }
        let scaled = one.value * Double(cores)
        guard let all, all.value >= Ceilings.minimumPlausibleScaling * scaled else { return scaled }
        return all.value
    }

    /// Warnings for compute ceilings that did not scale with the cores.
    static func scalingWarnings(cores: Int, pairs: [(Figure?, Figure?)]) -> [String] {
        pairs.compactMap { one, all in
            guard let one, let all, cores > 1, all.value < minimumPlausibleScaling * one.value * Double(cores) else { return nil }
            return "\(all.label) (\(Format.number(all.value)) \(all.unit)) is below \(Int(minimumPlausibleScaling * 100))% of \(cores) x \(one.label) (\(Format.number(one.value))): probably disturbed by another process; % of peak for \(cores) threads uses \(cores) x the 1-core figure"
        }
    }

    /// The measured ceiling a case is judged against: the FMA (or bf16 dot) throughput for matmul, the
    /// read-only stream for memory-bound work; scaled linearly for thread counts between 1 and all.
    /// The ceiling a case's main throughput (in its workload's unit) is judged against.
    public func peak(for spec: CaseSpec) -> Peak? { peak(for: spec, unit: spec.workload.unit) }

    /// The ceiling a case's throughput in `unit` is judged against: compute for FLOPs (fp32 FMA, or the
    /// bf16 dot ceiling for bf16 matmul), the read-only stream for bytes.
    public func peak(for spec: CaseSpec, unit: ThroughputUnit) -> Peak? {
        let t = spec.threads
        func scaled(_ one: Figure?, _ all: Figure?, _ what: String, _ unit: ThroughputUnit, compute: Bool = true) -> Peak? {
            guard let one else { return nil }
            let value: Double
            if t >= cores, let all = compute ? allCores(one, all) : all?.value { value = all } else if t == 1 { value = one.value } else { value = one.value * Double(min(t, cores)) }
            return Peak(value: value, unit: unit, label: "measured \(what), \(t) thread\(t == 1 ? "" : "s")")
        }
        switch unit {
        case .gflops:
            if spec.workload == .qgemv || spec.workload == .qgemm {
                // Quantized kernels multiply int8 (vpdpbusd): judged against the int8 dot ceiling.
                return scaled(int8SingleCore, int8AllCores, "int8 dot (vpdpbusd) ceiling", .gflops)
            }
            return spec.workload == .matmul && spec.dtype == .bf16
                ? scaled(bf16SingleCore, bf16AllCores, "bf16 dot (vdpbf16ps) ceiling", .gflops)
                : scaled(fp32SingleCore, fp32AllCores, "fp32 FMA ceiling", .gflops)
        case .gbytesPerSecond:
            let read = memory.filter { $0.id.hasPrefix("memory.read.") }
            return scaled(
                read.first { $0.threads == 1 }, read.first { $0.threads == cores }, "read-only stream", .gbytesPerSecond,
                compute: false)
        case .tokensPerSecond:
            return nil
        }
    }
}

/// Measures the ceilings: clock, FMA and bf16 throughput per core and for all cores, STREAM.
public struct CeilingsProbe {
    public let measurer: Measurer
    public let cores: Int
    public let lastLevelCacheBytes: Int
    /// Bound worker pools by thread count (shared with the suite so threads are made once).
    public let pool: (Int) -> WorkerPool
    public var progress: (String) -> Void = { _ in }

    public init(measurer: Measurer, cores: Int, lastLevelCacheBytes: Int, pool: @escaping (Int) -> WorkerPool) {
        self.measurer = measurer
        self.cores = cores
        self.lastLevelCacheBytes = lastLevelCacheBytes
        self.pool = pool
    }

    /// STREAM array length: at least 4x the last-level cache (STREAM's rule), in whole MiB of doubles.
    public static func streamElements(lastLevelCacheBytes: Int) -> Int {
        let minimum = max(4 * lastLevelCacheBytes / 8, 1 << 20)
        return (minimum + (1 << 17) - 1) / (1 << 17) * (1 << 17)
    }

    public func measure() -> Ceilings {
        let cpu = CPUIdentity.detect()
        let bits = ckernels_cpu_features()
        progress("clock (dependent add chain)")
        let clock = measureClock()

        let fma: (path: String, flopsPerIteration: Double, kernel: @Sendable (UInt64) -> Float)
        if bits & UInt32(CKERNELS_FEAT_AVX512F) != 0 {
            fma = ("avx512", Double(CKERNELS_FMA_PEAK_AVX512_FLOPS_PER_ITERATION), { ckernels_fma_peak_avx512($0) })
        } else if bits & UInt32(CKERNELS_FEAT_AVX2) != 0 && bits & UInt32(CKERNELS_FEAT_FMA) != 0 {
            fma = ("avx2", Double(CKERNELS_FMA_PEAK_AVX2_FLOPS_PER_ITERATION), { ckernels_fma_peak_avx2($0) })
        } else {
            fma = ("sse2", Double(CKERNELS_FMA_PEAK_SSE_FLOPS_PER_ITERATION), { ckernels_fma_peak_sse($0) })
        }
        progress("fp32 FMA throughput (\(fma.path))")
        let method = "independent \(fma.path) FMA chains in registers, all lanes"
        let fp32One = throughput(
            id: "fp32.fma.gflops.1t", label: "fp32 FMA, 1 core", threads: 1, method: method,
            flopsPerIteration: fma.flopsPerIteration, kernel: fma.kernel)
        let fp32All = throughput(
            id: "fp32.fma.gflops.all", label: "fp32 FMA, \(cores) cores", threads: cores, method: method,
            flopsPerIteration: fma.flopsPerIteration, kernel: fma.kernel)

        var bf16One: Figure?, bf16All: Figure?
        if bits & UInt32(CKERNELS_FEAT_AVX512BF16) != 0 {
            progress("bf16 dot throughput (vdpbf16ps)")
            let per = Double(CKERNELS_BF16_DOT_PEAK_AVX512_FLOPS_PER_ITERATION)
            let bf16Method = "independent vdpbf16ps zmm chains (2 products per fp32 lane)"
            bf16One = throughput(
                id: "bf16.dot.gflops.1t", label: "bf16 dot, 1 core", threads: 1, method: bf16Method,
                flopsPerIteration: per, kernel: { ckernels_bf16_dot_peak_avx512($0) })
            bf16All = throughput(
                id: "bf16.dot.gflops.all", label: "bf16 dot, \(cores) cores", threads: cores, method: bf16Method,
                flopsPerIteration: per, kernel: { ckernels_bf16_dot_peak_avx512($0) })
        }

        var int8One: Figure?, int8All: Figure?
        if bits & UInt32(CKERNELS_FEAT_AVX512VNNI) != 0 && bits & UInt32(CKERNELS_FEAT_AVX512BW) != 0 {
            progress("int8 dot throughput (vpdpbusd)")
            let per = Double(CKERNELS_INT8_DOT_PEAK_AVX512VNNI_OPS_PER_ITERATION)
            let int8Method = "independent vpdpbusd zmm chains (u8 x s8, 4 products per int32 lane)"
            let kernel: @Sendable (UInt64) -> Float = { Float(ckernels_int8_dot_peak_avx512vnni($0)) }
            int8One = throughput(
                id: "int8.dot.gops.1t", label: "int8 dot, 1 core", threads: 1, method: int8Method,
                flopsPerIteration: per, kernel: kernel, unit: "GOPS")
            int8All = throughput(
                id: "int8.dot.gops.all", label: "int8 dot, \(cores) cores", threads: cores, method: int8Method,
                flopsPerIteration: per, kernel: kernel, unit: "GOPS")
        }

        let elements = CeilingsProbe.streamElements(lastLevelCacheBytes: lastLevelCacheBytes)
        var memory: [Figure] = []
        let runner = CaseRunner(measurer: measurer, lastLevelCacheBytes: lastLevelCacheBytes)
        for threads in Set([1, cores]).sorted() {
            for kernel in StreamKernel.allCases {
                progress("STREAM \(kernel.rawValue), \(threads) thread(s)")
                let spec = CaseSpec(
                    workload: .stream, backend: "c", dtype: .fp64, shape: .stream(kernel: kernel, elements: elements),
                    threads: threads)
                let result = runner.run(spec, on: StreamBackend(), pool: pool(threads))
                guard let t = result.throughput else { continue }
                memory.append(
                    Figure(
                        id: "memory.\(kernel.rawValue).gbps.\(threads == 1 ? "1t" : "all")",
                        label: "STREAM \(kernel.rawValue), \(threads) thread\(threads == 1 ? "" : "s")",
                        value: t.p95, unit: "GB/s",
                        method: "\(kernel.formula) over \(Shape.formatCount(elements)) doubles/array, STREAM bytes; p95 of samples",
                        p5: t.p5, p95: t.p95, n: t.n, stopReason: result.measurement?.stopReason, threads: threads))
            }
        }

        let nominal = cpu.nominalFP32FlopsPerCycle
        var ceilings = Ceilings(
            cpu: cpu, cores: cores, clock: clock, fmaPath: fma.path, fp32SingleCore: fp32One, fp32AllCores: fp32All,
            fp32FlopsPerCycleMeasured: fp32One.value / clock.value, fp32FlopsPerCycleNominal: nominal.flops,
            nominalRule: nominal.rule, fp32NominalPeakGFLOPS: Double(cores * nominal.flops) * clock.value,
            bf16SingleCore: bf16One, bf16AllCores: bf16All, memory: memory, streamElements: elements)
        ceilings.int8SingleCore = int8One
        ceilings.int8AllCores = int8All
        ceilings.warnings = Ceilings.scalingWarnings(
            cores: cores, pairs: [(fp32One, fp32All), (bf16One, bf16All), (int8One, int8All)])
        return ceilings
    }

    private func measureClock() -> Figure {
        let iterations: UInt64 = 2_000_000
        let adds = Double(iterations) * Double(CKERNELS_ADD_CHAIN_ADDS_PER_ITERATION)
        let workers = pool(1)
        let m = measurer.measure {
            workers.run { _ in _ = ckernels_add_chain(iterations) }
        }
        let ghz = m.secondsPerCall.map { adds / $0 / 1e9 }
        let s = Summary(ghz)
        return Figure(
            id: "clock.ghz", label: "running clock", value: s.p95, unit: "GHz",
            method: "dependent chain of \(Int(adds)) integer adds (1 cycle each) on one bound core; p95 of samples",
            p5: s.p5, p95: s.p95, n: s.n, stopReason: m.stopReason, threads: 1)
    }

    private func throughput(
        id: String, label: String, threads: Int, method: String, flopsPerIteration: Double,
        kernel: @escaping @Sendable (UInt64) -> Float, unit: String = "GFLOPS"
    ) -> Figure {
        let iterations: UInt64 = 200_000
        let workers = pool(threads)
        let m = measurer.measure {
            workers.run { _ in _ = kernel(iterations) }
        }
        let flops = flopsPerIteration * Double(iterations) * Double(threads)
        let s = Summary(m.secondsPerCall.map { flops / $0 / 1e9 })
        return Figure(
            id: id, label: label, value: s.p95, unit: unit, method: method + "; p95 of samples", p5: s.p5, p95: s.p95, n: s.n,
            stopReason: m.stopReason, threads: threads)
    }
}
