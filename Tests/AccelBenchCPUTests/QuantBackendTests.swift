import AccelBenchCore
import AccelBenchKernels
import Testing
@testable import AccelBenchCPU

@Suite struct QuantBackendTests {
    @Test(arguments: [1, 2])
    func everyPathIsCorrectHotAndCold(threads: Int) throws {
        for path in QuantizedGEMMPlan.Path.supported {
            let backend = QuantBackend(path: path)
            for dtype in [DType.q8_0, .q4_0, .w8a8] {
                for (workload, text) in [(Workload.qgemv, "37x1x96"), (.qgemv, "16x3x64:cold"), (.qgemm, "45x33x128")] {
                    for shape in try workload.parseShapes(text) {
                        let spec = CaseSpec(workload: workload, backend: "quant", dtype: dtype, shape: shape, threads: threads)
                        let result = CaseRunner(measurer: Measurer(rule: quickRule), lastLevelCacheBytes: 1 << 16)
                            .run(spec, on: backend, pool: WorkerPool(threadCount: threads))
                        #expect(result.status == .passed, "\(path) \(spec): \(result.reason ?? "")")
                        #expect(result.secondary?.unit == .gbytesPerSecond)
                        if case .quantized(_, _, _, .cold) = shape {
                            #expect(result.kernelPath?.contains("rotating") == true, "\(result.kernelPath ?? "")")
                            // Judged against a plain read of its own weight bytes, timed in alternation.
                            let paired = try #require(result.paired, "\(path) \(spec)")
                            #expect(paired.unit == .gbytesPerSecond && paired.ratio.n >= 10)
                            #expect(paired.kernelWork.amount == result.secondary?.work.amount)
                            // The read covers the layout the kernel reads (in whole doubles): the repacked
                            // q8_0 / q4_0 copy pads rows to 16 and blocks to pairs, and is the GGUF size
                            // without padding.
                            #expect(paired.referenceWork.amount >= paired.kernelWork.amount - 16)
                            if dtype != .w8a8, case let .quantized(m, _, k, _) = shape, m % 16 == 0, k % 64 == 0 {
                                #expect(paired.referenceWork.amount == paired.kernelWork.amount)
                            }
                        } else {
                            #expect(result.paired == nil)
                        }
                    }
                }
            }
        }
    }

    @Test(arguments: [DType.q4_0, .w8a8])
    func checkCatchesAWrongOutput(dtype: DType) throws {
        let spec = CaseSpec(
            workload: .qgemv, backend: "quant", dtype: dtype, shape: .quantized(m: 64, n: 1, k: 64, residency: .hot), threads: 1)
        let prepared = try QuantBackend().prepare(spec, context: CaseContext(pool: WorkerPool(threadCount: 1), seed: 3))
        let quantCase = try #require(prepared as? QuantCase)
        quantCase.poisonOutputs()
        #expect(!quantCase.check().passed)
        quantCase.run()
        #expect(quantCase.check().passed)
        quantCase.y[17] *= 1.001
        #expect(!quantCase.check().passed)
    }

    @Test func quantizedShapes() throws {
        #expect(try Workload.qgemv.parseShapes("4096x1x4096").count == 2)
        #expect(try Workload.qgemv.parseShapes("4096x1x4096:cold") == [.quantized(m: 4096, n: 1, k: 4096, residency: .cold)])
        #expect(try Workload.qgemm.parseShapes("4096x512x4096") == [.quantized(m: 4096, n: 512, k: 4096, residency: .hot)])
        for (workload, text) in [(Workload.qgemv, "4096x512x4096"), (.qgemv, "64x1x100"), (.qgemm, "64x64x64:cold"), (.qgemv, "64x1x64:warm")] {
            #expect(throws: AccelBenchError.self, "\(text)") { try workload.parseShapes(text) }
        }
        let work = try #require(Workload.qgemv.secondaryWork(.quantized(m: 4096, n: 1, k: 4096, residency: .hot), dtype: .q4_0))
        #expect(work.amount == 4096 * 4096 * 18 / 32)
        #expect(Workload.qgemv.work(.quantized(m: 2, n: 3, k: 32, residency: .hot), dtype: .q8_0).amount == 2 * 2 * 3 * 32)
        #expect(Workload.weightBytes(m: 4096, k: 4096, dtype: .w8a8) == 4096 * 4096 + 4 * 4096)
    }
}
