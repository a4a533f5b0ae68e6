import AccelBenchCore
import Testing
@testable import AccelBenchPlugins

/// The reference plugin through the normal CaseRunner: inputs seeded and checked against float64
/// exactly as for the built-in CPU backends.
@Suite struct ReferencePluginTests {
    static func backend() throws -> PluginBackend {
        let report = PluginLoader.load(explicitPaths: [try PluginFixture.referencePlugin()], environment: [:])
        return try #require(PluginBackend.all(report.plugins).first)
    }

    @Test func matmulIsCorrect() throws {
        let backend = try ReferencePluginTests.backend()
        for dtype in [DType.fp32, .bf16] {
            for shape in [Shape.matmul(m: 1, n: 1, k: 1), .matmul(m: 7, n: 13, k: 5), .matmul(m: 65, n: 33, k: 129)] {
                let spec = CaseSpec(workload: .matmul, backend: backend.name, dtype: dtype, shape: shape, threads: 1)
                let result = runCase(spec, backend)
                #expect(result.status == .passed, "\(spec): \(result.reason ?? "")")
                #expect(result.kernelPath?.contains("plugin reference") == true)
                #expect((result.throughput?.median ?? 0) > 0)
            }
        }
    }

    @Test func attentionIsCorrect() throws {
        let backend = try ReferencePluginTests.backend()
        for dtype in [DType.fp32, .fp16] {
            for text in ["b2:h4:kvh2:q33:kv77:d64:causal", "b1:h8:kvh1:q3:kv300:d80:causal", "h2:q1:kv1:d16", "h4:kvh4:q17:kv40:d96"] {
                let spec = CaseSpec(workload: .attention, backend: backend.name, dtype: dtype, shape: .attention(try AttentionShape.parse(text)), threads: 1)
                let result = runCase(spec, backend)
                #expect(result.status == .passed, "\(spec): \(result.reason ?? "")")
            }
        }
    }

    @Test(arguments: [DType.q8_0, .q4_0])
    func quantizedIsCorrect(dtype: DType) throws {
        let backend = try ReferencePluginTests.backend()
        for (workload, text) in [(Workload.qgemv, "64x1x128:hot"), (.qgemv, "33x5x96:hot"), (.qgemm, "40x24x64")] {
            for shape in try workload.parseShapes(text) {
                let spec = CaseSpec(workload: workload, backend: backend.name, dtype: dtype, shape: shape, threads: 1)
                let result = runCase(spec, backend)
                #expect(result.status == .passed, "\(spec): \(result.reason ?? "")")
            }
        }
        // Neither the plugin (w8a8) nor the harness (cold weights) runs these: skipped with a reason.
        for (dtype, residency) in [(DType.w8a8, WeightResidency.hot), (dtype, .cold)] {
            let spec = CaseSpec(workload: .qgemv, backend: backend.name, dtype: dtype, shape: .quantized(m: 8, n: 1, k: 32, residency: residency), threads: 1)
            let result = runCase(spec, backend)
            #expect(result.status == .skipped && result.reason != nil)
        }
    }

    @Test func deviceTimingIsReported() throws {
        let backend = try ReferencePluginTests.backend()
        let spec = CaseSpec(workload: .matmul, backend: backend.name, dtype: .fp32, shape: .matmul(m: 32, n: 32, k: 32), threads: 1)
        let prepared = try backend.prepare(spec, context: CaseContext(pool: WorkerPool(threadCount: 1), seed: 1))
        prepared.poisonOutputs()
        prepared.run()
        #expect(prepared.check().passed)
        let elapsed = try backend.plugin.lastRunElapsed(device: 0)
        #expect(elapsed.nanoseconds > 0 && !elapsed.deviceEvents)
    }

    /// A run the plugin refuses fails the case with the plugin's message (a stub given a dtype it
    /// declines, prepared directly to get past `unsupportedReason`).
    @Test func aFailedRunFailsTheCheckWithThePluginsMessage() throws {
        let directory = try PluginFixture.temporaryDirectory()
        defer { PluginFixture.remove(directory) }
        let stub = try Plugin(path: try PluginFixture.stub(.newerMinor, in: directory))
        let backend = PluginBackend(plugin: stub, device: 0)
        let spec = CaseSpec(workload: .matmul, backend: backend.name, dtype: .bf16, shape: .matmul(m: 4, n: 4, k: 4), threads: 1)
        let prepared = try backend.prepare(spec, context: CaseContext(pool: WorkerPool(threadCount: 1), seed: 1))
        prepared.poisonOutputs()
        prepared.run()
        let check = prepared.check()
        #expect(!check.passed)
        #expect(check.explanation.contains("stub: fp32 matmul only"), "\(check.explanation)")
    }
}
