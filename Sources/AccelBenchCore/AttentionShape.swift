/// The size of an attention case: O = softmax(Q·Kᵀ·scale [+ causal mask])·V.
///
/// Command-line syntax: colon-separated tokens in any order, e.g. `b1:h32:kvh8:q2048:kv2048:d128:causal`.
/// - `bN` batch (default 1), `hN` query heads, `kvhN` KV heads (default = heads; grouped-query
///   attention when fewer), `qN` new query tokens, `kvN` KV length, `dN` head dim, `causal`;
/// - a model name sets heads, KV heads and head dim (see `models`), e.g. `llama3-8b`;
/// - `prefillN` is shorthand for `qN:kvN:causal`; `decodeN` for `q1:kvN:causal` (add `q4` for 4 new
///   tokens). Counts accept K suffixes (`kv32k` = 32768).
///
/// Causal masking is bottom-right aligned (the new tokens are the last `q` positions of the sequence).
public struct AttentionShape: Hashable, Codable, Sendable, CustomStringConvertible {
    public var batch: Int
    public var heads: Int
    public var kvHeads: Int
    public var queryLength: Int
    public var kvLength: Int
    public var headDim: Int
    public var causal: Bool

    public init(batch: Int = 1, heads: Int, kvHeads: Int? = nil, queryLength: Int, kvLength: Int, headDim: Int, causal: Bool) {
        self.batch = batch
        self.heads = heads
        self.kvHeads = kvHeads ?? heads
        self.queryLength = queryLength
        self.kvLength = kvLength
        self.headDim = headDim
        self.causal = causal
    }

    /// A model's attention geometry.
    public struct Model: Sendable {
        public var name: String
        public var heads: Int
        public var kvHeads: Int
        public var headDim: Int
        public var source: String
    }

    /// Models whose attention shapes the presets use (per-layer; from the models' published configs).
    public static let models: [Model] = [
        Model(name: "llama3-8b", heads: 32, kvHeads: 8, headDim: 128, source: "Meta Llama-3-8B config.json"),
        Model(name: "qwen2.5-7b", heads: 28, kvHeads: 4, headDim: 128, source: "Qwen2.5-7B config.json"),
        Model(name: "llama3.2-1b", heads: 32, kvHeads: 8, headDim: 64, source: "Meta Llama-3.2-1B config.json"),
    ]

    /// New query tokens of a case that counts as decode (a few tokens against a cache).
    public static let decodeMaxQueryLength = 16

    /// Decode: a few new tokens against a longer cache. Judged by KV bytes read, not only FLOPs.
    public var isDecode: Bool { queryLength <= AttentionShape.decodeMaxQueryLength && queryLength < kvLength }

    public var groupSize: Int { heads / kvHeads }

    /// Query x key pairs per head that are not masked.
    public var unmaskedPairsPerHead: Double {
        guard causal else { return Double(queryLength) * Double(kvLength) }
        let q = Double(queryLength), offset = Double(kvLength - queryLength)
        return q * offset + q * (q + 1) / 2
    }

    /// FLOPs credited: 4·d per unmasked (query, key) pair per head (Q·Kᵀ and P·V); softmax not counted.
    public var flops: Double { 4 * Double(batch) * Double(heads) * Double(headDim) * unmaskedPairsPerHead }

    /// Bytes of K and V each call must read at least once (each KV head once, shared by its query heads).
    public func kvBytes(elementBytes: Int) -> Double {
        2 * Double(batch) * Double(kvHeads) * Double(kvLength) * Double(headDim) * Double(elementBytes)
    }

    public var queryElements: Int { batch * heads * queryLength * headDim }
    public var kvElements: Int { batch * kvHeads * kvLength * headDim }

    public var description: String {
        "b\(batch):h\(heads):kvh\(kvHeads):q\(Shape.formatCount(queryLength)):kv\(Shape.formatCount(kvLength)):d\(headDim)\(causal ? ":causal" : "")"
    }

    /// Parses the token syntax described on the type.
    public static func parse(_ text: String) throws -> AttentionShape {
        func fail(_ why: String) -> AccelBenchError {
            AccelBenchError(
                .invalidShape,
                "attention shape '\(text)': \(why); write e.g. b1:h32:kvh8:q2048:kv2048:d128:causal, llama3-8b:prefill2048 or llama3-8b:decode8192 (models: \(models.map(\.name).joined(separator: ", ")))"
            )
        }
        var batch = 1, heads: Int?, kvHeads: Int?, query: Int?, kv: Int?, dim: Int?, causal = false
        for token in text.lowercased().split(separator: ":", omittingEmptySubsequences: false).map(String.init) {
            if token.isEmpty { throw fail("empty field") }
            if token == "causal" { causal = true; continue }
            if let model = models.first(where: { $0.name == token }) {
                heads = model.heads; kvHeads = model.kvHeads; dim = model.headDim
                continue
            }
            // Longest prefixes first: "kvh" before "kv", "prefill"/"decode" before single letters.
            let keys = ["prefill", "decode", "kvh", "kv", "b", "h", "q", "d"]
            guard let key = keys.first(where: { token.hasPrefix($0) && token.count > $0.count }) else {
                throw fail("unknown field '\(token)'")
            }
            let digits = String(token.dropFirst(key.count))
            guard let value = try? Shape.parseCount(digits, context: "attention"), value >= 1 else {
                throw fail("'\(token)': '\(digits)' is not a positive count")
            }
            switch key {
            case "prefill": query = value; kv = value; causal = true
            case "decode": query = query ?? 1; kv = value; causal = true
            case "kvh": kvHeads = value
            case "kv": kv = value
            case "b": batch = value
            case "h": heads = value
            case "q": query = value
            default: dim = value
            }
        }
        guard let heads else { throw fail("missing the query heads (hN) or a model name") }
        guard let query else { throw fail("missing the query length (qN, prefillN or decodeN)") }
        guard let kv else { throw fail("missing the KV length (kvN, prefillN or decodeN)") }
        guard let dim else { throw fail("missing the head dim (dN) or a model name") }
        let kvh = kvHeads ?? heads
        guard heads % kvh == 0 else { throw fail("query heads (\(heads)) must be a multiple of KV heads (\(kvh))") }
        if causal && query > kv {
            throw fail("a causal case needs q <= kv (the new tokens are the last q of the kv positions), got q\(query) kv\(kv)")
        }
        let shape = AttentionShape(batch: batch, heads: heads, kvHeads: kvh, queryLength: query, kvLength: kv, headDim: dim, causal: causal)
        let largest = max(shape.queryElements, shape.kvElements)
        guard largest < 1 << 40 else { throw fail("the shape is too large") }
        return shape
    }
}
