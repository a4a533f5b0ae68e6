import AccelBenchCPU
import AccelBenchCore
import Testing
@testable import AccelBenchCLI

@Suite struct RunPlanTests {
    let backends = CPUBackends.all()

    func plan(_ configure: (inout RunPlan.Selection) -> Void) throws -> RunPlan {
        var s = RunPlan.Selection()
        configure(&s)
        return try RunPlan(s, backends: backends, cores: 2, streamElements: 1 << 20)
    }

    @Test func quickSuiteByDefault() throws {
        let p = try plan { _ in }
        #expect(Set(p.cases.map(\.threads)) == [1, 2])
        #expect(p.cases.contains { $0.backend == "swift-simd" && $0.shape == .matmul(m: 1024, n: 1024, k: 1024) })
        #expect(p.cases.contains { $0.backend == "bf16" && $0.dtype == .bf16 })
        #expect(p.cases.filter { $0.workload == .matmul && $0.backend == "openblas" && $0.dtype == .fp32 }.count == 4)
    }

    @Test func suiteEntriesKeepTheirOwnBackends() throws {
        let p = try plan { $0.suite = .standard }
        #expect(!p.cases.contains { $0.workload == .matmul && $0.backend == "reference" && $0.shape != .matmul(m: 64, n: 64, k: 64) })
        // The float64 reference runs only the tiny attention shapes.
        #expect(p.cases.filter { $0.workload == .attention && $0.backend == "reference" }.allSatisfy {
            if case let .attention(a) = $0.shape { return a.flops < 1e8 } else { return false }
        })
        #expect(!p.cases.contains { $0.backend == "openblas" && $0.shape == .matmul(m: 64, n: 64, k: 64) })
        #expect(p.cases.contains { $0.backend == "reference" && $0.shape == .matmul(m: 64, n: 64, k: 64) })
        #expect(Set(p.cases).count == p.cases.count)
    }

    @Test func userSelection() throws {
        let p = try plan {
            $0.backends = ["swift-simd"]
            $0.shapes = ["77x4096x333"]
            $0.threads = [1]
        }
        #expect(p.cases == [CaseSpec(workload: .matmul, backend: "swift-simd", dtype: .fp32, shape: .matmul(m: 77, n: 4096, k: 333), threads: 1)])
        let stream = try plan { $0.workloads = ["stream"]; $0.threads = [2] }
        #expect(stream.cases.count == StreamKernel.allCases.count)
        #expect(stream.cases.allSatisfy { $0.backend == "c" && $0.threads == 2 })
    }

    @Test func badSelectionsAreUsageErrors() {
        #expect(throws: AccelBenchError.self) { try plan { $0.backends = ["cublas"] } }
        #expect(throws: AccelBenchError.self) { try plan { $0.threads = [0] } }
        #expect(throws: AccelBenchError.self) { try plan { $0.shapes = ["12x12"] } }
        #expect(throws: AccelBenchError.self) { try plan { $0.workloads = ["stream"]; $0.dtypes = ["bf16"] } }
        do {
            _ = try plan { $0.workloads = ["stream"]; $0.backends = ["openblas"] }
            Issue.record("expected an error")
        } catch let e as AccelBenchError {
            #expect(e.message.contains("openblas") && e.message.contains("matmul"))
        } catch {}
    }

    @Test func memoryCheckNamesWhatIsNeeded() throws {
        let p = try plan { $0.shapes = ["65536x65536x65536"]; $0.backends = ["swift-simd"]; $0.threads = [1] }
        do {
            try p.checkMemory(availableBytes: 1 << 30)
            Issue.record("expected an error")
        } catch let e as AccelBenchError {
            #expect(e.code == .insufficientMemory)
            #expect(e.message.contains("48 GiB") && e.message.contains("1 GiB"))
        }
        try p.checkMemory(availableBytes: 1 << 40)
    }
}

@Suite struct AttentionRunPlanTests {
    let backends = CPUBackends.all()

    func plan(_ configure: (inout RunPlan.Selection) -> Void) throws -> RunPlan {
        var s = RunPlan.Selection()
        configure(&s)
        return try RunPlan(s, backends: backends, cores: 2, streamElements: 1 << 20)
    }

    @Test func quickSuiteHasOnePrefillAndOneDecodeCase() throws {
        let attention = try plan { _ in }.cases.filter { $0.workload == .attention }
        let shapes = Set(attention.compactMap { spec -> AttentionShape? in
            if case let .attention(a) = spec.shape { return a } else { return nil }
        })
        #expect(shapes.count == 2)
        #expect(shapes.filter(\.isDecode).count == 1)
        #expect(attention.contains { $0.dtype == .fp16 && $0.backend == "swift-simd" })
        #expect(attention.contains { $0.backend == "openblas" })
    }

    @Test func standardSuiteSweepsTheKVLength() throws {
        let decode = try plan { $0.suite = .standard }.cases.filter {
            if case let .attention(a) = $0.shape { return a.isDecode && $0.dtype == .fp16 && $0.backend == "swift-simd" && $0.threads == 2 }
            return false
        }
        let lengths = Set(decode.compactMap { spec -> Int? in
            if case let .attention(a) = spec.shape { return a.kvLength } else { return nil }
        })
        #expect(lengths.isSuperset(of: [1024, 2048, 4096, 8192, 16384, 32768]))
    }

    @Test func shapesPickTheirWorkload() throws {
        let p = try plan {
            $0.backends = ["swift-simd", "openblas"]
            $0.shapes = ["llama3-8b:decode4096"]
            $0.dtypes = ["kv=f16"]
            $0.threads = [1]
        }
        #expect(p.cases.count == 2)
        #expect(p.cases.allSatisfy { $0.workload == .attention && $0.dtype == .fp16 })
        let matmul = try plan { $0.backends = ["swift-simd"]; $0.shapes = ["64x64x64"]; $0.threads = [1] }
        #expect(matmul.cases.map(\.workload) == [.matmul])
        #expect(throws: AccelBenchError.self) {
            try plan { $0.backends = ["swift-simd"]; $0.shapes = ["h4:q2"] }
        }
    }
}

@Suite struct LLMRunPlanTests {
    @Test func layersAndVocabOverrideEveryModel() throws {
        var s = RunPlan.Selection()
        s.workloads = ["llm"]
        s.shapes = ["llama3-8b:pp512", "llama3-8b:tg128"]
        s.backends = ["swift-llm"]
        s.threads = [2]
        s.layers = 4
        s.vocab = 32000
        let plan = try RunPlan(s, backends: AllBackends.list(), cores: 2, streamElements: 1 << 20)
        #expect(plan.cases.count == 2)
        for spec in plan.cases {
            guard case let .llm(l) = spec.shape else { Issue.record("not llm"); continue }
            #expect(l.layers == 4 && l.vocab == 32000)
            #expect(spec.dtype == .q4_0)
        }
    }
}

/// `--weights`: the plan's rules (no file is read here: the plan gets the file's dtype and layers).
@Suite struct WeightsRunPlanTests {
    static let file = RunPlan.WeightsFile(path: "m.gguf", dtype: .q8_0, layers: 16)

    func plan(_ configure: (inout RunPlan.Selection) -> Void) throws -> RunPlan {
        var s = RunPlan.Selection()
        s.weightsFile = WeightsRunPlanTests.file
        s.threads = [1]
        configure(&s)
        return try RunPlan(s, backends: AllBackends.list(), cores: 2, streamElements: 1 << 20)
    }

    func message(_ configure: (inout RunPlan.Selection) -> Void) -> String? {
        do {
            _ = try plan(configure)
            Issue.record("expected an error")
            return nil
        } catch {
            return (error as? AccelBenchError)?.message
        }
    }

    func llmShapes(_ p: RunPlan) -> [String] {
        p.cases.compactMap { if case let .llm(l) = $0.shape { l.description } else { nil } }
    }

    @Test func suiteShapesRunTheFilesModelInItsDType() throws {
        // No workload: llm; the suite's llama-bench shapes become the file's model, whole.
        let standard = try plan { $0.suite = .standard }
        #expect(standard.cases.allSatisfy { $0.workload == .llm && $0.dtype == .q8_0 && $0.backend == "swift-llm" })
        #expect(llmShapes(standard) == ["gguf:pp512", "gguf:tg128"])
        // The quick suite has no llm entry: the default shape.
        #expect(llmShapes(try plan { _ in }) == ["gguf:tg128"])
        // --layers runs the first layers; --dtype may name the file's.
        let layers = try plan { $0.layers = 4; $0.dtypes = ["q8_0"]; $0.shapes = ["gguf:pp64", "gguf:tg8:d32"] }
        #expect(llmShapes(layers) == ["gguf:pp64:layers4", "gguf:tg8:d32:layers4"])
        // Other workloads may run beside it.
        let mixed = try plan { $0.workloads = ["llm", "stream"] }
        #expect(mixed.cases.contains { $0.workload == .stream } && llmShapes(mixed) == ["gguf:tg128"])
    }

    @Test func badCombinationsAreUsageErrors() {
        #expect(message { $0.shapes = ["llama3-8b:tg128:layers4"] }
            == "llm shape llama3-8b:tg128:layers4: with --weights, llm shapes run the file's model: write gguf:tg128:layers4 (a preset's synthetic weights run without --weights)")
        #expect(message { $0.dtypes = ["q4_0"] }?.contains("--weights m.gguf holds q8_0 weights, so llm runs in q8_0, not q4_0") == true)
        #expect(message { $0.layers = 17 } == "--weights m.gguf has 16 layers, so it cannot run 17; ask for 1 to 16 (--layers or the shape's layersN)")
        #expect(message { $0.shapes = ["gguf:tg8:layers20"] }?.contains("cannot run 20") == true)
        #expect(message { $0.shapes = ["gguf:tg8:vocab100"] }?.contains("drop vocab100") == true)
        #expect(message { $0.vocab = 32000 } == "--vocab cannot be used with --weights: the vocabulary is the file's")
        #expect(message { $0.workloads = ["matmul"] }?.contains("is for the llm workload") == true)
        #expect(message { $0.backends = ["swift-simd"] }?.contains("is for the llm workload") == true)
        // And a gguf shape without --weights.
        #expect(message { $0.weightsFile = nil; $0.shapes = ["gguf:tg8"] } == "llm shape gguf:tg8 runs the model of a GGUF file; pass it with --weights FILE.gguf")
    }
}
