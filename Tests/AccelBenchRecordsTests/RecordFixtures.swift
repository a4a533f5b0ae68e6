import AccelBenchCore
import AccelBenchJSON
import Foundation

@testable import AccelBenchRecords

/// Small, self-consistent records for the tests: built the way the harness builds them (statistics from
/// the samples, digests, efficiency from work and energy, normalized by the rules, validity by the checks).
enum RecordFixtures {
    struct Case {
        var workload = "matmul"
        var shape = "512x512x512"
        var dtype = "fp32"
        var backend = "swift-simd"
        var threads = 2
        var unit = "gflops"
        var workKind = "flops"
        var samples: [Double] = [100, 101, 99, 100.5, 100.2, 99.8, 100.1, 99.9, 100.3, 100.4]
        var status = "passed"
        var peak: CapabilityRecord.Peak? = CapabilityRecord.Peak(value: 200, kind: "measured_ceiling", label: "measured fp32 FMA ceiling, 2 threads", profile: nil)
        /// Joules of the window per channel (nil: no power window).
        var energyJ: Double? = nil
    }

    /// Deterministic samples around `median` with a relative spread (a cosine, so no RNG is needed).
    static func samples(median: Double, spread: Double, count: Int, phase: Double = 0) -> [Double] {
        (0..<count).map { i in median * (1 + spread * cos(Double(i) * 2.399 + phase)) }
    }

    static func result(_ c: Case, id: String, windowID: String?) -> CapabilityRecord.Result {
        let workPerCall = c.workKind == "tokens" ? 128 : 2 * 512.0 * 512 * 512
        let passed = c.status == "passed"
        let samples = passed ? c.samples : []
        let stats = passed ? Summary(samples) : nil
        let callsPerSample = 40
        // Seconds per call from throughput: work / (GFLOPS * 1e9), or tokens / (tok/s).
        let scale = c.workKind == "tokens" ? 1.0 : 1e9
        let timed = samples.reduce(0) { $0 + workPerCall / ($1 * scale) } * Double(callsPerSample)
        return CapabilityRecord.Result(
            id: id, metric: "\(c.workload).\(c.dtype).\(c.unit)", workload: c.workload, shape: c.shape, dtype: c.dtype, backend: c.backend,
            threads: c.threads, kernelPath: "test kernel", deviceRefs: [], status: c.status, reason: passed ? nil : "incorrect output: test",
            workPerCall: workPerCall, workKind: c.workKind, workRule: "2MNK", unit: c.unit,
            throughput: stats.map {
                CapabilityRecord.Stats(
                    n: $0.n, median: $0.median, mean: $0.mean, min: $0.min, max: $0.max, p5: $0.p5, p25: $0.p25, p75: $0.p75, p95: $0.p95,
                    stddev: $0.stddev, cv: $0.cv, robustCv: $0.robustCV)
            },
            samples: samples, samplesDigest: passed ? try! RecordCoding.digest(canonical: samples) : nil,
            callsPerSample: passed ? callsPerSample : nil, warmupCalls: passed ? 3 : nil, timedSeconds: passed ? timed : nil,
            samplingSeconds: passed ? timed * 1.01 : nil, stopReason: passed ? "converged" : nil,
            correctness: CapabilityRecord.Correctness(
                reference: "fp64", metric: "max_rel_err", value: passed ? 1e-7 : 0.5, toleranceName: "fp32-accumulate 16·u·√K", tolerance: 1e-5,
                nmse: nil, nmseTolerance: nil, elementsChecked: 4096, nonFinite: 0, passed: passed),
            peak: passed ? c.peak : nil, peakFraction: passed ? c.peak.map { stats!.median / $0.value } : nil, secondary: nil,
            peakResidentBytes: 1 << 20, powerWindow: windowID)
    }

    /// A record of the given cases, its validity computed by the checks at `now`.
    static func record(_ cases: [Case] = [Case()], now: Date = Date(timeIntervalSince1970: 1_790_000_000)) -> CapabilityRecord {
        var results: [CapabilityRecord.Result] = []
        var windows: [CapabilityRecord.Window] = []
        var efficiency: [CapabilityRecord.Efficiency] = []
        for (i, c) in cases.enumerated() {
            let id = "r\(i + 1)"
            var windowID: String?
            if c.energyJ != nil, c.status == "passed" {
                windowID = "w\(windows.count + 1)"
            }
            let r = result(c, id: id, windowID: windowID)
            results.append(r)
            if let windowID, let joules = c.energyJ, let timed = r.timedSeconds {
                windows.append(CapabilityRecord.Window(
                    id: windowID, result: id, durationS: timed * 1.001,
                    channels: [
                        CapabilityRecord.Channel(
                            id: "rapl:package-0", method: "rapl", scope: "cpu_package", level: 1, quality: "in-band counter", quantity: "energy_counter",
                            energyJ: joules, avgW: joules / timed, durationS: timed * 1.001, readings: 12, sampleIntervalS: 0.1, wraps: 0, gaps: [],
                            comparable: true, detail: "powercap intel-rapl:0")
                    ], errors: [], telemetry: []))
                let work = r.workPerCall * Double(r.callsPerSample! * r.samples.count)
                let scale = r.workKind == "tokens" ? 1.0 : 1e-9
                efficiency.append(CapabilityRecord.Efficiency(
                    result: id, window: windowID, channel: "rapl:package-0", method: "rapl", scope: "cpu_package", level: 1,
                    unit: r.workKind == "tokens" ? "tokens_per_j" : r.workKind == "bytes" ? "gb_per_s_per_w" : "gflops_per_w",
                    value: work / joules * scale, windowWork: work, energyJ: joules, comparable: true))
            }
        }
        var record = CapabilityRecord(
            runId: "01890a5d-ac96-774b-bcce-b302099a8057",
            subject: CapabilityRecord.Subject(
                nodeId: RecordCoding.digest(Data("salt\nmachine".utf8)), nodeIdMethod: "sha256(salt || LF || /etc/machine-id)", nodeIdSalted: true,
                operatorName: "Example DC"),
            system: CapabilityRecord.SystemDescription(
                cpus: [
                    CapabilityRecord.CPU(
                        vendor: "AuthenticAMD", model: "AMD EPYC 9R14", arch: "x86_64", isaExtensions: ["avx2", "avx512f"], sockets: 1, cores: 2,
                        threads: 2, l1dBytes: 32768, l2Bytes: 1 << 20, l3Bytes: 32 << 20)
                ],
                memory: CapabilityRecord.Memory(capacityBytes: 24 << 30, numaNodes: 1), accelerators: [], links: [],
                topologySummary: "1 package(s), 2 cores", detectedBy: "hwloc 2.9.0"),
            provenance: CapabilityRecord.Provenance(
                harness: CapabilityRecord.Harness(name: "accelbench", version: "0.1.0", commit: "0123456789abcdef", dirty: false, compiler: "Swift >= 6.3", buildConfiguration: "release"),
                os: "Linux", distribution: "Debian GNU/Linux 12 (bookworm)", kernel: "6.1.0", software: [.init(name: "openblas", version: "0.3.21", kind: "library")],
                commandLine: ["accelbench", "run"], startedAt: "2026-09-21T10:00:00Z", finishedAt: "2026-09-21T10:05:00Z", suite: "quick", seed: "24301",
                suiteDigest: RecordCoding.digest(Data("suite".utf8)), configDigest: RecordCoding.digest(Data("config".utf8)),
                loadAverageStart: [0.1, 0.2, 0.3], loadAverageEnd: [1.0, 0.5, 0.3]),
            results: results,
            power: CapabilityRecord.Power(
                channelsAvailable: windows.isEmpty ? [] : ["rapl:package-0"], notes: [], sampleIntervalS: 0.1, idleSeconds: 2,
                idle: windows.isEmpty ? [] : [CapabilityRecord.IdleChannel(channel: "rapl:package-0", avgW: 20)], windows: windows),
            efficiency: efficiency,
            validity: CapabilityRecord.Validity(
                status: "valid", checks: [],
                protocolDescription: CapabilityRecord.ProtocolDescription(
                    warmupS: 0.1, minSamples: 10, minSeconds: 0.5, maxNoise: 0.02, timeoutS: 5, minSampleS: 0.002, threadsPinned: true, inputs: "seeded")),
            normalized: NormalizationRules.derive(results: results, efficiency: efficiency))
        record.validity.checks = RecordChecks.evaluate(record, now: now)
        record.validity.status = RecordChecks.status(of: record.validity.checks)
        return record
    }

    /// A few results of different kinds, with power on two of them.
    static func mixed() -> CapabilityRecord {
        var fp32 = Case()
        fp32.energyJ = 0.5
        var bf16 = Case()
        bf16.dtype = "bf16"
        bf16.samples = samples(median: 300, spread: 0.01, count: 12)
        bf16.peak = nil
        var stream = Case()
        stream.workload = "stream"
        stream.shape = "read:64M"
        stream.dtype = "fp64"
        stream.unit = "gb_per_s"
        stream.workKind = "bytes"
        stream.samples = samples(median: 40, spread: 0.02, count: 10)
        stream.energyJ = 0.2
        stream.peak = nil
        var llm = Case()
        llm.workload = "llm"
        llm.shape = "llama3-8b:tg128:d128"
        llm.dtype = "q4_0"
        llm.backend = "swift-llm"
        llm.unit = "tokens_per_s"
        llm.workKind = "tokens"
        llm.samples = samples(median: 6.4, spread: 0.01, count: 10)
        llm.peak = nil
        return record([fp32, bf16, stream, llm])
    }

    static let now = Date(timeIntervalSince1970: 1_790_000_000)
}
