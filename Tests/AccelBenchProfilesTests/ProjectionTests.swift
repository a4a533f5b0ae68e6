import AccelBenchCPU
import AccelBenchCore
import Foundation
import Testing
@testable import AccelBenchCLI
@testable import AccelBenchProfiles

@Suite struct ProjectionTests {
    static let chip = ChipProfile(
        id: "test-chip", vendor: "Test", model: "T1", stack: "CUDA",
        peakTFLOPS: ChipProfile.Peaks(fp32: 50, fp16: 400, bf16: 400, int8: 800), memory: ChipProfile.Memory(bandwidthGBps: 2000),
        confidence: "low", source: "a test")

    func run(_ spec: CaseSpec, _ backend: ProfileBackend = ProfileBackend(profile: chip)) -> CaseResult {
        let runner = CaseRunner(measurer: Measurer(rule: .quick))
        return runner.run(spec, on: backend, pool: WorkerPool(threadCount: 1))
    }

    /// 4096³ bf16 matmul: 2·4096³ FLOPs at 400 TFLOPS x 0.7 against (3·4096²·2) B at 2000 GB/s x 0.8:
    /// compute-bound.
    @Test func aLargeMatmulIsComputeBound() throws {
        let spec = CaseSpec(workload: .matmul, backend: "profile:test-chip", dtype: .bf16, shape: .matmul(m: 4096, n: 4096, k: 4096), threads: 1)
        let r = run(spec)
        let p = try #require(r.projection)
        let flops = 2.0 * 4096 * 4096 * 4096
        let bytes = 3.0 * 4096 * 4096 * 2
        #expect(r.status == .projected)
        #expect(p.bound == .compute && p.peakDType == "bf16" && p.computePeakTFLOPS == 400)
        #expect(abs(p.computeSeconds - flops / (400e12 * 0.7)) < 1e-15)
        #expect(abs(p.memorySeconds - bytes / (2000e9 * 0.8)) < 1e-15)
        #expect(p.seconds == p.computeSeconds && p.bytes == bytes)
        // GFLOPS = 0.7 x 400 TFLOPS; % of the profile's peak = the efficiency.
        #expect(abs(p.throughput - 280_000) < 1e-6)
        #expect(abs(r.peakFraction! - 0.7) < 1e-12)
        #expect(r.peak?.label.contains("profile test-chip dense bf16 peak") == true)
        // No samples, nothing checked: never a measurement.
        #expect(r.measurement == nil && r.throughput == nil && r.seconds == nil && r.correctness == nil && r.medianThroughput == nil)
    }

    /// Llama-3-8B decode at 8192 tokens of fp16 KV: 2·8·8192·128·2 B of K and V against 4·32·8193·128
    /// FLOPs (roughly): memory-bound.
    @Test func decodeAttentionIsBandwidthBound() throws {
        let shape = try AttentionShape.parse("llama3-8b:decode8192")
        let spec = CaseSpec(workload: .attention, backend: "profile:test-chip", dtype: .fp16, shape: .attention(shape), threads: 1)
        let p = try #require(run(spec).projection)
        let bytes = 2.0 * Double(shape.queryElements) * 4 + 2.0 * 8 * 8192 * 128 * 2
        #expect(p.bound == .memory && p.bytes == bytes)
        #expect(abs(p.seconds - bytes / (2000e9 * 0.8)) < 1e-15)
        #expect(p.peakDType == "fp16")
    }

    @Test func efficiencyIsAStatedParameter() throws {
        let backend = ProfileBackend(profile: Self.chip, efficiency: try ProjectionEfficiency.parse("0.5,1"))
        let spec = CaseSpec(workload: .stream, backend: "profile:test-chip", dtype: .fp64, shape: .stream(kernel: .triad, elements: 1 << 20), threads: 1)
        let r = run(spec, backend)
        let p = try #require(r.projection)
        #expect(p.bound == .memory && p.flops == 0 && p.computePeakTFLOPS == nil)
        #expect(abs(p.throughput - 2000) < 1e-9)  // GB/s at 100 % of the bandwidth
        #expect(abs(r.peakFraction! - 1) < 1e-12)
        #expect(throws: AccelBenchError.self) { try ProjectionEfficiency.parse("1.5") }
        #expect(throws: AccelBenchError.self) { try ProjectionEfficiency.parse("0") }
    }

    @Test func aDTypeWithoutAPeakIsSkippedWithTheReason() {
        let spec = CaseSpec(workload: .qgemv, backend: "profile:test-chip", dtype: .q4_0, shape: .quantized(m: 4096, n: 1, k: 4096, residency: .cold), threads: 1)
        let r = run(spec)
        #expect(r.status == .skipped && r.reason == "profile test-chip has no int4 peak" && r.projection == nil)
        let q8 = CaseSpec(workload: .qgemv, backend: "profile:test-chip", dtype: .q8_0, shape: .quantized(m: 4096, n: 1, k: 4096, residency: .cold), threads: 1)
        let p = run(q8).projection
        let weights: Double = 4096 * 4096 * 34 / 32
        let activations: Double = (4096 + 4096) * 4
        #expect(p?.bound == .memory)
        #expect(p?.bytes == weights + activations)
    }

    @Test func aProfileWithoutBandwidthSkipsWithTheReason() throws {
        let c500 = try ProfileCatalog.load().named("metax-c500")
        let spec = CaseSpec(workload: .matmul, backend: "profile:metax-c500", dtype: .bf16, shape: .matmul(m: 64, n: 64, k: 64), threads: 1)
        let r = run(spec, ProfileBackend(profile: c500))
        #expect(r.status == .skipped && r.reason == "profile metax-c500 has no memory bandwidth")
    }

    @Test func llmProjectsWeightBytesPerTokenStep() throws {
        let backend = ProfileBackend(profile: Self.chip, modelCost: ProfileOptions.modelCost)
        let tg = CaseSpec(workload: .llm, backend: backend.name, dtype: .q8_0, shape: .llm(try LLMShape.parse("llama3-8b:tg16")), threads: 1)
        let p = try #require(run(tg, backend).projection)
        let cost = try #require(ProfileOptions.modelCost(try LLMShape.parse("llama3-8b:tg16"), .q8_0))
        #expect(p.bound == .memory && p.bytes == 16 * cost.weightBytes)
        // About 8 GB of q8_0 weights per step at 1600 GB/s effective: ~200 tok/s.
        #expect(p.throughput > 150 && p.throughput < 250, "\(p.throughput)")
    }

    @Test func projectedResultsAreLabelledInEveryFormat() throws {
        let spec = CaseSpec(workload: .matmul, backend: "profile:test-chip", dtype: .fp32, shape: .matmul(m: 1024, n: 1024, k: 1024), threads: 1)
        let r = run(spec)
        let report = ResultsReport(results: [r])
        let table = report.table().render()
        #expect(table.contains("projected"))
        let row = try #require(table.split(separator: "\n").last)
        #expect(row.contains("GFLOPS projected") && row.contains("test-chip"))
        let csv = report.csv().split(separator: "\n")
        let header = csv[0].split(separator: ",", omittingEmptySubsequences: false)
        let fields = Self.csvFields(String(csv[1]))
        #expect(fields.count == header.count)
        let field = { (name: String) in fields[header.firstIndex(of: Substring(name))!] }
        #expect(field("status") == "projected" && field("correct") == "" && field("n") == "" && field("stop_reason") == "projected")
        #expect(field("projection_profile") == "test-chip" && field("projection_bound") == "compute")
        #expect(report.notes().first?.hasPrefix("projected (not measured)") == true)
        let json = String(decoding: try JSONEncoder().encode(r), as: UTF8.self)
        #expect(json.contains("\"status\":\"projected\"") && !json.contains("\"measurement\""))
    }
}

extension ProjectionTests {
    /// Splits one CSV line (RFC 4180 quoting).
    static func csvFields(_ line: String) -> [String] {
        var fields: [String] = [], current = "", quoted = false
        var chars = Array(line)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" { current.append("\""); chars = chars.dropFirst() } else { quoted = false }
                } else {
                    current.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                fields.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        fields.append(current)
        return fields
    }
}

@Suite(.serialized) struct ProfileCommandLineTests {
    @Test func profilesCommands() {
        #expect(AccelBench.main(arguments: ["profiles", "list"]) == 0)
        #expect(AccelBench.main(arguments: ["profiles", "list", "--vendor", "huawei", "--format", "json"]) == 0)
        #expect(AccelBench.main(arguments: ["profiles", "list", "--stack", "MUSA"]) == 0)
        #expect(AccelBench.main(arguments: ["profiles", "show", "ascend-910b2"]) == 0)
        #expect(AccelBench.main(arguments: ["profiles", "show", "ascend-910b2", "--format", "json"]) == 0)
        #expect(AccelBench.main(arguments: ["profiles", "show", "ascend-9999"]) == ExitStatus.usageError.rawValue)
        #expect(AccelBench.main(arguments: ["profiles", "list", "--profile-path", "/nonexistent/dir"]) == ExitStatus.usageError.rawValue)
        #expect(AccelBench.main(arguments: ["run", "--backend", "profile:no-such-chip", "--quiet"]) == ExitStatus.usageError.rawValue)
        #expect(AccelBench.main(arguments: ["coverage", "--backend", "profile:no-such-chip"]) == ExitStatus.usageError.rawValue)
        #expect(AccelBench.main(arguments: ["run", "--backend", "profile:ascend-910b2", "--projection-efficiency", "2"]) == ExitStatus.usageError.rawValue)
    }

    /// The acceptance line: the quick suite projected on the 910B2, every result labelled, none measured.
    @Test func runQuickSuiteOnAProfile() throws {
        let dir = try TemporaryDirectory()
        let path = dir.url.appendingPathComponent("run.json").path
        let status = AccelBench.main(arguments: [
            "run", "--backend", "profile:ascend-910b2", "--suite", "quick", "--quiet", "--format", "csv", "--output", path,
        ])
        #expect(status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        let results = try #require(object?["results"] as? [[String: Any]])
        #expect(!results.isEmpty)
        #expect(object?["ceilings"] == nil)
        for r in results {
            #expect(r["measurement"] == nil && r["throughput"] == nil)
            let spec = r["spec"] as? [String: Any]
            #expect(spec?["backend"] as? String == "profile:ascend-910b2" && spec?["threads"] as? Int == 1)
            // The 910B2 has no fp32 peak: fp32 cases are skipped with that reason, the rest projected.
            if spec?["dtype"] as? String == "fp32" {
                #expect(r["status"] as? String == "skipped" && (r["reason"] as? String)?.contains("no fp32 peak") == true)
            } else {
                #expect(r["status"] as? String == "projected", "\(r)")
            }
        }
        #expect(results.contains { ($0["spec"] as? [String: Any])?["workload"] as? String == "matmul" && $0["status"] as? String == "projected" })
    }

    @Test func coverageMatrixOnAProfile() throws {
        let catalog = try ProfileCatalog.load()
        let backend = ProfileBackend(profile: try catalog.named("ascend-910b2"), modelCost: ProfileOptions.modelCost)
        let spec = CaseSpec(workload: .matmul, backend: backend.name, dtype: .bf16, shape: .matmul(m: 4096, n: 4096, k: 4096), threads: 1)
        let results = [spec, CaseSpec(workload: .matmul, backend: backend.name, dtype: .fp32, shape: .matmul(m: 64, n: 64, k: 64), threads: 1)]
            .map { CaseRunner(measurer: Measurer(rule: .quick)).run($0, on: backend, pool: WorkerPool(threadCount: 1)) }
        let matrix = CoverageMatrix(backend: backend.name, capabilities: backend.capabilities, results: results)
        let bf16 = try #require(matrix.cells.first { $0.workload == .matmul && $0.dtype == .bf16 })
        #expect(bf16.state == .projected && bf16.supported && abs(bf16.peakFraction! - 0.7) < 1e-9)
        let fp32 = try #require(matrix.cells.first { $0.workload == .matmul && $0.dtype == .fp32 })
        #expect(fp32.state == .skipped && fp32.reason == "profile ascend-910b2 has no fp32 peak")
        #expect(matrix.cells.count == Workload.allCases.map(\.dtypes.count).reduce(0, +))
        #expect(AccelBench.main(arguments: ["coverage", "--backend", "profile:ascend-910b2", "--quiet"]) == 0)
        #expect(AccelBench.main(arguments: ["coverage", "--backend", "profile:ascend-910b2", "--quiet", "--format", "csv"]) == 0)
    }

    /// The reference backend on tiny shapes: matmul fp32 and attention correct, the rest not implemented.
    @Test func coverageMatrixOnTheReferenceBackend() throws {
        #expect(AccelBench.main(arguments: [
            "coverage", "--backend", "reference", "--no-ceilings", "--threads", "1", "--quiet", "--format", "json",
            "--shape", "24x16x8", "--shape", "b1:h2:q3:kv9:d16",
        ]) == 0)
        let reference = try CPUBackends.named("reference", in: AllBackends.list())
        let runner = CaseRunner(measurer: Measurer(rule: .quick))
        let specs = [
            CaseSpec(workload: .matmul, backend: "reference", dtype: .fp32, shape: .matmul(m: 24, n: 16, k: 8), threads: 1),
            CaseSpec(workload: .matmul, backend: "reference", dtype: .fp32, shape: .matmul(m: 4096, n: 4096, k: 4096), threads: 1),
        ]
        let results = specs.map { runner.run($0, on: reference, pool: WorkerPool(threadCount: 1)) }
        let matrix = CoverageMatrix(backend: "reference", capabilities: reference.capabilities, results: results)
        let matmul = try #require(matrix.cells.first { $0.workload == .matmul && $0.dtype == .fp32 })
        #expect(matmul.state == .correct && matmul.passed == 1 && matmul.skipped == 1)
        let q4 = try #require(matrix.cells.first { $0.workload == .qgemv && $0.dtype == .q4_0 })
        #expect(q4.state == .notImplemented && !q4.supported)
        #expect(matrix.table().render().contains("not implemented") == false)  // the table says "no" / "-"
        #expect(matrix.csv().contains("reference,qgemv,q4_0,false,not implemented"))
    }
}
