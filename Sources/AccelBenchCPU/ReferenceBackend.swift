import AccelBenchCore
import AccelBenchKernels

/// Float64 matmul: the correctness reference, selectable as a backend for tiny shapes only.
public struct ReferenceBackend: Backend {
    public let name = "reference"
    public let summary = "float64 triple loop and row-by-row attention (correctness reference; tiny shapes only)"
    public let capabilities: [Workload: [DType]] = [.matmul: [.fp32], .attention: [.fp32, .fp16]]
    /// Largest M·N·K it accepts: about a second of float64 scalar work.
    public static let maxMultiplyAdds = 1 << 28

    public init() {}

    public func unsupportedReason(_ spec: CaseSpec) -> String? {
        if case let .attention(shape) = spec.shape {
            // Each unmasked (query, key) pair costs 2·d float64 multiply-adds.
            if shape.flops / 2 > Double(ReferenceBackend.maxMultiplyAdds) {
                return "reference is for tiny shapes: attention FLOPs must be <= 2^29 (use swift-simd or openblas)"
            }
            return nil
        }
        guard spec.workload == .matmul, spec.dtype == .fp32 else { return "reference implements fp32 matmul and attention" }
        guard case let .matmul(m, n, k) = spec.shape else { return "not a matmul shape" }
        if m.multipliedReportingOverflow(by: n).partialValue.multipliedReportingOverflow(by: k).partialValue
            > ReferenceBackend.maxMultiplyAdds || m > 1 << 20 || n > 1 << 20 || k > 1 << 20
        {
            return "reference is for tiny shapes: M·N·K must be <= 2^28"
        }
        return nil
    }

    public func prepare(_ spec: CaseSpec, context: CaseContext) throws -> any PreparedCase {
        if case let .attention(shape) = spec.shape {
            let buffers = AttentionBuffers(
                geometry: AttentionGeometry(shape, dtype: spec.dtype), seed: context.seed, checkSamples: context.checkSamples)
            return ReferenceAttentionCase(buffers: buffers, pool: context.pool)
        }
        guard case let .matmul(m, n, k) = spec.shape else {
            throw AccelBenchError(.unsupportedCase, "reference: not a matmul shape")
        }
        return ReferenceCase(
            buffers: MatmulBuffers(m: m, n: n, k: k, seed: context.seed, checkSamples: context.checkSamples),
            pool: context.pool)
    }
}

final class ReferenceCase: PreparedCase {
    let buffers: MatmulBuffers
    let pool: WorkerPool
    /// One float64 row of C per worker, allocated once (not inside the timed call).
    let rows: AlignedBuffer<Double>
    let kernelPath = "reference float64 i-k-j loop"

    init(buffers: MatmulBuffers, pool: WorkerPool) {
        self.buffers = buffers
        self.pool = pool
        rows = AlignedBuffer(count: pool.threadCount * buffers.n)
    }

    func poisonOutputs() { buffers.poison() }
    func check() -> CorrectnessCheck { buffers.check() }

    func run() {
        let (m, n, k) = (buffers.m, buffers.n, buffers.k)
        let a = UInt(bitPattern: buffers.a.pointer), b = UInt(bitPattern: buffers.b.pointer)
        let c = UInt(bitPattern: buffers.c.pointer), scratch = UInt(bitPattern: rows.pointer)
        let workers = pool.threadCount
        pool.run { worker in
            let a = UnsafePointer<Float>(bitPattern: a)!, b = UnsafePointer<Float>(bitPattern: b)!
            let c = UnsafeMutablePointer<Float>(bitPattern: c)!
            let row = UnsafeMutablePointer<Double>(bitPattern: scratch)! + worker * n
            for i in WorkerPool.chunk(worker, of: workers, count: m) {
                ReferenceGEMM.dgemm(m: 1, n: n, k: k, a: a + i * k, lda: k, b: b, ldb: n, c: row, ldc: n)
                for j in 0..<n { c[i * n + j] = Float(row[j]) }
            }
        }
    }
}
