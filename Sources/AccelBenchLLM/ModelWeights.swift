import AccelBenchCore
import AccelBenchKernels

/// A table of rows in a GGUF block format, read one row at a time (the token embedding): no repacked
/// copy, since it is never multiplied, only looked up.
///
/// Sendable invariant: `blocks` is written only by `init` and read-only afterwards; freed in `deinit`.
public final class ModelEmbedding: @unchecked Sendable {
    public let format: QuantFormat
    public let rows: Int
    public let columns: Int
    public let rowBytes: Int
    public let blocks: UnsafeMutableRawPointer

    /// Copies `rows · format.rowBytes(columns:)` bytes of GGUF blocks.
    public init(format: QuantFormat, rows: Int, columns: Int, ggufBlocks: UnsafeRawPointer) {
        self.format = format
        self.rows = rows
        self.columns = columns
        rowBytes = format.rowBytes(columns: columns)
        blocks = .allocate(byteCount: max(64, rows * rowBytes), alignment: 64)
        blocks.copyMemory(from: ggufBlocks, byteCount: rows * rowBytes)
    }

    deinit { blocks.deallocate() }

    public var byteCount: Int { rows * rowBytes }

    /// Writes the `columns` values of row `row` into `y`.
    public func dequantizeRow(_ row: Int, into y: UnsafeMutablePointer<Float>) {
        precondition(row >= 0 && row < rows, "ModelEmbedding: row \(row) out of range")
        format.dequantizeRow(blocks + row * rowBytes, count: columns, into: y)
    }
}

/// The weights of a `ModelConfig`: matrices quantized to one GGUF block format, norms in fp32.
///
/// Matrix convention (as `QuantizedMatrix` and GGUF): rows = output features, columns = input features.
public final class ModelWeights: @unchecked Sendable {
    // Sendable: every stored property is immutable (and the matrices are themselves Sendable).
    public struct Layer: Sendable {
        /// RMSNorm weight before attention (`attn_norm`), hidden floats.
        public var attentionNorm: [Float]
        /// queryWidth x hidden.
        public var wq: QuantizedMatrix
        /// kvWidth x hidden.
        public var wk: QuantizedMatrix
        /// kvWidth x hidden.
        public var wv: QuantizedMatrix
        /// hidden x queryWidth.
        public var wo: QuantizedMatrix
        /// RMSNorm weight before the MLP (`ffn_norm`), hidden floats.
        public var ffnNorm: [Float]
        /// ffn x hidden.
        public var wGate: QuantizedMatrix
        /// ffn x hidden.
        public var wUp: QuantizedMatrix
        /// hidden x ffn.
        public var wDown: QuantizedMatrix
        /// Biases added to the Q, K and V projections (Qwen2's `attn_q.bias`, `attn_k.bias`,
        /// `attn_v.bias`: queryWidth, kvWidth, kvWidth floats), nil when the model has none (Llama;
        /// synthetic weights).
        public var qBias: [Float]?
        public var kBias: [Float]?
        public var vBias: [Float]?

        public init(
            attentionNorm: [Float], wq: QuantizedMatrix, wk: QuantizedMatrix, wv: QuantizedMatrix, wo: QuantizedMatrix,
            ffnNorm: [Float], wGate: QuantizedMatrix, wUp: QuantizedMatrix, wDown: QuantizedMatrix,
            qBias: [Float]? = nil, kBias: [Float]? = nil, vBias: [Float]? = nil
        ) {
            self.attentionNorm = attentionNorm
            self.wq = wq
            self.wk = wk
            self.wv = wv
            self.wo = wo
            self.ffnNorm = ffnNorm
            self.wGate = wGate
            self.wUp = wUp
            self.wDown = wDown
            self.qBias = qBias
            self.kBias = kBias
            self.vBias = vBias
        }

        /// The biases that are present.
        var biases: [[Float]] { [qBias, kBias, vBias].compactMap { $0 } }
        /// The seven matrices in the order a step uses them: wq, wk, wv, wo, wGate, wUp, wDown.
        public var matrices: [QuantizedMatrix] { [wq, wk, wv, wo, wGate, wUp, wDown] }
    }

    public let config: ModelConfig
    public let format: QuantFormat
    public let layers: [Layer]
    /// Final RMSNorm weight (`output_norm`), hidden floats.
    public let outputNorm: [Float]
    /// vocab x hidden (`output`).
    public let output: QuantizedMatrix
    /// vocab x hidden (`token_embd`).
    public let tokenEmbedding: ModelEmbedding
    /// RoPE frequency factors (`rope_freqs.weight`, Llama 3.1/3.2's scaling: headDim/2 floats): pair i
    /// rotates by pos · θ^(-2i/headDim) / factor[i], as llama.cpp applies them. nil: all 1.
    public let ropeFrequencyFactors: [Float]?

    /// Assembles weights (e.g. read from a GGUF file); checks every shape against `config`.
    public init(
        config: ModelConfig, format: QuantFormat, layers: [Layer], outputNorm: [Float], output: QuantizedMatrix,
        tokenEmbedding: ModelEmbedding, ropeFrequencyFactors: [Float]? = nil
    ) throws {
        try config.validate()
        func check(_ ok: Bool, _ what: String) throws {
            if !ok { throw AccelBenchError(.invalidShape, "model \(config.name): \(what) does not match the config") }
        }
        func check(_ m: QuantizedMatrix, _ rows: Int, _ columns: Int, _ what: String) throws {
            try check(m.rows == rows && m.columns == columns, "\(what) (\(m.rows) x \(m.columns), want \(rows) x \(columns))")
        }
        try check(layers.count == config.layers, "layer count \(layers.count)")
        let (h, q, kv, f) = (config.hidden, config.queryWidth, config.kvWidth, config.ffn)
        for (i, l) in layers.enumerated() {
            try check(l.attentionNorm.count == h && l.ffnNorm.count == h, "layer \(i) norm length")
            try check(l.wq, q, h, "layer \(i) wq")
            try check(l.wk, kv, h, "layer \(i) wk")
            try check(l.wv, kv, h, "layer \(i) wv")
            try check(l.wo, h, q, "layer \(i) wo")
            try check(l.wGate, f, h, "layer \(i) w_gate")
            try check(l.wUp, f, h, "layer \(i) w_up")
            try check(l.wDown, h, f, "layer \(i) w_down")
            try check((l.qBias?.count ?? q) == q && (l.kBias?.count ?? kv) == kv && (l.vBias?.count ?? kv) == kv, "layer \(i) Q/K/V bias length")
        }
        try check(outputNorm.count == h, "output norm length")
        try check(output, config.vocab, h, "output")
        try check(tokenEmbedding.rows == config.vocab && tokenEmbedding.columns == h, "token embedding")
        if let factors = ropeFrequencyFactors {
            try check(factors.count == config.headDim / 2, "RoPE frequency factor count \(factors.count)")
            try check(factors.allSatisfy { $0.isFinite && $0 > 0 }, "a RoPE frequency factor <= 0 or not finite")
        }
        self.config = config
        self.format = format
        self.layers = layers
        self.outputNorm = outputNorm
        self.output = output
        self.tokenEmbedding = tokenEmbedding
        self.ropeFrequencyFactors = ropeFrequencyFactors
    }

    /// Bytes of the GGUF-layout weights held (as `ModelConfig.weightBytes` counts them, plus any Q/K/V
    /// biases).
    public var byteCount: Int {
        var bytes = output.byteCount + tokenEmbedding.byteCount + (outputNorm.count + (ropeFrequencyFactors?.count ?? 0)) * 4
        for l in layers {
            bytes += l.matrices.reduce(0) { $0 + $1.byteCount }
            bytes += (l.attentionNorm.count + l.ffnNorm.count + l.biases.reduce(0) { $0 + $1.count }) * 4
        }
        return bytes
    }

    // MARK: Synthetic weights

    /// Random weights for `config`, the same for a given seed whatever the pool size.
    ///
    /// A matrix with fan-in K holds uniform values in [-√(3/K), √(3/K)) (variance 1/K, so a
    /// unit-RMS input gives unit-RMS outputs and activations stay O(1) through the layers); norm
    /// weights are 1 + U[-0.1, 0.1); the token embedding is U[-1, 1). Each row has its own generator
    /// (seeded from `seed`, the tensor and the row), rows are generated and quantized by the pool's
    /// workers one at a time, so the full fp32 model is never materialized (peak extra memory: one
    /// matrix's GGUF bytes while it is copied in).
    public static func synthetic(config: ModelConfig, format: QuantFormat, seed: UInt64 = 1, pool: WorkerPool) throws -> ModelWeights {
        try config.validate()
        let (h, q, kv, f) = (config.hidden, config.queryWidth, config.kvWidth, config.ffn)
        var tensor: UInt64 = 0
        func nextTensor() -> UInt64 { tensor += 1; return tensor }
        func matrix(_ rows: Int, _ columns: Int) -> QuantizedMatrix {
            let id = nextTensor()
            let bound = Float((3.0 / Double(columns)).squareRoot())
            return withRandomBlocks(format: format, rows: rows, columns: columns, seed: seed, tensor: id, scale: bound, pool: pool) {
                QuantizedMatrix(format: format, rows: rows, columns: columns, ggufBlocks: $0)
            }
        }
        func norm() -> [Float] {
            var g = SeededGenerator(seed: mix(seed, nextTensor(), 0))
            return (0..<h).map { _ in 1 + 0.1 * g.nextSignedUnitFloat() }
        }
        var layers: [Layer] = []
        layers.reserveCapacity(config.layers)
        for _ in 0..<config.layers {
            let attentionNorm = norm()
            let wq = matrix(q, h), wk = matrix(kv, h), wv = matrix(kv, h), wo = matrix(h, q)
            let ffnNorm = norm()
            let wGate = matrix(f, h), wUp = matrix(f, h), wDown = matrix(h, f)
            layers.append(Layer(attentionNorm: attentionNorm, wq: wq, wk: wk, wv: wv, wo: wo,
                                ffnNorm: ffnNorm, wGate: wGate, wUp: wUp, wDown: wDown))
        }
        let outputNorm = norm()
        let output = matrix(config.vocab, h)
        let embedding = withRandomBlocks(format: format, rows: config.vocab, columns: h, seed: seed, tensor: nextTensor(),
                                         scale: 1, pool: pool) {
            ModelEmbedding(format: format, rows: config.vocab, columns: h, ggufBlocks: $0)
        }
        return try ModelWeights(config: config, format: format, layers: layers, outputNorm: outputNorm, output: output,
                                tokenEmbedding: embedding)
    }

    /// SplitMix-style mixing of (seed, tensor, row) into one generator seed.
    static func mix(_ seed: UInt64, _ tensor: UInt64, _ row: UInt64) -> UInt64 {
        var g = SeededGenerator(seed: seed ^ (tensor &* 0x9E37_79B9_7F4A_7C15) ^ (row &* 0xC2B2_AE3D_27D4_EB4F))
        return g.next()
    }

    /// Generates `rows x columns` uniform values in [-scale, scale), quantizes them row by row into a
    /// temporary GGUF buffer (rows split over the pool) and hands it to `body`.
    static func withRandomBlocks<T>(
        format: QuantFormat, rows: Int, columns: Int, seed: UInt64, tensor: UInt64, scale: Float, pool: WorkerPool,
        _ body: (UnsafeRawPointer) -> T
    ) -> T {
        let rowBytes = format.rowBytes(columns: columns)
        let bytes = UnsafeMutableRawPointer.allocate(byteCount: max(64, rows * rowBytes), alignment: 64)
        defer { bytes.deallocate() }
        let workers = pool.threadCount
        pool.run { w in
            let range = WorkerPool.chunk(w, of: workers, count: rows)
            if range.isEmpty { return }
            let row = UnsafeMutablePointer<Float>.allocate(capacity: columns)
            defer { row.deallocate() }
            for r in range {
                var g = SeededGenerator(seed: mix(seed, tensor, UInt64(r)))
                for c in 0..<columns { row[c] = scale * g.nextSignedUnitFloat() }
                format.quantizeRow(row, count: columns, into: bytes + r * rowBytes)
            }
        }
        return body(UnsafeRawPointer(bytes))
    }
}
