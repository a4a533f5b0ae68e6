import AccelBenchCore
import AccelBenchKernels

/// bf16 x bf16 -> fp32 GEMM with AVX512-BF16 (`vdpbf16ps`) in C, portable fallback elsewhere.
public struct BF16Backend: Backend {
    public let name = "bf16"
    public let capabilities: [Workload: [DType]] = [.matmul: [.bf16]]

    public init() {}

    public var summary: String { "bf16 GEMM, fp32 accumulate (path here: \(BF16GEMMPlan.Path.detect().rawValue))" }

    public func unsupportedReason(_ spec: CaseSpec) -> String? {
        spec.workload == .matmul && spec.dtype == .bf16 ? nil : "bf16 implements bf16 matmul only"
    }

    public func prepare(_ spec: CaseSpec, context: CaseContext) throws -> any PreparedCase {
        guard case let .matmul(m, n, k) = spec.shape else {
            throw AccelBenchError(.unsupportedCase, "bf16: not a matmul shape")
        }
        let buffers = MatmulBuffers(
            m: m, n: n, k: k, seed: context.seed, checkSamples: context.checkSamples, roundToBF16: true)
        return BF16Case(buffers: buffers, plan: BF16GEMMPlan(m: m, n: n, k: k, path: .detect(), pool: context.pool))
    }
}

final class BF16Case: PreparedCase {
    let buffers: MatmulBuffers
    let plan: BF16GEMMPlan
    let a16: AlignedBuffer<UInt16>
    let b16: AlignedBuffer<UInt16>

    init(buffers: MatmulBuffers, plan: BF16GEMMPlan) {
        self.buffers = buffers
        self.plan = plan
        (a16, b16) = buffers.bf16Inputs()
    }

    var kernelPath: String { plan.kernelPath }
    func poisonOutputs() { buffers.poison() }
    func check() -> CorrectnessCheck { buffers.check() }

    func run() {
        let b = buffers
        plan.run(a: a16.pointer, lda: b.k, b: b16.pointer, ldb: b.n, c: b.c.pointer, ldc: b.n)
    }
}
