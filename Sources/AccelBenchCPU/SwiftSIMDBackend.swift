import AccelBenchCore
import AccelBenchKernels

/// Our own kernels in Swift SIMD, per-ISA modules chosen at run time: the fp32 GEMM (packed panels,
/// register-blocked micro-kernel) and fused attention (tiled prefill, split-KV decode).
public struct SwiftSIMDBackend: Backend {
    public let name = "swift-simd"
    public let capabilities: [Workload: [DType]] = [.matmul: [.fp32], .attention: [.fp32, .fp16]]
    /// The ISA of the kernel module to run; nil: the best this CPU supports.
    public let isa: CPUISA?

    public init(isa: CPUISA? = nil) {
        self.isa = isa
    }

    public var summary: String {
        "Swift SIMD fp32 GEMM (BLIS-style packed micro-kernel) and fused attention (online softmax; split-KV decode) (ISA here: \((isa ?? CPUISA.detect()).rawValue))"
    }

    public func unsupportedReason(_ spec: CaseSpec) -> String? {
        if case let .attention(shape) = spec.shape {
            return AttentionPlan.unsupportedReason(AttentionGeometry(shape, dtype: spec.dtype), isa: isa ?? CPUISA.detect())
        }
        guard spec.workload == .matmul, spec.dtype == .fp32 else { return "swift-simd implements fp32 matmul and attention" }
        if let isa, !isa.isSupported { return "this CPU cannot run the \(isa.rawValue) kernels" }
        return nil
    }

    public func prepare(_ spec: CaseSpec, context: CaseContext) throws -> any PreparedCase {
        if case let .attention(shape) = spec.shape {
            let geometry = AttentionGeometry(shape, dtype: spec.dtype)
            let buffers = AttentionBuffers(geometry: geometry, seed: context.seed, checkSamples: context.checkSamples)
            return SwiftSIMDAttentionCase(
                buffers: buffers, plan: AttentionPlan(geometry: geometry, isa: isa ?? CPUISA.detect(), pool: context.pool))
        }
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

/// The fused attention on `AttentionBuffers`. For decode, K is also held in the decode kernel's tiled
/// layout (`AttentionKeyTiles`), tiled once here, outside the timed region, as a serving engine keeps
/// its cache: the timed call reads the same K bytes in that order.
final class SwiftSIMDAttentionCase: PreparedCase {
    let buffers: AttentionBuffers
    let plan: AttentionPlan
    /// K in tiles when the plan wants them (decode), else nil (the rows in `buffers`).
    let keyTiles: AlignedBuffer<UInt8>?

    init(buffers: AttentionBuffers, plan: AttentionPlan) {
        self.buffers = buffers
        self.plan = plan
        let g = buffers.geometry
        if plan.keyLayout == .tiles {
            let items = g.batch * g.kvHeads
            let tiles = AlignedBuffer<UInt8>(count: AttentionKeyTiles.bytes(
                items: items, kvLength: g.kvLength, headDim: g.headDim, elementBytes: g.kvType.bytes))
            AttentionKeyTiles.pack(rows: buffers.kRaw, into: UnsafeMutableRawPointer(tiles.pointer), items: items,
                                   kvLength: g.kvLength, headDim: g.headDim, elementBytes: g.kvType.bytes)
            keyTiles = tiles
        } else {
            keyTiles = nil
        }
    }

    var kernelPath: String {
        "swift-simd \(plan.isa.rawValue) \(plan.path.rawValue): \(plan.kernelPath), scratch \(Format.bytes(plan.scratchBytes))"
    }

    func poisonOutputs() { buffers.poison() }
    func check() -> CorrectnessCheck { buffers.check() }

    func run() {
        plan.run(q: buffers.q.pointer, k: keyTiles.map { UnsafeRawPointer($0.pointer) } ?? buffers.kRaw,
                 v: buffers.vRaw, o: buffers.o.pointer)
    }
}
