import AccelBenchCore
import AccelBenchLLM
import Foundation
import Testing
@testable import AccelBenchCLI

@Suite(.serialized) struct CommandLineTests {
    @Test(arguments: [
        ["run", "--shape", "0x3x3"], ["run", "--shape", "abc"], ["run", "--workload", "flash-attention"],
        ["run", "--workload", "attention", "--shape", "h4:q9:kv8:d64:causal"], ["run", "--workload", "attention", "--dtype", "bf16"],
        ["run", "--backend", "cublas"], ["run", "--threads", "0"], ["run", "--threads", "two"],
        ["run", "--dtype", "int3"], ["run", "--format", "xml"], ["run", "--bogus"], ["list", "things"],
        ["run", "--suite", "huge"], ["run", "--workload", "stream", "--backend", "openblas"],
        ["run", "--backend", "swift-simd", "--shape", "300000x300000x300000", "--no-ceilings"],
        ["run", "--power", "bogus"], ["run", "--power", "estimate", "--tdp", "-5"], ["run", "--power-interval", "0"],
        ["run", "--idle-seconds", "-1"], ["power", "--power", "estimate"],
    ])
    func badInputExitsWithTwo(_ arguments: [String]) {
        #expect(AccelBench.main(arguments: arguments) == ExitStatus.usageError.rawValue, "\(arguments)")
    }

    @Test func listCommandsSucceed() {
        #expect(AccelBench.main(arguments: ["list", "backends"]) == 0)
        #expect(AccelBench.main(arguments: ["list", "workloads"]) == 0)
        #expect(AccelBench.main(arguments: ["topology", "--format", "json"]) == 0)
        #expect(AccelBench.main(arguments: ["--help"]) == 0)
    }

    @Test func runWritesTheResultFileAtomically() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("accelbench-cli-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("out/run.json").path
        let status = AccelBench.main(arguments: [
            "run", "--no-ceilings", "--backend", "reference,swift-simd", "--shape", "16x24x8", "--threads", "1",
            "--format", "csv", "--output", path, "--quiet",
        ])
        #expect(status == 0)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        #expect(object?["schema"] as? String == "accelbench.run.v1")
        let results = object?["results"] as? [[String: Any]]
        #expect(results?.count == 2)
        #expect(object?["topology"] != nil && object?["versions"] != nil)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out").path)
        #expect(leftovers == ["run.json"])
    }

    /// `power` lists what it finds (nothing in a VM is fine, exit 0); an explicit source that is not
    /// here is bad input; an estimate is labelled as such in the run's energy and never comparable.
    @Test func powerSourcesAndEstimates() throws {
        #expect(AccelBench.main(arguments: ["power", "--format", "json"]) == 0)
        #expect(AccelBench.main(arguments: ["power", "--power", "nvml"]) == ExitStatus.usageError.rawValue
            || FileManager.default.fileExists(atPath: "/dev/nvidia0"))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("accelbench-power-\(UInt32.random(in: 0...UInt32.max)).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let status = AccelBench.main(arguments: [
            "run", "--no-ceilings", "--backend", "reference", "--shape", "8x8x8", "--threads", "1", "--power", "estimate",
            "--tdp", "80", "--idle-seconds", "0.2", "--output", path, "--quiet", "--format", "csv",
        ])
        #expect(status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        let results = object?["results"] as? [[String: Any]]
        let channel = ((results?.first?["energy"] as? [String: Any])?["channels"] as? [[String: Any]])?.first
        #expect(channel?["method"] as? String == "estimate")
        #expect(channel?["comparable"] as? Bool == false)
        #expect((channel?["efficiency"] as? Double ?? 0) > 0)
        #expect(channel?["efficiencyUnit"] as? String == "GFLOPS/W")
        let power = object?["power"] as? [String: Any]
        #expect((power?["idleWatts"] as? [String: Double])?["estimate:cpu"] != nil)
    }

    /// --isa reaches the quantized kernels (its path names the ISA that ran) and the llm engine.
    @Test func isaForcesTheQuantizedPath() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("accelbench-isa-\(UInt32.random(in: 0...UInt32.max)).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let status = AccelBench.main(arguments: [
            "run", "--no-ceilings", "--workload", "qgemv", "--shape", "64x1x64:hot", "--dtype", "q4_0", "--threads", "1",
            "--isa", "portable", "--output", path, "--quiet", "--format", "csv",
        ])
        #expect(status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        let results = object?["results"] as? [[String: Any]]
        let kernel = results?.first?["kernelPath"] as? String ?? ""
        #expect(kernel.contains("portable"), "\(kernel)")
        let llm = AllBackends.list(isa: .portable).compactMap { $0 as? LLMBackend }.first
        #expect(llm?.isa == .portable)
    }
}

/// `run --weights FILE.gguf` end to end on a tiny model, and its bad inputs (exit status 2, one line).
@Suite(.serialized) struct WeightsCommandLineTests {
    static func temp(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("accelbench-weights-\(UInt32.random(in: 0...UInt32.max))-\(name)")
    }

    /// A 2-layer q8_0 llama written as GGUF.
    static func tinyModel(at path: String) throws {
        let config = ModelConfig(name: "tiny", hidden: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 128, vocab: 100, ropeTheta: 10_000, rmsEps: 1e-5)
        let weights = try ModelWeights.synthetic(config: config, format: .q8_0, seed: 1, pool: WorkerPool(threadCount: 1))
        var w = try GGUFWriter()
        try w.addModel(weights)
        try w.write(to: path)
    }

    @Test func runsTheFilesModel() throws {
        let model = WeightsCommandLineTests.temp("tiny.gguf").path
        let output = WeightsCommandLineTests.temp("run.json").path
        defer { for p in [model, output] { try? FileManager.default.removeItem(atPath: p) } }
        try WeightsCommandLineTests.tinyModel(at: model)
        let status = AccelBench.main(arguments: [
            "run", "--weights", model, "--shape", "gguf:tg2:d3", "--threads", "1", "--no-ceilings", "--quiet",
            "--format", "csv", "--output", output,
        ])
        #expect(status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output))) as? [String: Any]
        let results = try #require(object?["results"] as? [[String: Any]])
        #expect(results.count == 1)
        #expect(results.first?["status"] as? String == "passed")
        #expect((results.first?["kernelPath"] as? String)?.contains("weights of \(model) (llama)") == true, "\(results.first ?? [:])")
    }

    @Test func badFilesExitWithTwo() throws {
        let missing = WeightsCommandLineTests.temp("missing.gguf").path
        let notGGUF = WeightsCommandLineTests.temp("notes.txt")
        let truncated = WeightsCommandLineTests.temp("truncated.gguf")
        defer { for u in [notGGUF, truncated] { try? FileManager.default.removeItem(at: u) } }
        try Data("hello, not a model\n".utf8).write(to: notGGUF)
        try WeightsCommandLineTests.tinyModel(at: truncated.path)
        let bytes = try Data(contentsOf: truncated)
        try bytes.prefix(bytes.count / 2).write(to: truncated)
        for path in [missing, notGGUF.path, truncated.path] {
            let status = AccelBench.main(arguments: ["run", "--weights", path, "--no-ceilings", "--quiet"])
            #expect(status == ExitStatus.usageError.rawValue, "\(path)")
        }
        #expect(AccelBench.main(arguments: ["run", "--weights", missing, "--vocab", "100"]) == ExitStatus.usageError.rawValue)
    }
}

/// `model-write` (the llama.cpp peer's model file): a file accelbench loads back, with the tokenizer
/// metadata llama.cpp needs to load it too.
@Suite struct ModelWriteTests {
    @Test func writesAModelBothToolsCanLoad() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("accelbench-model-\(UInt32.random(in: 0...UInt32.max)).gguf").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let status = AccelBench.main(arguments: [
            "model-write", "--model", "llama3.2-1b", "--layers", "1", "--vocab", "64", "--dtype", "q8_0", "--threads", "2", "--output", path,
        ])
        #expect(status == 0)
        let model = try GGUFModel(path: path)
        #expect(model.config.layers == 1 && model.config.vocab == 64 && model.format == .q8_0)
        let file = try GGUFFile(path: path)
        #expect(file.string("tokenizer.ggml.model") == "llama")
        #expect(file.value("tokenizer.ggml.tokens")?.arrayValue?.count == 64)
        #expect(file.value("tokenizer.ggml.scores")?.arrayValue?.count == 64)
        #expect(file.int("tokenizer.ggml.bos_token_id") == 1 && file.int("tokenizer.ggml.eos_token_id") == 2)
    }
}
