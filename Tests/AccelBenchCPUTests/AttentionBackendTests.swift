import AccelBenchCore
import AccelBenchKernels
import Testing
@testable import AccelBenchCPU

@Suite struct AttentionBackendTests {
    static let shapes = [
        "b2:h4:kvh2:q33:kv77:d64:causal", "b1:h8:kvh1:q3:kv300:d80:causal", "h2:q1:kv1:d16", "h4:kvh4:q17:kv40:d96",
    ]

    @Test(arguments: [1, 2])
    func openblasAndReferenceAreCorrect(threads: Int) throws {
        for backend in [OpenBLASBackend(idleAfterPhaseSeconds: 0) as any Backend, ReferenceBackend()] {
            for dtype in [DType.fp32, .fp16] {
                for text in AttentionBackendTests.shapes {
                    let shape = try AttentionShape.parse(text)
                    let spec = CaseSpec(workload: .attention, backend: backend.name, dtype: dtype, shape: .attention(shape), threads: threads)
                    let result = runCase(spec, backend)
                    #expect(result.status == .passed, "\(spec): \(result.reason ?? "")")
                    #expect(result.correctness?.nmse != nil)
                    #expect(result.secondary != nil || !shape.isDecode)
                }
            }
        }
    }

    @Test func checkCatchesAWrongElementAndAnUnwrittenOne() throws {
        let g = AttentionGeometry(batch: 1, heads: 2, kvHeads: 1, queryLength: 5, kvLength: 9, headDim: 16, causal: true)
        let buffers = AttentionBuffers(geometry: g, seed: 7, checkSamples: 4096)
        let reference = ReferenceAttentionCase(buffers: buffers, pool: WorkerPool(threadCount: 1))
        reference.run()
        #expect(buffers.check().passed)
        // A small error in one element (1e-3 of its size) fails.
        buffers.o[3 * 16 + 5] += 1e-3 * max(abs(buffers.o[3 * 16 + 5]), 0.01)
        #expect(!buffers.check().passed)
        reference.run()
        buffers.o[g.queryElements - 1] = .nan
        let check = buffers.check()
        #expect(!check.passed)
        #expect(check.nonFinite == 1)
    }

    @Test func compositionRefusesScoresThatDoNotFit() throws {
        // 64 query rows x 2^26 keys of fp32 scores = 16 GiB: more than half of this machine's memory.
        let shape = try AttentionShape.parse("h64:kvh1:q1:kv64M:d16")
        let spec = CaseSpec(workload: .attention, backend: "openblas", dtype: .fp32, shape: .attention(shape), threads: 1)
        let reason = try #require(OpenBLASBackend().unsupportedReason(spec))
        #expect(reason.contains("materializes") && reason.contains("swift-simd"))
        #expect(ReferenceBackend().unsupportedReason(spec) != nil)
    }

    @Test func rowSoftmaxMasksAndNormalizes() {
        var scores: [Float] = (0..<40).map { Float($0 % 7) * 30 }   // large logits: the max must be subtracted
        scores.withUnsafeMutableBufferPointer { p in
            AttentionSoftmax.apply(isa: CPUISA.detect(), p.baseAddress!, rows: 2, columns: 20, ld: 20) { $0 == 0 ? 20 : 17 }
        }
        #expect(abs(scores[0..<20].reduce(0, +) - 1) < 1e-5)
        #expect(abs(scores[20..<37].reduce(0, +) - 1) < 1e-5)
        #expect(scores[37..<40].allSatisfy { $0 == 0 })
        #expect(scores.allSatisfy { $0.isFinite })
    }
}
