import AccelBenchCore

/// Float64 matmul: the correctness reference, selectable as a backend for tiny shapes only.
public struct ReferenceBackend: Backend {
    public let name = "reference"
    public let summary = "float64 triple loop (correctness reference; tiny shapes only)"
    public let capabilities: [Workload: [DType]] = [.matmul: [.fp32]]
    /// Largest M·N·K it accepts: about a second of float64 scalar work.
    public static let maxMultiplyAdds = 1 << 28

    public init() {}

    public func unsupportedReason(_ spec: CaseSpec) -> String? {
        guard spec.workload == .matmul, spec.dtype == .fp32 else { return "reference implements fp32 matmul only" }
        guard case let .matmul(m, n, k) = spec.shape else { return "not a matmul shape" }
        if m.multipliedReportingOverflow(by: n).partialValue.multipliedReportingOverflow(by: k).partialValue
            > ReferenceBackend.maxMultiplyAdds || m > 1 << 20 || n > 1 << 20 || k > 1 << 20
        {
            return "reference is for tiny shapes: M·N·K must be <= 2^28"
        }
        return nil
    }

    public func prepare(_ spec: CaseSpec, context: CaseContext) throws -> any PreparedCase {
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
    let kernelPath = "reference float64 i-k-j loop"

    init(buffers: MatmulBuffers, pool: WorkerPool) {
        self.buffers = buffers
        self.pool = pool
    }

    func poisonOutputs() { buffers.poison() }
    func check() -> CorrectnessCheck { buffers.check() }

    func run() {
        let (m, n, k) = (buffers.m, buffers.n, buffers.k)
        let a = UInt(bitPattern: buffers.a.pointer), b = UInt(bitPattern: buffers.b.pointer)
        let c = UInt(bitPattern: buffers.c.pointer)
        pool.forEachChunk(of: m) { rows in
            let a = UnsafePointer<Float>(bitPattern: a)!, b = UnsafePointer<Float>(bitPattern: b)!
            let c = UnsafeMutablePointer<Float>(bitPattern: c)!
            var row = [Double](repeating: 0, count: n)
            for i in rows {
                for j in 0..<n { row[j] = 0 }
                for p in 0..<k {
                    let aip = Double(a[i * k + p])
                    let bRow = b + p * n
                    for j in 0..<n { row[j] += aip * Double(bRow[j]) }
                }
                for j in 0..<n { c[i * n + j] = Float(row[j]) }
            }
        }
    }
}
