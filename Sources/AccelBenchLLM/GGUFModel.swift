import AccelBenchCore
import AccelBenchKernels
import Foundation

/// A llama-family model in a GGUF file (llama.cpp's tensor names), checked before any weight is read:
/// `init` derives the `ModelConfig` from the file's hyperparameters and checks the type and shape of
/// every tensor the forward step needs, so a wrong file fails in a second with a message naming the
/// file, the tensor and what was expected; `weights(layers:)` then copies the weights out.
///
/// Conventions, as llama.cpp runs these files:
/// - RoPE: `llama` files use adjacent pairs (`ModelConfig.RopeStyle.interleaved`, llama.cpp's
///   LLAMA_ROPE_TYPE_NORM): convert_hf_to_gguf.py permutes the rows of HF's Q and K so that this
///   reproduces HF's rotate-half, and the rows are used here as stored (no un-permuting). `qwen2` files
///   are not permuted and use halves (`.neox`). Llama 3.1/3.2's `rope_freqs.weight` is applied.
/// - Tied output: without `output.weight`, the output projection is `token_embd.weight`.
/// - One format: every matrix (the token embedding and the output included) must be Q8_0, or every
///   one Q4_0: the format of `blk.0.attn_q.weight` is the model's. llama.cpp's Q4_0 quantization
///   keeps the output (or a tied embedding) in Q6_K unless asked otherwise; such files are refused
///   with the llama-quantize options that make a pure one. Norms, biases and RoPE factors are F32 or F16.
/// - Vocabulary: the rows of `token_embd.weight` (the tokenizer list may be shorter).
public struct GGUFModel: Sendable {
    /// The architectures accelbench runs (`general.architecture`) and their RoPE pairing.
    public static let architectures: [(name: String, rope: ModelConfig.RopeStyle)] = [("llama", .interleaved), ("qwen2", .neox)]

    public let file: GGUFFile
    /// The whole model (every layer); its name is the file's name without `.gguf`.
    public let config: ModelConfig
    /// The format of every weight matrix.
    public let format: QuantFormat
    /// The file has no `output.weight`: the output projection is the token embedding.
    public let tiedOutput: Bool
    /// Tensors of the file the forward step does not use, `blk.N.` written `blk.*.` (e.g. an
    /// `attn_output.bias`): the logits then differ from llama.cpp's, the cost hardly.
    public let ignoredTensors: [String]

    private let names: Set<String>

    /// Opens and checks the file at `path`.
    public init(path: String) throws {
        try self.init(file: GGUFFile(path: path))
    }

    public init(file: GGUFFile) throws {
        self.file = file
        let path = file.path
        let arch = file.architecture ?? ""
        guard let rope = GGUFModel.architectures.first(where: { $0.name == arch })?.rope else {
            let known = GGUFModel.architectures.map(\.name)
            throw AccelBenchError(
                .invalidArgument,
                "\(path): architecture '\(file.architecture ?? "(none)")' (general.architecture) is not supported; accelbench runs"
                    + " \(known.joined(separator: " and ")) models (pre-norm RMSNorm, grouped-query attention with RoPE, SwiGLU);"
                    + " pass a \(known.joined(separator: " or ")) GGUF file")
        }
        let h = try file.llamaHyperparameters()
        if let experts = file.int("\(arch).expert_count"), experts > 0 {
            throw AccelBenchError(
                .invalidArgument,
                "\(path): a mixture-of-experts model (\(arch).expert_count \(experts)); accelbench runs dense models only; pass a dense \(arch) GGUF file")
        }
        for key in ["attention.key_length", "attention.value_length", "rope.dimension_count"] {
            if let value = file.int("\(arch).\(key)"), value != h.headDim {
                throw AccelBenchError(
                    .invalidArgument,
                    "\(path): \(arch).\(key) is \(value), not embedding_length / head_count = \(h.headDim); accelbench runs models whose"
                        + " head dimension is hidden / heads and whose RoPE rotates the whole head; pass a standard \(arch) GGUF file")
            }
        }
        names = Set(file.tensors.map(\.name))
        // The vocabulary is the embedding's row count (checked against hidden below).
        let embedding = try file.tensor(GGUFModel.tokenEmbedding)
        guard embedding.dims.count >= 2 else {
            throw AccelBenchError(
                .invalidShape,
                "\(path): tensor '\(embedding.name)' has shape \(embedding.dims), expected [\(h.embeddingLength), vocab] (ne0 first);"
                    + " the file is corrupt or was converted wrongly (convert it again with a current llama.cpp)")
        }
        let vocab = embedding.dims[1]
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let config = ModelConfig(
            name: name, hidden: h.embeddingLength, layers: h.blockCount, heads: h.headCount, kvHeads: h.headCountKV,
            ffn: h.feedForwardLength, vocab: vocab, ropeTheta: h.ropeFreqBase, rmsEps: h.rmsNormEpsilon, ropeStyle: rope)
        do {
            try config.validate()
        } catch let e as AccelBenchError {
            throw AccelBenchError(e.code, "\(path): \(e.message); accelbench's kernels cannot run this model")
        }
        self.config = config

        // The model's format: that of the first matrix.
        let first = try file.tensor(GGUFModel.block(0, "attn_q.weight"))
        guard let format = first.type.quantFormat else {
            throw AccelBenchError(
                .invalidArgument,
                "\(path): tensor '\(first.name)' has type \(first.type); accelbench runs models whose matrices are all Q8_0 or all Q4_0;"
                    + " \(GGUFModel.requantizeAdvice)")
        }
        self.format = format
        tiedOutput = !names.contains(GGUFModel.output)

        var used: Set<String> = []
        for t in GGUFModel.tensors(config) {
            guard names.contains(t.name) else {
                if t.optional { continue }
                _ = try file.tensor(t.name)  // throws, naming the tensor and listing some that exist
                continue
            }
            used.insert(t.name)
            try GGUFModel.check(t, in: file, format: format, config: config)
        }
        ignoredTensors = GGUFModel.unique(
            file.tensors.map(\.name).filter { !used.contains($0) }.map { GGUFModel.blockPattern($0) })
    }

    /// The config of a run of the first `layers` layers (all when nil).
    public func config(layers: Int?) throws -> ModelConfig {
        guard let layers else { return config }
        guard layers >= 1 && layers <= config.layers else {
            throw AccelBenchError(
                .invalidArgument,
                "\(file.path): the model has \(config.layers) layers, so it cannot run \(layers); ask for 1 to \(config.layers) (--layers or the shape's layersN)")
        }
        return config.with(layers: layers)
    }

    /// Copies the weights of the first `layers` layers (all when nil) out of the file: the matrices
    /// (each also repacked for the kernels), the norms, biases and RoPE factors as fp32.
    public func weights(layers: Int? = nil) throws -> ModelWeights {
        let config = try self.config(layers: layers)
        let (h, q, kv, f) = (config.hidden, config.queryWidth, config.kvWidth, config.ffn)
        func matrix(_ name: String, _ rows: Int, _ columns: Int) throws -> QuantizedMatrix {
            try file.quantizedMatrix(name, rows: rows, columns: columns)
        }
        func optionalFloats(_ name: String) throws -> [Float]? {
            names.contains(name) ? try file.floats(name) : nil
        }
        var blocks: [ModelWeights.Layer] = []
        blocks.reserveCapacity(config.layers)
        for i in 0..<config.layers {
            func b(_ part: String) -> String { GGUFModel.block(i, part) }
            blocks.append(ModelWeights.Layer(
                attentionNorm: try file.floats(b("attn_norm.weight")),
                wq: try matrix(b("attn_q.weight"), q, h), wk: try matrix(b("attn_k.weight"), kv, h),
                wv: try matrix(b("attn_v.weight"), kv, h), wo: try matrix(b("attn_output.weight"), h, q),
                ffnNorm: try file.floats(b("ffn_norm.weight")),
                wGate: try matrix(b("ffn_gate.weight"), f, h), wUp: try matrix(b("ffn_up.weight"), f, h),
                wDown: try matrix(b("ffn_down.weight"), h, f),
                qBias: try optionalFloats(b("attn_q.bias")), kBias: try optionalFloats(b("attn_k.bias")),
                vBias: try optionalFloats(b("attn_v.bias"))))
        }
        let format = self.format
        let embedding = try file.withTensorBytes(GGUFModel.tokenEmbedding) { bytes in
            ModelEmbedding(format: format, rows: config.vocab, columns: h, ggufBlocks: bytes.baseAddress!)
        }
        return try ModelWeights(
            config: config, format: format, layers: blocks, outputNorm: try file.floats(GGUFModel.outputNorm),
            output: try matrix(tiedOutput ? GGUFModel.tokenEmbedding : GGUFModel.output, config.vocab, h),
            tokenEmbedding: embedding, ropeFrequencyFactors: try optionalFloats(GGUFModel.ropeFrequencies))
    }

    /// "weights of FILE (llama, output tied to token_embd, ignored: blk.*.attn_output.bias)": where a
    /// case's weights come from, for its kernel path.
    public var origin: String {
        var notes = [file.architecture ?? "?"]
        if tiedOutput { notes.append("output tied to token_embd") }
        if !ignoredTensors.isEmpty { notes.append("ignored: \(ignoredTensors.joined(separator: " "))") }
        return "weights of \(file.path) (\(notes.joined(separator: ", ")))"
    }

    // MARK: Tensor names and checks

    static let tokenEmbedding = "token_embd.weight"
    static let output = "output.weight"
    static let outputNorm = "output_norm.weight"
    static let ropeFrequencies = "rope_freqs.weight"

    static func block(_ i: Int, _ part: String) -> String { "blk.\(i).\(part)" }

    /// "blk.12.attn_q.bias" -> "blk.*.attn_q.bias".
    static func blockPattern(_ name: String) -> String {
        let parts = name.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "blk", Int(parts[1]) != nil else { return name }
        return "blk.*.\(parts[2])"
    }

    static func unique(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }

    static let requantizeAdvice =
        "re-quantize the model with llama-quantize --pure (from its F16/BF16 GGUF) to q8_0 or q4_0,"
        + " or pass --output-tensor-type and --token-embedding-type with the same type"

    /// What a tensor must be.
    struct Expected {
        enum Kind { case matrix, floats }
        var name: String
        var kind: Kind
        /// ne order (ne[0], the contiguous dimension, first).
        var dims: [Int]
        var optional = false
    }

    /// Every tensor the forward step of `config` reads (all layers), with its GGUF shape.
    static func tensors(_ c: ModelConfig) -> [Expected] {
        let (h, q, kv, f) = (c.hidden, c.queryWidth, c.kvWidth, c.ffn)
        var list: [Expected] = [
            Expected(name: tokenEmbedding, kind: .matrix, dims: [h, c.vocab]),
            Expected(name: outputNorm, kind: .floats, dims: [h]),
            Expected(name: output, kind: .matrix, dims: [h, c.vocab], optional: true),
            Expected(name: ropeFrequencies, kind: .floats, dims: [c.headDim / 2], optional: true),
        ]
        for i in 0..<c.layers {
            list += [
                Expected(name: block(i, "attn_norm.weight"), kind: .floats, dims: [h]),
                Expected(name: block(i, "attn_q.weight"), kind: .matrix, dims: [h, q]),
                Expected(name: block(i, "attn_k.weight"), kind: .matrix, dims: [h, kv]),
                Expected(name: block(i, "attn_v.weight"), kind: .matrix, dims: [h, kv]),
                Expected(name: block(i, "attn_output.weight"), kind: .matrix, dims: [q, h]),
                Expected(name: block(i, "ffn_norm.weight"), kind: .floats, dims: [h]),
                Expected(name: block(i, "ffn_gate.weight"), kind: .matrix, dims: [h, f]),
                Expected(name: block(i, "ffn_up.weight"), kind: .matrix, dims: [h, f]),
                Expected(name: block(i, "ffn_down.weight"), kind: .matrix, dims: [f, h]),
                Expected(name: block(i, "attn_q.bias"), kind: .floats, dims: [q], optional: true),
                Expected(name: block(i, "attn_k.bias"), kind: .floats, dims: [kv], optional: true),
                Expected(name: block(i, "attn_v.bias"), kind: .floats, dims: [kv], optional: true),
            ]
        }
        return list
    }

    private static func check(_ t: Expected, in file: GGUFFile, format: QuantFormat, config: ModelConfig) throws {
        let info = try file.tensor(t.name)
        let path = file.path
        switch t.kind {
        case .matrix:
            guard info.type == GGMLType(format) else {
                throw AccelBenchError(
                    .invalidArgument,
                    "\(path): tensor '\(t.name)' has type \(info.type), but the model's matrices are \(GGMLType(format).name)"
                        + " (the type of blk.0.attn_q.weight); accelbench runs every matrix (token_embd and output included) in one format;"
                        + " \(requantizeAdvice)")
            }
        case .floats:
            guard info.type == .f32 || info.type == .f16 else {
                throw AccelBenchError(
                    .invalidArgument,
                    "\(path): tensor '\(t.name)' has type \(info.type); accelbench reads norm weights, biases and RoPE factors as F32 or F16;"
                        + " convert the model again with llama.cpp's convert_hf_to_gguf.py and llama-quantize")
            }
        }
        // Trailing dimensions of 1 are allowed (as ggml does).
        var found = info.dims
        while found.count > t.dims.count, found.last == 1 { found.removeLast() }
        guard found == t.dims else {
            let c = config
            func shape(_ d: [Int]) -> String { "[\(d.map(String.init).joined(separator: ", "))]" }
            throw AccelBenchError(
                .invalidShape,
                "\(path): tensor '\(t.name)' has shape \(shape(info.dims)), expected \(shape(t.dims)) (ne0 first) for the file's hyperparameters"
                    + " (hidden \(c.hidden), \(c.heads) heads, \(c.kvHeads) KV heads, head dim \(c.headDim), FFN \(c.ffn), vocab \(c.vocab));"
                    + " the tensors do not match the metadata: the file is corrupt or was converted wrongly (convert it again with a current llama.cpp)")
        }
    }
}

extension ModelWeights {
    /// The weights of the llama / qwen2 model in `gguf` (its first `layers` layers; all when nil),
    /// with the config its hyperparameters give. See `GGUFModel` for the conventions and checks.
    public static func load(gguf: GGUFFile, layers: Int? = nil) throws -> ModelWeights {
        try GGUFModel(file: gguf).weights(layers: layers)
    }
}

extension GGUFWriter {
    /// Adds `weights` as a GGUF model with llama.cpp's keys and tensor names: architecture `llama` for
    /// interleaved RoPE, `qwen2` for NEOX; hyperparameters as llama.cpp writes them (u32 counts, f32
    /// rope base and epsilon); norms, biases and RoPE factors in F32; matrices as their GGUF blocks.
    /// `tiedOutput` leaves out `output.weight` (for weights whose output is their token embedding).
    /// `GGUFModel` reads the result back to the same weights.
    public mutating func addModel(_ weights: ModelWeights, tiedOutput: Bool = false, contextLength: Int = 4096) throws {
        let c = weights.config
        let arch = GGUFModel.architectures.first { $0.rope == c.ropeStyle }!.name
        set("general.architecture", .string(arch))
        set("general.name", .string(c.name))
        set("\(arch).embedding_length", .uint32(UInt32(c.hidden)))
        set("\(arch).block_count", .uint32(UInt32(c.layers)))
        set("\(arch).attention.head_count", .uint32(UInt32(c.heads)))
        set("\(arch).attention.head_count_kv", .uint32(UInt32(c.kvHeads)))
        set("\(arch).feed_forward_length", .uint32(UInt32(c.ffn)))
        set("\(arch).context_length", .uint32(UInt32(contextLength)))
        set("\(arch).rope.freq_base", .float32(Float(c.ropeTheta)))
        set("\(arch).attention.layer_norm_rms_epsilon", .float32(Float(c.rmsEps)))
        let e = weights.tokenEmbedding
        try addTensor(
            GGUFModel.tokenEmbedding, dims: [e.columns, e.rows], type: GGMLType(e.format),
            bytes: [UInt8](UnsafeRawBufferPointer(start: e.blocks, count: e.byteCount)))
        if let factors = weights.ropeFrequencyFactors {
            try addF32(GGUFModel.ropeFrequencies, dims: [factors.count], values: factors)
        }
        for (i, l) in weights.layers.enumerated() {
            func b(_ part: String) -> String { GGUFModel.block(i, part) }
            try addF32(b("attn_norm.weight"), dims: [l.attentionNorm.count], values: l.attentionNorm)
            try addMatrix(b("attn_q.weight"), l.wq)
            try addMatrix(b("attn_k.weight"), l.wk)
            try addMatrix(b("attn_v.weight"), l.wv)
            for (part, bias) in [("attn_q.bias", l.qBias), ("attn_k.bias", l.kBias), ("attn_v.bias", l.vBias)] {
                if let bias { try addF32(b(part), dims: [bias.count], values: bias) }
            }
            try addMatrix(b("attn_output.weight"), l.wo)
            try addF32(b("ffn_norm.weight"), dims: [l.ffnNorm.count], values: l.ffnNorm)
            try addMatrix(b("ffn_gate.weight"), l.wGate)
            try addMatrix(b("ffn_up.weight"), l.wUp)
            try addMatrix(b("ffn_down.weight"), l.wDown)
        }
        try addF32(GGUFModel.outputNorm, dims: [weights.outputNorm.count], values: weights.outputNorm)
        if !tiedOutput { try addMatrix(GGUFModel.output, weights.output) }
    }
}
