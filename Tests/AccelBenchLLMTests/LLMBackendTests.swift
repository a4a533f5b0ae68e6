import AccelBenchCore
import Testing
@testable import AccelBenchLLM

@Suite struct LLMBackendTests {
    @Test func parsesLLMShapes() throws {
        let pp = try LLMShape.parse("llama3-8b:pp512")
        #expect(pp == LLMShape(model: "llama3-8b", mode: .pp, tokens: 512))
        let tg = try LLMShape.parse("llama3-8b:tg128:d128:layers4:vocab32000")
        #expect(tg == LLMShape(model: "llama3-8b", mode: .tg, tokens: 128, depth: 128, layers: 4, vocab: 32000))
        #expect(try LLMShape.parse(tg.description) == tg)
        for bad in ["llama3-8b", "pp512", "llama3-8b:pp512:d8", "gpt5:tg1", "llama3-8b:tg0"] {
            #expect(throws: AccelBenchError.self, "\(bad)") { try LLMShape.parse(bad) }
        }
        // Core's model list and the presets agree.
        #expect(Set(LLMShape.models) == Set(ModelConfig.presets.map(\.name)))
        #expect(Workload.llm.work(.llm(tg), dtype: .q4_0).amount == 128)
        #expect(ThroughputUnit.tokensPerSecond.value(work: Workload.llm.work(.llm(tg), dtype: .q4_0), seconds: 2) == 64)
    }

    @Test(arguments: ["llama3.2-1b:pp6:layers1:vocab97", "llama3.2-1b:tg3:d4:layers2:vocab97"])
    func runsAndChecksASmallModel(text: String) throws {
        let spec = CaseSpec(workload: .llm, backend: "swift-llm", dtype: .q8_0, shape: .llm(try LLMShape.parse(text)), threads: 2)
        let rule = StoppingRule(minSamples: 2, minSeconds: 0, maxNoise: 1, timeoutSeconds: 0.2, warmupSeconds: 0, minSampleSeconds: 0)
        let result = CaseRunner(measurer: Measurer(rule: rule)).run(spec, on: LLMBackend(), pool: WorkerPool(threadCount: 2))
        #expect(result.status == .passed, "\(result.reason ?? "")")
        #expect(result.unit == .tokensPerSecond)
        #expect(result.secondary?.unit == .gbytesPerSecond)
        #expect(result.kernelPath?.contains("swift-llm") == true)
        let shape = try LLMShape.parse(text)
        if shape.mode == .tg {
            // Decode steps are paired with a plain read of the matrices a step streams.
            let paired = try #require(result.paired)
            #expect(paired.unit == .gbytesPerSecond && paired.ratio.n >= PairedMeasurement.minimumPairs)
            // The token embedding is left out: less than the implied weight bytes of one step.
            #expect(paired.kernelWork.amount < result.secondary!.work.amount / Double(shape.tokens))
            #expect(paired.referenceWork.amount >= paired.kernelWork.amount)
        } else {
            #expect(result.paired == nil)
        }
    }

    @Test func refusesModelsThatDoNotFit() throws {
        let spec = CaseSpec(workload: .llm, backend: "swift-llm", dtype: .q4_0, shape: .llm(try LLMShape.parse("llama3-8b:tg1")), threads: 1)
        let reason = try #require(LLMBackend(availableMemory: { 1 << 30 }).unsupportedReason(spec))
        #expect(reason.contains("--layers"))
    }
}
