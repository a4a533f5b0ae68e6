import AccelBenchCore
import AccelBenchKernels

/// Our own fp32 GEMM in Swift SIMD (packed panels, register-blocked micro-kernel, per-ISA modules
/// chosen at run time).
public struct SwiftSIMDBackend: Backend {
    public let name = "swift-simd"
    public let capabilities: [Workload: [DType]] = [.matmul: [.fp32]]
    /// The ISA of the kernel module to run; nil: the best this CPU supports.
    public let isa: CPUISA?

    public init(isa: CPUISA? = nil) {
        self.isa = isa
    }

    public var summary: String {
        "Swift SIMD fp32 GEMM, BLIS-style packed micro-kernel (ISA here: \((isa ?? CPUISA.detect()).rawValue))"
    }

    public func unsupportedReason(_ spec: CaseSpec) -> String? {
        guard spec.workload == .matmul, spec.dtype == .fp32 else { return "swift-simd implements fp32 matmul only" }
        if let isa, !isa.isSupported { return "this CPU cannot run the \(isa.rawValue) kernels" }
        return nil
    }

    public func prepare(_ spec: CaseSpec, context: CaseContext) throws -> any PreparedCase {
        guard case let .matmul(m, n, k) = spec.shape else {
            throw AccelBenchError(.unsupportedCase, "swift-simd: not a matmul shape")
        }
        let isa = self.isa ?? CPUISA.detect()
        let buffers = MatmulBuffers(m: m, n: n, k: k, seed: context.seed, checkSamples: context.checkSamples)
        return SwiftSIMDCase(buffers: buffers, plan: SGEMMPlan(m: m, n: n, k: k, isa: isa, pool: context.pool))
    }
}

final class SwiftSIMDCase: PreparedCase {
    let buffers: MatmulBuffers
    let plan: SGEMMPlan

    init(buffers: MatmulBuffers, plan: SGEMMPlan) {
        self.buffers = buffers
        self.plan = plan
    }

    var kernelPath: String {
        let tile = SGEMMKernels.tile(isa: plan.isa)
        return "swift-simd \(plan.isa.rawValue) \(tile.rows)x\(tile.columns), split \(plan.split.rawValue), \(plan.pool.threadCount) thread(s)"
    }

    func poisonOutputs() { buffers.poison() }
    func check() -> CorrectnessCheck { buffers.check() }

    func run() {
        let b = buffers
        plan.run(a: b.a.pointer, lda: b.k, b: b.b.pointer, ldb: b.n, c: b.c.pointer, ldc: b.n)
    }
}
