/// The size of an `llm` case: one model, prefill of a prompt (`ppN`, llama-bench's pp) or generation
/// of tokens one at a time at a context depth (`tgN`, `dD`), optionally with fewer layers or another
/// vocabulary than the model (`layersN`, `vocabN`, or `--layers` / `--vocab`). The model is a preset
/// (synthetic weights) or `gguf`: the model of the GGUF file given with `--weights` (its first
/// `layersN` layers; its own vocabulary).
///
/// Syntax: colon-separated, e.g. `llama3-8b:pp512`, `llama3-8b:tg128:d128`, `llama3-8b:tg128:layers4:vocab32000`,
/// `gguf:tg128`.
public struct LLMShape: Hashable, Codable, Sendable, CustomStringConvertible {
    public enum Mode: String, Codable, Sendable {
        /// Prompt processing: N tokens in one batch from an empty cache.
        case pp
        /// Text generation: N tokens, one step each, starting at the context depth.
        case tg
    }

    public var model: String
    public var mode: Mode
    public var tokens: Int
    /// Tokens already in the KV cache when a tg run starts (0 for pp).
    public var depth: Int
    public var layers: Int?
    public var vocab: Int?

    public init(model: String, mode: Mode, tokens: Int, depth: Int = 0, layers: Int? = nil, vocab: Int? = nil) {
        self.model = model
        self.mode = mode
        self.tokens = tokens
        self.depth = depth
        self.layers = layers
        self.vocab = vocab
    }

    /// The model presets the `llm` workload knows (their shapes are in AccelBenchLLM's ModelConfig).
    public static let models = ["llama3-8b", "qwen2.5-7b", "llama3.2-1b"]

    /// The model name of the `--weights` file's model.
    public static let fileModel = "gguf"

    public var description: String {
        var text = "\(model):\(mode.rawValue)\(tokens)"
        if depth > 0 { text += ":d\(depth)" }
        if let layers { text += ":layers\(layers)" }
        if let vocab { text += ":vocab\(vocab)" }
        return text
    }

    public static func parse(_ text: String) throws -> LLMShape {
        func fail(_ why: String) -> AccelBenchError {
            AccelBenchError(
                .invalidShape,
                "llm shape '\(text)': \(why); write e.g. llama3-8b:pp512, llama3-8b:tg128:d128 or llama3-8b:tg128:layers4:vocab32000 (models: \(models.joined(separator: ", ")); \(fileModel) with --weights FILE.gguf)"
            )
        }
        var model: String?, mode: Mode?, tokens = 0, depth = 0, layers: Int?, vocab: Int?
        for token in text.lowercased().split(separator: ":", omittingEmptySubsequences: false).map(String.init) {
            if models.contains(token) || token == fileModel { model = token; continue }
            guard let key = ["layers", "vocab", "pp", "tg", "d"].first(where: { token.hasPrefix($0) && token.count > $0.count }) else {
                throw fail("unknown field '\(token)'")
            }
            let digits = String(token.dropFirst(key.count))
            guard let value = try? Shape.parseCount(digits, context: "llm"), value >= 1 else {
                throw fail("'\(token)': '\(digits)' is not a positive count")
            }
            switch key {
            case "layers": layers = value
            case "vocab": vocab = value
            case "pp": mode = .pp; tokens = value
            case "tg": mode = .tg; tokens = value
            default: depth = value
            }
        }
        guard let model else { throw fail("missing the model name") }
        guard let mode else { throw fail("missing ppN (prompt tokens) or tgN (generated tokens)") }
        if mode == .pp && depth > 0 { throw fail("a depth (dN) applies to tg, not pp") }
        return LLMShape(model: model, mode: mode, tokens: tokens, depth: depth, layers: layers, vocab: vocab)
    }
}
