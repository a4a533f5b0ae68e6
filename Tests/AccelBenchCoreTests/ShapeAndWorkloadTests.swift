import Testing
@testable import AccelBenchCore

@Suite struct ShapeAndWorkloadTests {
    @Test func parsesMatmulShapes() throws {
        #expect(try Shape.parseMatmul("77x4096x333") == .matmul(m: 77, n: 4096, k: 333))
        #expect(try Shape.parseMatmul("1X2X3") == .matmul(m: 1, n: 2, k: 3))
        #expect(Shape.matmul(m: 4096, n: 64, k: 4096).description == "4096x64x4096")
    }

    @Test(arguments: ["", "1024", "1x2", "1x2x3x4", "0x5x5", "5x-1x5", "axbxc", "1x2x", "1.5x2x3"])
    func rejectsMalformedMatmulShapes(_ text: String) {
        #expect(throws: AccelBenchError.self) { try Shape.parseMatmul(text) }
        do {
            _ = try Shape.parseMatmul(text)
        } catch let error as AccelBenchError {
            #expect(error.code == .invalidShape)
            #expect(text.isEmpty || error.message.contains(text))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func parsesStreamShapes() throws {
        #expect(try Workload.stream.parseShapes("triad:16M") == [.stream(kernel: .triad, elements: 16 << 20)])
        let all = try Workload.stream.parseShapes("1000")
        #expect(all.count == StreamKernel.allCases.count)
        #expect(all.allSatisfy { if case .stream(_, 1000) = $0 { true } else { false } })
        #expect(throws: AccelBenchError.self) { try Workload.stream.parseShapes("fma:16M") }
        #expect(throws: AccelBenchError.self) { try Workload.stream.parseShapes("0") }
        #expect(throws: AccelBenchError.self) { try Workload.stream.parseShapes("-5") }
        #expect(Shape.stream(kernel: .copy, elements: 3 << 20).description == "copy:3M")
        #expect(Shape.stream(kernel: .copy, elements: 1000).description == "copy:1000")
    }

    @Test func namesAreValidatedWithTheValidList() throws {
        #expect(throws: AccelBenchError.self) { try DType.parse("int3") }
        do { _ = try DType.parse("int3") } catch let e as AccelBenchError {
            #expect(e.message.contains("fp32") && e.message.contains("bf16"))
        } catch {}
        do { _ = try Workload.parse("attn") } catch let e as AccelBenchError {
            #expect(e.code == .unknownWorkload && e.message.contains("matmul"))
        } catch {}
        #expect(try DType.parse("F32") == .fp32)
        #expect(try Workload.parse("MATMUL") == .matmul)
    }

    @Test func workRules() {
        let gemm = Workload.matmul.work(.matmul(m: 2, n: 3, k: 4), dtype: .fp32)
        #expect(gemm.amount == 48 && gemm.kind == .flops && gemm.rule == "2·M·N·K")
        let triad = Workload.stream.work(.stream(kernel: .triad, elements: 10), dtype: .fp64)
        #expect(triad.amount == 240 && triad.kind == .bytes)
        #expect(Workload.stream.work(.stream(kernel: .read, elements: 10), dtype: .fp64).amount == 80)
        #expect(Workload.stream.work(.stream(kernel: .copy, elements: 10), dtype: .fp64).amount == 160)
        #expect(ThroughputUnit.gflops.value(work: gemm, seconds: 48e-9) == 1)
        #expect(Workload.matmul.bufferBytes(.matmul(m: 10, n: 20, k: 30), dtype: .fp32) == (300 + 600 + 200) * 4)
    }
}
