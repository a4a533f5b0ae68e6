import AccelBenchCore
import AccelBenchKernels

/// The shape of a decoder-only (llama-family) transformer: pre-norm blocks of RMSNorm -> grouped-query
/// attention with rotary position embeddings -> residual, RMSNorm -> SwiGLU MLP -> residual; a final
/// RMSNorm and an untied vocabulary projection.
///
/// Two parts live in the weights, not here, since only GGUF files have them (synthetic weights do
/// without; neither changes the cost of a step measurably): Qwen2's Q/K/V biases and Llama 3.1/3.2's
/// RoPE frequency factors (`rope_freqs.weight`).
public struct ModelConfig: Hashable, Sendable, CustomStringConvertible {
    /// How RoPE pairs the dimensions of a head, as llama.cpp applies it to GGUF tensors.
    public enum RopeStyle: String, Hashable, Sendable {
        /// Adjacent pairs (2i, 2i+1): llama.cpp's `LLAMA_ROPE_TYPE_NORM`, used for llama GGUF files (the
        /// converter permutes HF's Q/K rows so that this convention reproduces HF's rotate-half).
        case interleaved
        /// Pairs (i, i + headDim/2): HF's "rotate half", llama.cpp's `LLAMA_ROPE_TYPE_NEOX` (qwen2 GGUF).
        case neox
    }

    public var name: String
    public var hidden: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var ffn: Int
    public var vocab: Int
    public var ropeTheta: Double
    public var rmsEps: Double
    public var ropeStyle: RopeStyle

    public init(
        name: String, hidden: Int, layers: Int, heads: Int, kvHeads: Int, ffn: Int, vocab: Int,
        ropeTheta: Double, rmsEps: Double, ropeStyle: RopeStyle = .interleaved
    ) {
        self.name = name
        self.hidden = hidden
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads
        self.ffn = ffn
        self.vocab = vocab
        self.ropeTheta = ropeTheta
        self.rmsEps = rmsEps
        self.ropeStyle = ropeStyle
    }

    /// hidden / heads.
    public var headDim: Int { hidden / heads }
    /// Width of the query projection's output: heads · headDim.
    public var queryWidth: Int { heads * headDim }
    /// Width of the key (and value) projection's output: kvHeads · headDim.
    public var kvWidth: Int { kvHeads * headDim }
    /// Query heads per KV head.
    public var groupSize: Int { heads / kvHeads }

    // MARK: Presets

    /// Published shapes (from the models' config.json / GGUF metadata).
    public static let presets: [ModelConfig] = [
        ModelConfig(name: "llama3-8b", hidden: 4096, layers: 32, heads: 32, kvHeads: 8, ffn: 14336, vocab: 128256,
                    ropeTheta: 500_000, rmsEps: 1e-5, ropeStyle: .interleaved),
        ModelConfig(name: "qwen2.5-7b", hidden: 3584, layers: 28, heads: 28, kvHeads: 4, ffn: 18944, vocab: 152064,
                    ropeTheta: 1_000_000, rmsEps: 1e-6, ropeStyle: .neox),
        ModelConfig(name: "llama3.2-1b", hidden: 2048, layers: 16, heads: 32, kvHeads: 8, ffn: 8192, vocab: 128256,
                    ropeTheta: 500_000, rmsEps: 1e-5, ropeStyle: .interleaved),
    ]

    /// The preset called `name` (case-insensitive).
    public static func named(_ name: String) throws -> ModelConfig {
        if let config = presets.first(where: { $0.name.lowercased() == name.lowercased() }) { return config }
        throw AccelBenchError(
            .invalidArgument,
            "unknown model '\(name)'; known models: \(presets.map(\.name).joined(separator: ", "))")
    }

    /// This shape with fewer (or more) layers or another vocabulary size (e.g. a quick run of a big model).
    public func with(layers: Int? = nil, vocab: Int? = nil) -> ModelConfig {
        var copy = self
        if let layers { copy.layers = layers }
        if let vocab { copy.vocab = vocab }
        return copy
    }

    /// Throws unless the forward step can run this shape: every dimension >= 1, hidden a multiple of
    /// heads, heads of kvHeads, headDim of 16 (the fused attention kernels), hidden and ffn of 32
    /// (quantization blocks).
    public func validate() throws {
        func fail(_ why: String) -> AccelBenchError { AccelBenchError(.invalidShape, "model \(name): \(why)") }
        if [hidden, layers, heads, kvHeads, ffn, vocab].contains(where: { $0 < 1 }) { throw fail("every dimension must be >= 1") }
        if hidden % heads != 0 { throw fail("hidden \(hidden) is not a multiple of heads \(heads)") }
        if heads % kvHeads != 0 { throw fail("heads \(heads) is not a multiple of kvHeads \(kvHeads)") }
        if headDim % 16 != 0 { throw fail("headDim \(headDim) is not a multiple of 16") }
        if hidden % 2 != 0 || headDim % 2 != 0 { throw fail("headDim must be even for RoPE") }
        if hidden % QuantFormat.blockElements != 0 || ffn % QuantFormat.blockElements != 0 || queryWidth % QuantFormat.blockElements != 0 {
            throw fail("hidden and ffn must be multiples of \(QuantFormat.blockElements)")
        }
        if !(ropeTheta > 0) || !(rmsEps > 0) { throw fail("ropeTheta and rmsEps must be > 0") }
    }

    // MARK: Sizes

    /// Parameters of the quantized matrices of one layer: wq, wk, wv, wo, w_gate, w_up, w_down.
    public var layerMatrixParameters: Int {
        hidden * queryWidth + 2 * hidden * kvWidth + queryWidth * hidden + 3 * hidden * ffn
    }

    /// Every parameter: layer matrices, norms, final norm, output projection, token embedding.
    public var parameterCount: Int {
        layers * (layerMatrixParameters + 2 * hidden) + hidden + 2 * vocab * hidden
    }

    /// Bytes of the weights as a GGUF file of this format stores them (and as llama.cpp's "pure"
    /// q8_0 / q4_0 quantization types them): every layer's 7 matrices, the output projection and the
    /// token embedding in `format` (the embedding is kept in `format` and looked-up rows are
    /// dequantized), the 2·layers + 1 RMSNorm weight vectors in fp32.
    ///
    /// Not counted: the repacked copy `QuantizedMatrix` keeps beside the GGUF blocks for the SIMD
    /// kernels (about as large again for the matrices), the KV cache (`kvCacheBytes`), activations and
    /// plan scratch.
    public func weightBytes(format: QuantFormat) -> Int {
        let matrices = layers * (
            queryWidth * format.rowBytes(columns: hidden)           // wq
            + 2 * kvWidth * format.rowBytes(columns: hidden)        // wk, wv
            + hidden * format.rowBytes(columns: queryWidth)         // wo
            + 2 * ffn * format.rowBytes(columns: hidden)            // w_gate, w_up
            + hidden * format.rowBytes(columns: ffn))               // w_down
        let vocabMatrices = 2 * vocab * format.rowBytes(columns: hidden) // output, token embedding
        let norms = (2 * layers + 1) * hidden * 4
        return matrices + vocabMatrices + norms
    }

    /// Bytes of an fp32 KV cache (K and V) holding `context` positions of every layer.
    public func kvCacheBytes(context: Int) -> Int {
        2 * layers * kvWidth * context * 4
    }

    public var description: String {
        "\(name): hidden \(hidden), \(layers) layers, \(heads) heads (\(kvHeads) KV, head dim \(headDim)), "
            + "FFN \(ffn), vocab \(vocab), rope θ \(ropeTheta) (\(ropeStyle.rawValue)), eps \(rmsEps)"
    }
}
