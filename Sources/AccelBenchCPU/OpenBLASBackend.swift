import AccelBenchCore
import AccelBenchKernels
import AccelBenchTopology
import COpenBLAS
#if canImport(Glibc)
import Glibc
#endif

/// OpenBLAS through CBLAS: the reference bar for our own kernels.
///
/// OpenBLAS uses its own thread pool (not ours); its thread count is set to the case's threads before
/// each case. After a phase its workers keep spinning for a while (THREAD_TIMEOUT, about 2^28 cycles),
/// which slows the next threaded kernel, so `endPhase` waits for them to go idle.
public struct OpenBLASBackend: Backend {
    public let name = "openblas"
    public var summary: String {
        "OpenBLAS \(OpenBLASBackend.version) cblas_sgemm (core \(OpenBLASBackend.coreName)); attention as sgemm + softmax + sgemm"
    }
    public let capabilities: [Workload: [DType]] = [.matmul: [.fp32, .bf16], .attention: [.fp32, .fp16]]
    /// Seconds `endPhase` idles so OpenBLAS's spinning workers go to sleep.
    public let idleAfterPhaseSeconds: Double

    public init(idleAfterPhaseSeconds: Double = 0.2) {
        self.idleAfterPhaseSeconds = idleAfterPhaseSeconds
    }

    /// The kernel set OpenBLAS picked at load time (e.g. "Haswell", "Cooperlake").
    public static var coreName: String { String(cString: openblas_get_corename()) }
    /// openblas_get_config(), e.g. "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Cooperlake".
    public static var config: String { String(cString: openblas_get_config()) }
    public static var version: String {
        let words = config.split(separator: " ")
        return words.count > 1 ? String(words[1]) : config
    }

    typealias SBGEMM = @convention(c) (
        CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, blasint, blasint, blasint, Float,
        UnsafePointer<UInt16>?, blasint, UnsafePointer<UInt16>?, blasint, Float, UnsafeMutablePointer<Float>?, blasint
    ) -> Void

    /// cblas_sbgemm exists only in OpenBLAS builds with BUILD_BFLOAT16 (Debian 12's is built without).
    static let sbgemm: SBGEMM? = {
        // The process's own global symbols (where the linked libopenblas lives).
        guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "cblas_sbgemm") else { return nil }
        return unsafeBitCast(symbol, to: SBGEMM.self)
    }()

    public func unsupportedReason(_ spec: CaseSpec) -> String? {
        if case let .attention(shape) = spec.shape {
            guard spec.dtype == .fp32 || spec.dtype == .fp16 else { return "openblas attention takes a kv=fp32 or kv=fp16 cache" }
            let g = AttentionGeometry(shape, dtype: spec.dtype)
            let extra = OpenBLASAttentionCase.extraBytes(g)
            let available = (try? Topology.availableMemoryBytes()) ?? Int.max
            if extra > available / 2 {
                return "the unfused composition materializes \(g.groupSize * g.queryLength) x \(g.kvLength) fp32 scores per KV head (\(Format.bytes(extra)) besides Q, K, V, O), more than half of the \(Format.bytes(available)) available; use backend swift-simd (fused) or a shorter sequence"
            }
            guard g.groupSize * g.queryLength * g.kvLength <= Int(Int32.max) else {
                return "the \(g.groupSize * g.queryLength) x \(g.kvLength) score matrix exceeds OpenBLAS's 32-bit blasint; use backend swift-simd (fused)"
            }
            return nil
        }
        guard spec.workload == .matmul else { return "openblas implements matmul and attention" }
        if spec.dtype == .bf16 && OpenBLASBackend.sbgemm == nil {
            return "this OpenBLAS (\(OpenBLASBackend.version)) was built without BUILD_BFLOAT16: no cblas_sbgemm"
        }
        guard case let .matmul(m, n, k) = spec.shape, max(m, n, k) <= Int(Int32.max) else {
            return "dimensions exceed OpenBLAS's 32-bit blasint"
        }
        return nil
    }

    public func prepare(_ spec: CaseSpec, context: CaseContext) throws -> any PreparedCase {
        if case let .attention(shape) = spec.shape {
            openblas_set_num_threads(Int32(spec.threads))
            let buffers = AttentionBuffers(
                geometry: AttentionGeometry(shape, dtype: spec.dtype), seed: context.seed, checkSamples: context.checkSamples)
            return OpenBLASAttentionCase(buffers: buffers, pool: context.pool, isa: CPUISA.detect())
        }
        guard case let .matmul(m, n, k) = spec.shape else {
            throw AccelBenchError(.unsupportedCase, "openblas: not a matmul shape")
        }
        openblas_set_num_threads(Int32(spec.threads))
        let buffers = MatmulBuffers(
            m: m, n: n, k: k, seed: context.seed, checkSamples: context.checkSamples, roundToBF16: spec.dtype == .bf16)
        if spec.dtype == .bf16, let sbgemm = OpenBLASBackend.sbgemm {
            return OpenBLASSBGEMMCase(buffers: buffers, sbgemm: sbgemm)
        }
        return OpenBLASSGEMMCase(buffers: buffers)
    }

    public func endPhase() {
        usleep(UInt32(idleAfterPhaseSeconds * 1e6))
    }
}

final class OpenBLASSGEMMCase: PreparedCase {
    let buffers: MatmulBuffers
    let kernelPath = "OpenBLAS \(OpenBLASBackend.version) cblas_sgemm, core \(OpenBLASBackend.coreName)"

    init(buffers: MatmulBuffers) {
        self.buffers = buffers
    }

    func poisonOutputs() { buffers.poison() }
    func check() -> CorrectnessCheck { buffers.check() }

    func run() {
        let b = buffers
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(b.m), blasint(b.n), blasint(b.k), 1,
            b.a.pointer, blasint(b.k), b.b.pointer, blasint(b.n), 0, b.c.pointer, blasint(b.n))
    }
}

final class OpenBLASSBGEMMCase: PreparedCase {
    let buffers: MatmulBuffers
    let a16: AlignedBuffer<UInt16>
    let b16: AlignedBuffer<UInt16>
    let sbgemm: OpenBLASBackend.SBGEMM
    let kernelPath = "OpenBLAS \(OpenBLASBackend.version) cblas_sbgemm, core \(OpenBLASBackend.coreName)"

    init(buffers: MatmulBuffers, sbgemm: @escaping OpenBLASBackend.SBGEMM) {
        self.buffers = buffers
        self.sbgemm = sbgemm
        (a16, b16) = buffers.bf16Inputs()
    }

    func poisonOutputs() { buffers.poison() }
    func check() -> CorrectnessCheck { buffers.check() }

    func run() {
        let b = buffers
        sbgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(b.m), blasint(b.n), blasint(b.k), 1,
            a16.pointer, blasint(b.k), b16.pointer, blasint(b.n), 0, b.c.pointer, blasint(b.n))
    }
}
