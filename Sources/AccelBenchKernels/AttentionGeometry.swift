/// The shape of one attention call, O = softmax(Q·Kᵀ·scale [+ causal mask])·V, as every attention
/// implementation (fused kernels, the BLAS composition, the float64 reference) sees it.
///
/// Memory layout (all row-major, dense):
/// - Q and O: `[batch][heads][queryLength][headDim]` fp32;
/// - K and V: `[batch][kvHeads][kvLength][headDim]`, fp32 or fp16 (IEEE half bit patterns).
///
/// Grouped-query attention: query head `h` reads KV head `h / groupSize`, with
/// `groupSize = heads / kvHeads`. Causal masking is bottom-right aligned, as in a KV cache: query row
/// `i` is the token at absolute position `kvLength - queryLength + i` and sees KV positions
/// `j <= kvLength - queryLength + i`. Prefill (queryLength == kvLength) is the usual lower triangle;
/// decode (a few new tokens against a long cache) sees the whole cache up to itself.
public struct AttentionGeometry: Hashable, Sendable, CustomStringConvertible {
    public enum KVType: String, Sendable, Hashable {
        case fp32, fp16
        public var bytes: Int { self == .fp32 ? 4 : 2 }
    }

    public var batch: Int
    public var heads: Int
    public var kvHeads: Int
    public var queryLength: Int
    public var kvLength: Int
    public var headDim: Int
    public var causal: Bool
    public var kvType: KVType
    /// Multiplies Q·Kᵀ before the softmax; 1/√headDim unless set otherwise.
    public var scale: Float

    public init(
        batch: Int, heads: Int, kvHeads: Int, queryLength: Int, kvLength: Int, headDim: Int,
        causal: Bool, kvType: KVType = .fp32, scale: Float? = nil
    ) {
        precondition(batch >= 1 && heads >= 1 && kvHeads >= 1 && queryLength >= 1 && kvLength >= 1 && headDim >= 1,
                     "AttentionGeometry: every dimension must be >= 1")
        precondition(heads % kvHeads == 0, "AttentionGeometry: heads must be a multiple of kvHeads")
        precondition(!causal || queryLength <= kvLength, "AttentionGeometry: causal needs queryLength <= kvLength")
        self.batch = batch
        self.heads = heads
        self.kvHeads = kvHeads
        self.queryLength = queryLength
        self.kvLength = kvLength
        self.headDim = headDim
        self.causal = causal
        self.kvType = kvType
        self.scale = scale ?? 1 / Float(headDim).squareRoot()
    }

    /// Query heads per KV head.
    public var groupSize: Int { heads / kvHeads }
    /// Elements of Q (and of O).
    public var queryElements: Int { batch * heads * queryLength * headDim }
    /// Elements of K (and of V).
    public var kvElements: Int { batch * kvHeads * kvLength * headDim }

    /// Offset of KV position 0 of query row i: row i sees KV positions 0 ... `visibleKV(row: i) - 1`.
    public func visibleKV(row i: Int) -> Int {
        causal ? kvLength - queryLength + i + 1 : kvLength
    }

    public var description: String {
        "b\(batch):h\(heads):kvh\(kvHeads):q\(queryLength):kv\(kvLength):d\(headDim)\(causal ? ":causal" : "")"
    }
}
