import AccelBenchCore
import AccelBenchKernels
import Foundation

/// One sequence being run through a model: the KV cache and the planned kernels.
///
/// - KV cache: fp32, `[layer][kvHead][context][headDim]` for K and for V, so each KV head's positions
///   are contiguous rows and the fused attention kernels read the cache in place. K is also kept in
///   the decode kernel's tiles (`AttentionKeyTiles`, `[layer][kvHead]` items of ceil(context/16)
///   tiles): the prefill kernel reads the rows, the decode kernel the tiles; both are written when a
///   token is appended.
/// - Projections: `QuantizedGEMMPlan` (activations quantized to q8_0 inside, as llama.cpp does; Q/K/V
///   and gate/up each as one grouped call, one pool job for decode-sized token counts), then
///   the Q/K/V biases in fp32 where the weights have them (Qwen2).
///   Plans are built on first use for each token count N and kept (per layer and matrix; `releasePlans`
///   drops them), so a repeated `prefill` of the same length or any `decode` builds none.
/// - Attention: one `AttentionPlan` per KV head call (geometry batch 1, heads = groupSize,
///   kvHeads 1, queryLength N, kvLength = cached positions), causal bottom-right aligned; the plan is
///   shared by every layer and KV head of one step and cached by (N, kvLength) (a small cache: a
///   decode step has a new kvLength each time and builds one plan, ~tens of microseconds).
/// - RoPE: `config.ropeStyle` (interleaved pairs for llama, NEOX halves for qwen2, as llama.cpp),
///   angle pos · θ^(-2i/headDim) (divided by the weights' RoPE frequency factor of pair i, when they
///   have them), computed in Double per (position, pair).
///
/// Not Sendable: a session is driven by one caller at a time (the kernels use the pool inside).
public final class ModelSession {
    public let weights: ModelWeights
    public let config: ModelConfig
    /// KV positions the cache holds.
    public let context: Int
    public let pool: WorkerPool
    /// The attention kernels' instruction set.
    public let isa: CPUISA
    /// The quantized GEMM/GEMV kernels' path (the `isa` given to `init`, or the fastest one here).
    public let gemmPath: QuantizedGEMMPlan.Path
    /// Positions cached so far (the depth the next token is at).
    public private(set) var length = 0

    /// fp32 K cache, `[layer][kvHead][context][headDim]`.
    public let keyCache: UnsafeMutablePointer<Float>
    /// fp32 V cache, same layout.
    public let valueCache: UnsafeMutablePointer<Float>
    /// The K cache again in `AttentionKeyTiles` layout, for the decode kernel.
    private let keyTiles: UnsafeMutableRawPointer
    /// Bytes of one (layer, KV head) item of `keyTiles`.
    private let keyTileItemBytes: Int

    private struct LayerPlans {
        let wq, wk, wv, wo, wGate, wUp, wDown: QuantizedGEMMPlan
    }

    private var gemmPlans: [Int: [LayerPlans]] = [:]
    private var outputPlan: QuantizedGEMMPlan
    private struct AttentionKey: Hashable { let queries: Int, kvLength: Int }
    private var attentionPlans: [AttentionKey: AttentionPlan] = [:]

    /// Activation scratch, sized for `capacity` tokens.
    private var capacity = 0
    private var x: UnsafeMutablePointer<Float>     // residual stream [N][hidden]
    private var xn: UnsafeMutablePointer<Float>    // normed [N][hidden]
    private var q: UnsafeMutablePointer<Float>     // [N][queryWidth]
    private var k: UnsafeMutablePointer<Float>     // [N][kvWidth]
    private var v: UnsafeMutablePointer<Float>     // [N][kvWidth]
    private var qh: UnsafeMutablePointer<Float>    // [heads][N][headDim]
    private var oh: UnsafeMutablePointer<Float>    // [heads][N][headDim]
    private var attn: UnsafeMutablePointer<Float>  // [N][queryWidth]
    private var gate: UnsafeMutablePointer<Float>  // [N][ffn]
    private var up: UnsafeMutablePointer<Float>    // [N][ffn]
    private var proj: UnsafeMutablePointer<Float>  // [N][hidden]
    private let last: UnsafeMutablePointer<Float>  // [hidden]
    /// Logits of the last token of the latest step.
    public let logits: UnsafeMutablePointer<Float>
    /// θ^(-2i/headDim) / factor[i] (`ModelWeights.ropeFrequencyFactors`, 1 when absent), i < headDim/2.
    private let inverseFrequencies: [Double]

    /// - Parameters:
    ///   - context: KV cache capacity in positions.
    ///   - isa: instruction set of the attention kernels and the quantized GEMM path (AVX-512: VNNI);
    ///     nil picks the best this CPU runs.
    public init(weights: ModelWeights, context: Int, pool: WorkerPool, isa: CPUISA? = nil) throws {
        let config = weights.config
        guard context >= 1 else { throw AccelBenchError(.invalidArgument, "ModelSession: context must be >= 1") }
        self.weights = weights
        self.config = config
        self.context = context
        self.pool = pool
        self.isa = isa ?? CPUISA.detect()
        let cacheFloats = config.layers * config.kvWidth * context
        keyCache = .allocate(capacity: max(1, cacheFloats))
        keyCache.initialize(repeating: 0, count: max(1, cacheFloats))
        valueCache = .allocate(capacity: max(1, cacheFloats))
        valueCache.initialize(repeating: 0, count: max(1, cacheFloats))
        keyTileItemBytes = AttentionKeyTiles.itemBytes(kvLength: context, headDim: config.headDim, elementBytes: 4)
        let tileBytes = max(64, config.layers * config.kvHeads * keyTileItemBytes)
        keyTiles = .allocate(byteCount: tileBytes, alignment: 64)
        keyTiles.initializeMemory(as: UInt8.self, repeating: 0, count: tileBytes)
        let empty = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        (x, xn, q, k, v, qh, oh, attn, gate, up, proj) = (empty, empty, empty, empty, empty, empty, empty, empty, empty, empty, empty)
        empty.deallocate()
        last = .allocate(capacity: config.hidden)
        logits = .allocate(capacity: config.vocab)
        logits.initialize(repeating: 0, count: config.vocab)
        gemmPath = isa.map(QuantizedGEMMPlan.Path.init(isa:)) ?? .detect()
        outputPlan = QuantizedGEMMPlan(weights: weights.output, tokens: 1, pool: pool, path: gemmPath)
        let d = config.headDim
        let factors = weights.ropeFrequencyFactors
        inverseFrequencies = (0..<(d / 2)).map { i in
            Foundation.pow(config.ropeTheta, -2 * Double(i) / Double(d)) / Double(factors?[i] ?? 1)
        }
        ensureCapacity(1)
    }

    deinit {
        keyCache.deallocate()
        valueCache.deallocate()
        keyTiles.deallocate()
        freeScratch()
        last.deallocate()
        logits.deallocate()
    }

    private func freeScratch() {
        if capacity == 0 { return }
        for p in [x, xn, q, k, v, qh, oh, attn, gate, up, proj] { p.deallocate() }
    }

    private func ensureCapacity(_ n: Int) {
        if n <= capacity { return }
        freeScratch()
        let c = config
        func buffer(_ width: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: n * width)
            p.initialize(repeating: 0, count: n * width)
            return p
        }
        x = buffer(c.hidden); xn = buffer(c.hidden); proj = buffer(c.hidden)
        q = buffer(c.queryWidth); qh = buffer(c.queryWidth); oh = buffer(c.queryWidth); attn = buffer(c.queryWidth)
        k = buffer(c.kvWidth); v = buffer(c.kvWidth)
        gate = buffer(c.ffn); up = buffer(c.ffn)
        capacity = n
    }

    /// Forgets the cached positions (the next token is at position 0 again).
    public func reset() { length = 0 }

    /// Keeps only the first `length` cached positions (the next token goes at `length`).
    public func truncate(to length: Int) throws {
        guard length >= 0 && length <= self.length else {
            throw AccelBenchError(.invalidArgument, "ModelSession: cannot truncate \(self.length) cached positions to \(length)")
        }
        self.length = length
    }

    /// Drops the cached GEMM and attention plans (their activation buffers), keeping the N = 1 ones.
    public func releasePlans() {
        gemmPlans = gemmPlans.filter { $0.key == 1 }
        attentionPlans.removeAll()
    }

    /// Builds the plans for steps of `tokens` tokens now (so a timed step builds none).
    public func prepare(tokens n: Int) {
        _ = plans(for: n)
    }

    private func plans(for n: Int) -> [LayerPlans] {
        if let p = gemmPlans[n] { return p }
        let p = weights.layers.map { l in
            LayerPlans(
                wq: QuantizedGEMMPlan(weights: l.wq, tokens: n, pool: pool, path: gemmPath),
                wk: QuantizedGEMMPlan(weights: l.wk, tokens: n, pool: pool, path: gemmPath),
                wv: QuantizedGEMMPlan(weights: l.wv, tokens: n, pool: pool, path: gemmPath),
                wo: QuantizedGEMMPlan(weights: l.wo, tokens: n, pool: pool, path: gemmPath),
                wGate: QuantizedGEMMPlan(weights: l.wGate, tokens: n, pool: pool, path: gemmPath),
                wUp: QuantizedGEMMPlan(weights: l.wUp, tokens: n, pool: pool, path: gemmPath),
                wDown: QuantizedGEMMPlan(weights: l.wDown, tokens: n, pool: pool, path: gemmPath))
        }
        gemmPlans[n] = p
        return p
    }

    private func attentionPlan(queries: Int, kvLength: Int) -> AttentionPlan {
        let key = AttentionKey(queries: queries, kvLength: kvLength)
        if let plan = attentionPlans[key] { return plan }
        if attentionPlans.count >= 16 { attentionPlans.removeAll() }
        let geometry = AttentionGeometry(
            batch: 1, heads: config.groupSize, kvHeads: 1, queryLength: queries, kvLength: kvLength,
            headDim: config.headDim, causal: true, kvType: .fp32)
        let plan = AttentionPlan(geometry: geometry, isa: isa, pool: pool)
        attentionPlans[key] = plan
        return plan
    }

    /// K of `layer`, KV head `kvHead`, position `position` (headDim floats).
    public func cachedKey(layer: Int, kvHead: Int, position: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: keyCache + cacheOffset(layer: layer, kvHead: kvHead, position: position), count: config.headDim))
    }

    /// V of `layer`, KV head `kvHead`, position `position` (headDim floats).
    public func cachedValue(layer: Int, kvHead: Int, position: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: valueCache + cacheOffset(layer: layer, kvHead: kvHead, position: position), count: config.headDim))
    }

    @inline(__always)
    private func cacheOffset(layer: Int, kvHead: Int, position: Int) -> Int {
        ((layer * config.kvHeads + kvHead) * context + position) * config.headDim
    }

    // MARK: Steps

    /// Runs `tokens` (appended at the current depth; from an empty cache this is a prompt prefill) in
    /// one batch and returns the logits of the last one.
    @discardableResult
    public func prefill(tokens: [Int]) throws -> [Float] {
        try step(tokens: tokens)
        return Array(UnsafeBufferPointer(start: logits, count: config.vocab))
    }

    /// Runs one token at the current depth and returns its logits.
    @discardableResult
    public func decode(token: Int) throws -> [Float] {
        try step(tokens: [token])
        return Array(UnsafeBufferPointer(start: logits, count: config.vocab))
    }

    /// The forward step without copying the logits out (they are in `logits`).
    public func step(tokens: [Int]) throws {
        let n = tokens.count
        guard n >= 1 else { throw AccelBenchError(.invalidArgument, "ModelSession: no tokens to run") }
        guard length + n <= context else {
            throw AccelBenchError(.invalidArgument, "ModelSession: \(length) cached + \(n) new positions exceed the context of \(context)")
        }
        if let bad = tokens.first(where: { $0 < 0 || $0 >= config.vocab }) {
            throw AccelBenchError(.invalidArgument, "ModelSession: token \(bad) is outside the vocabulary (0..<\(config.vocab))")
        }
        ensureCapacity(n)
        let layerPlans = plans(for: n)
        let c = config
        let (hidden, qw, kvw, d, ffn) = (c.hidden, c.queryWidth, c.kvWidth, c.headDim, c.ffn)
        let start = length
        let kvLength = start + n
        let eps = Float(c.rmsEps)
        let workers = pool.threadCount
        let (x, xn, q, k, v, qh, oh, attn, gate, up, proj) = (self.x, self.xn, self.q, self.k, self.v, self.qh, self.oh, self.attn, self.gate, self.up, self.proj)

        // Embedding lookup.
        for (t, token) in tokens.enumerated() { weights.tokenEmbedding.dequantizeRow(token, into: x + t * hidden) }

        let attention = attentionPlan(queries: n, kvLength: kvLength)
        let ropeTable = ropeCosSin(start: start, count: n)
        defer { ropeTable.deallocate() }

        for (layerIndex, layer) in weights.layers.enumerated() {
            let plans = layerPlans[layerIndex]
            // Attention block.
            rmsNorm(x, layer.attentionNorm, into: xn, tokens: n, width: hidden, eps: eps)
            QuantizedGEMMPlan.run([plans.wq, plans.wk, plans.wv], x: xn, outputs: [q, k, v])
            if let b = layer.qBias { addBias(q, b, tokens: n, width: qw) }
            if let b = layer.kBias { addBias(k, b, tokens: n, width: kvw) }
            if let b = layer.vBias { addBias(v, b, tokens: n, width: kvw) }
            let kBase = keyCache + cacheOffset(layer: layerIndex, kvHead: 0, position: 0)
            let vBase = valueCache + cacheOffset(layer: layerIndex, kvHead: 0, position: 0)
            let tileItemBytes = keyTileItemBytes
            let tileBase = keyTiles + layerIndex * c.kvHeads * tileItemBytes
            let context = self.context, heads = c.heads, kvHeads = c.kvHeads, style = c.ropeStyle
            // RoPE on Q and K, scatter Q to [head][token][d] and K, V into the cache.
            parallelTokens(n, workers: workers) { t in
                let table = ropeTable + t * d  // d/2 cos then d/2 sin
                for h in 0..<heads {
                    let dst = qh + (h * n + t) * d
                    rope(q + t * qw + h * d, into: dst, table: table, d: d, style: style)
                }
                for g in 0..<kvHeads {
                    let row = (g * context + start + t) * d
                    rope(k + t * kvw + g * d, into: kBase + row, table: table, d: d, style: style)
                    (vBase + row).update(from: v + t * kvw + g * d, count: d)
                    AttentionKeyTiles.store(row: kBase + row, position: start + t, into: tileBase + g * tileItemBytes,
                                            headDim: d, elementBytes: 4)
                }
            }
            for g in 0..<kvHeads {
                let group = g * c.groupSize * n * d
                let keys = attention.keyLayout == .tiles ? UnsafeRawPointer(tileBase + g * tileItemBytes)
                    : UnsafeRawPointer(kBase + g * context * d)
                attention.run(q: qh + group, k: keys,
                              v: UnsafeRawPointer(vBase + g * context * d), o: oh + group)
            }
            // Gather O to [token][head·d].
            parallelTokens(n, workers: workers) { t in
                for h in 0..<heads { (attn + t * qw + h * d).update(from: oh + (h * n + t) * d, count: d) }
            }
            plans.wo.run(x: attn, y: proj)
            addInPlace(x, proj, count: n * hidden)

            // MLP block.
            rmsNorm(x, layer.ffnNorm, into: xn, tokens: n, width: hidden, eps: eps)
            QuantizedGEMMPlan.run([plans.wGate, plans.wUp], x: xn, outputs: [gate, up])
            swiGLU(gate, up, count: n * ffn)
            plans.wDown.run(x: gate, y: proj)
            addInPlace(x, proj, count: n * hidden)
        }
        length = kvLength

        // Final norm and vocabulary projection of the last token.
        rmsNorm(x + (n - 1) * hidden, weights.outputNorm, into: last, tokens: 1, width: hidden, eps: eps)
        outputPlan.run(x: last, y: logits)
    }

    // MARK: Elementwise parts

    /// Below this many elements an elementwise pass runs on the caller (a pool dispatch costs ~µs).
    private static let parallelThreshold = 1 << 14

    private func parallelTokens(_ n: Int, workers: Int, _ body: (Int) -> Void) {
        if n == 1 || workers == 1 {
            for t in 0..<n { body(t) }
            return
        }
        pool.run { w in
            for t in WorkerPool.chunk(w, of: workers, count: n) { body(t) }
        }
    }

    private func parallelRange(_ count: Int, _ body: (Range<Int>) -> Void) {
        let workers = pool.threadCount
        if count < ModelSession.parallelThreshold || workers == 1 {
            body(0..<count)
            return
        }
        // Chunks of whole 16-float vectors.
        let vectors = (count + 15) / 16
        pool.run { w in
            let r = WorkerPool.chunk(w, of: workers, count: vectors)
            let range = min(count, r.lowerBound * 16)..<min(count, r.upperBound * 16)
            if !range.isEmpty { body(range) }
        }
    }

    private func rmsNorm(_ x: UnsafeMutablePointer<Float>, _ weight: [Float], into y: UnsafeMutablePointer<Float>,
                         tokens n: Int, width: Int, eps: Float) {
        weight.withUnsafeBufferPointer { wb in
            let w = wb.baseAddress!
            let body = { (t: Int) in
                let row = x + t * width, out = y + t * width
                var sum: Float = 0
                for i in 0..<width { sum += row[i] * row[i] }
                let scale = 1 / (sum / Float(width) + eps).squareRoot()
                for i in 0..<width { out[i] = row[i] * scale * w[i] }
            }
            if n * width < ModelSession.parallelThreshold {
                for t in 0..<n { body(t) }
            } else {
                parallelTokens(n, workers: pool.threadCount, body)
            }
        }
    }

    private func addInPlace(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        parallelRange(count) { r in for i in r { x[i] += y[i] } }
    }

    /// Adds `bias` (`width` floats) to each of the `n` rows of `y` (a projection's output; a few
    /// thousand adds per token, on the caller).
    private func addBias(_ y: UnsafeMutablePointer<Float>, _ bias: [Float], tokens n: Int, width: Int) {
        bias.withUnsafeBufferPointer { b in
            for t in 0..<n {
                let row = y + t * width
                for i in 0..<width { row[i] += b[i] }
            }
        }
    }

    /// gate[i] = silu(gate[i]) · up[i], 16 lanes at a time in the session's ISA (a decode step's 14336
    /// scalar `expf` calls were ~1% of the step on one thread, with the other worker idle).
    private func swiGLU(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafeMutablePointer<Float>, count: Int) {
        let isa = self.isa
        parallelRange(count) { r in Activation.swiGLU(isa: isa, gate: gate, up: UnsafePointer(up), range: r) }
    }

    /// cos then sin of the d/2 angles of each of `count` positions from `start`: `[count][d]` floats.
    private func ropeCosSin(start: Int, count: Int) -> UnsafeMutablePointer<Float> {
        let half = config.headDim / 2
        let table = UnsafeMutablePointer<Float>.allocate(capacity: count * 2 * half)
        for t in 0..<count {
            let pos = Double(start + t)
            for i in 0..<half {
                let angle = pos * inverseFrequencies[i]
                table[t * 2 * half + i] = Float(Foundation.cos(angle))
                table[t * 2 * half + half + i] = Float(Foundation.sin(angle))
            }
        }
        return table
    }
}

/// Rotates one head of `d` values (pairs per `style`) by the angles in `table` (d/2 cos, d/2 sin).
@inline(__always)
private func rope(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, table: UnsafePointer<Float>, d: Int,
                  style: ModelConfig.RopeStyle) {
    let half = d / 2
    switch style {
    case .interleaved:
        for i in 0..<half {
            let (c, s) = (table[i], table[half + i])
            let (a, b) = (src[2 * i], src[2 * i + 1])
            dst[2 * i] = a * c - b * s
            dst[2 * i + 1] = a * s + b * c
        }
    case .neox:
        for i in 0..<half {
            let (c, s) = (table[i], table[half + i])
            let (a, b) = (src[i], src[i + half])
            dst[i] = a * c - b * s
            dst[i + half] = a * s + b * c
        }
    }
}
