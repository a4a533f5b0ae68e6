// AttentionDecodeKernel.swift: split-KV decode attention (a few query tokens against a long KV
// cache), shared by the per-ISA kernel modules.
//
// There is one copy of this file, in Sources/KernelsPortable; Sources/KernelsAVX2 and
// Sources/KernelsAVX512 hold symbolic links to it (as with SGEMMDriver.swift), so each module compiles
// it with its own target CPU. `AttentionDecodeKernel` is each module's public entry point; the rest is
// internal. What each module must define next to it (also internal, @inline(__always)):
//
//   attnMulAdd, attnMax, attnReduceMax, attnReduceAdd, attnLoadHalf   (AttentionPrimitives.swift)
//   attnExp                                                           (AttentionCommon.swift)
//   decodeTransposeSum16(_ x: UnsafePointer<SIMD16<Float>>) -> SIMD16<Float>
//       lane j of the result = the sum of the 16 lanes of x[j]          (AttentionDecode<ISA>.swift)
//   decodeExp2(_ x: SIMD16<Float>) -> SIMD16<Float>
//       2^x, relative error ~2e-7 for x >= -126, >= 0 and <= 2^-126 below (-inf included), never NaN
//   decodeMaskLanes(_ v: SIMD16<Float>, from: Int, with: Float) -> SIMD16<Float>
//       lanes i >= from (from may be < 0 or > 16) replaced by the fill value
//   decodePackedQK: Bool, decodeLane4(_ v:, _ b: Int), decodeReduceGroups4(_ x:)
//       whether 8-row tiles use the packed Q·K (`decodeQKPacked`), and its lane broadcast and sums
//
// One `partial` call handles one KV head of one batch item and one range ("chunk") of KV positions,
// for all `rows` query rows that read that KV head (groupSize heads x queryLength tokens, contiguous
// in Q and O). It walks the chunk in blocks of `blockRows` (32) KV positions with an online softmax;
// the query rows are cut into tiles of at most 8 (balanced: 12 rows are 6 + 6), and for each block
// and tile:
//   1. Q·Kᵀ: every K row is widened once and multiplied with all the tile's query rows (a 16-lane
//      partial product per (row, KV position), two KV positions at a time so each Q chunk load feeds
//      two FMAs); 16 KV positions' partial vectors are then reduced together by the module's
//      transpose-add tree, one vector of 16 scores per query row. 8-row tiles on AVX-512 use the
//      packed form instead (`decodeQKPacked`: 4 rows x 4 head-dimension elements per vector, so
//      only 4-lane sums remain; ~5-10% faster there, slower for 4 rows, see that function);
//   2. softmax, in base 2 (Q is pre-multiplied by scale·log2(e), so 2^(s - max) = e^(natural score -
//      natural max)): the running max and sum of each row are updated, scores become 2^(s - max),
//      and the factor 2^(oldMax - newMax) rescales the row's accumulator;
//   3. P·V: register tiles of (up to 4 rows) x (up to 4 chunks of 16 floats of the head dimension)
//      of accumulators, 16 at most; each V chunk is widened once per 4 rows and multiplied with
//      every row's broadcast probability (a 5-8 row tile runs as 4 + the rest).
// The K and V blocks (blockRows x headDim) stay in L1/L2 across the tiles of a block, so with more
// than 8 query rows per KV head the cache is still read from memory once. The row accumulators are
// the caller's `acc` rows (unnormalized, written back after each block). `combine` merges the chunks
// of one KV head: O = Σ_c 2^(m_c - M)·acc_c / Σ_c 2^(m_c - M)·l_c.
//
// Prefetching (measured on Zen 4: without it one core reached ~60-75% of its plain-read bandwidth on
// a DRAM-resident cache, with it ~85-100%; neither stream alone is enough): the first row tile of
// each block prefetches the next block into L2, its K rows two at a time from the score loop and its
// V rows one at a time from each P·V d-tile (the columns that d-tile reads), so the requests are
// spread over the whole block and both the K and the V stream stay in flight. The first block of a
// chunk is requested at once on entry, and the last block prefetches the first block of the caller's
// next chunk (`followK`/`followV`). Larger blocks (64-256) were ~5-10% faster on cache-resident data
// but slower from DRAM (one stream at a time for longer).
//
// Masking: row r (token index i = r % queryLength) sees KV positions j < visible(i), where visible(i)
// = kvLength - queryLength + i + 1 when causal, kvLength otherwise. Masked scores are -inf (so the max
// ignores them) and their probabilities are set to exactly 0; the running max starts at
// -Float.greatestFiniteMagnitude (not -inf), so a block or a whole chunk where a row sees nothing
// never computes -inf - (-inf) = NaN. Such a chunk reports a sum of 0 and a max of
// -greatestFiniteMagnitude, and `combine` gives it a weight of at most 2^-126 times a sum of 0.

/// A count known at compile time: the generic tile functions are specialized per count, so their
/// `if n > r` guards fold away and each accumulator is a separate register.
protocol DecodeCount { static var count: Int { get } }
enum DecodeCount1: DecodeCount { static var count: Int { 1 } }
enum DecodeCount2: DecodeCount { static var count: Int { 2 } }
enum DecodeCount3: DecodeCount { static var count: Int { 3 } }
enum DecodeCount4: DecodeCount { static var count: Int { 4 } }
enum DecodeCount5: DecodeCount { static var count: Int { 5 } }
enum DecodeCount6: DecodeCount { static var count: Int { 6 } }
enum DecodeCount7: DecodeCount { static var count: Int { 7 } }
enum DecodeCount8: DecodeCount { static var count: Int { 8 } }

/// How a K or V row is stored: `load` widens 16 consecutive elements (chunk `chunk` of the row) to fp32.
protocol DecodeKVElement {
    static var bytes: Int { get }
    static func load(_ row: UnsafeRawPointer, chunk: Int) -> SIMD16<Float>
}

enum DecodeKVFloat: DecodeKVElement {
    static var bytes: Int { 4 }
    @inline(__always)
    static func load(_ row: UnsafeRawPointer, chunk: Int) -> SIMD16<Float> {
        row.loadUnaligned(fromByteOffset: chunk &* 64, as: SIMD16<Float>.self)
    }
}

enum DecodeKVHalf: DecodeKVElement {
    static var bytes: Int { 2 }
    @inline(__always)
    static func load(_ row: UnsafeRawPointer, chunk: Int) -> SIMD16<Float> {
        attnLoadHalf(row + chunk &* 32)
    }
}

/// The module's entry point for decode attention. Only raw pointers, integers and flags cross the
/// module boundary; the caller (AttentionDecodePlan) owns the memory and the threads.
public enum AttentionDecodeKernel {
    /// KV positions per online-softmax block (a multiple of 16).
    public static var blockRows: Int { 32 }
    /// Query rows per register tile: more rows sharing a KV head are processed in several tiles,
    /// each re-reading the block of K and V from cache.
    public static var maxTileRows: Int { 8 }

    /// Bytes of the workspace one `partial` call needs (a worker's scratch, reused call after call).
    public static func workspaceBytes(rows: Int, headDim: Int) -> Int {
        DecodeWorkspace(rows: rows, headDim: headDim).floats &* 4 &+ 64
    }

    /// The unnormalized attention of `rows` query rows against KV positions start..<end of one KV
    /// head, with its per-row softmax statistics.
    ///
    /// - Parameters:
    ///   - q: the rows' queries, `rows` x `headDim` fp32, row r = group member r / queryLength, token
    ///     r % queryLength (the layout of Q for the query heads of one KV head).
    ///   - k, v: position 0 of the KV head's cache, `kvLength` x `headDim`, fp16 bit patterns when
    ///     `kvHalf`, fp32 otherwise.
    ///   - start, end: the chunk, 0 <= start < end <= kvLength.
    ///   - acc: `rows` x `headDim` out: Σ_j 2^(s_rj - m_r)·V_j over the visible j in the chunk, where
    ///     s_rj = scale·log2(e)·q_r·k_j is the score in base 2 (divided by l_r when `normalize`: the
    ///     final output when the chunk is the whole cache).
    ///   - rowMax, rowSum: `rows` out: m_r (the largest visible base-2 score,
    ///     -greatestFiniteMagnitude when the row sees no position of the chunk) and
    ///     l_r = Σ_j 2^(s_rj - m_r).
    ///   - workspace: `workspaceBytes(rows:headDim:)` bytes, any alignment, not shared with a
    ///     concurrent call.
    ///   - followK, followV, followRows: where the caller's next chunk starts (its first K and V
    ///     rows, with the same element type and head dimension) and how many rows it has, or nil and
    ///     0: the last block of this chunk prefetches the first block of that one, so a worker moving
    ///     from chunk to chunk keeps its memory stream going. Only prefetched, never read.
    @inline(never)
    public static func partial(
        q: UnsafePointer<Float>, rows: Int, queryLength: Int, headDim: Int, scale: Float,
        k: UnsafeRawPointer, v: UnsafeRawPointer, kvHalf: Bool, kvLength: Int, causal: Bool,
        start: Int, end: Int,
        acc: UnsafeMutablePointer<Float>, rowMax: UnsafeMutablePointer<Float>, rowSum: UnsafeMutablePointer<Float>,
        normalize: Bool, workspace: UnsafeMutableRawPointer,
        followK: UnsafeRawPointer? = nil, followV: UnsafeRawPointer? = nil, followRows: Int = 0
    ) {
        precondition(headDim > 0 && headDim % 16 == 0, "AttentionDecodeKernel: headDim must be a multiple of 16")
        precondition(rows > 0 && queryLength > 0 && 0 <= start && start < end && end <= kvLength,
                     "AttentionDecodeKernel: bad rows or KV range")
        let layout = DecodeWorkspace(rows: rows, headDim: headDim)
        let context = DecodeContext(
            layout: layout, workspace: workspace, q: q, rows: rows, queryLength: queryLength,
            headDim: headDim, scale: scale, k: k, v: v, kvLength: kvLength, causal: causal,
            acc: acc, rowMax: rowMax, followK: followK, followV: followV,
            followRows: followK == nil || followV == nil ? 0 : followRows)
        context.prepare()
        if kvHalf {
            decodeChunk(DecodeKVHalf.self, context, start: start, end: end)
        } else {
            decodeChunk(DecodeKVFloat.self, context, start: start, end: end)
        }
        context.finish(rowSum: rowSum, normalize: normalize)
    }

    /// Merges the `chunks` partial results of one KV head into its output rows.
    ///
    /// Chunk c's accumulators are at `acc + c·accChunkStride` (`rows` x `headDim`), its statistics at
    /// `rowMax + c·statChunkStride` and `rowSum + c·statChunkStride`; `o` receives `rows` x `headDim`
    /// normalized rows. Every row must see at least one position in some chunk.
    @inline(never)
    public static func combine(
        acc: UnsafePointer<Float>, accChunkStride: Int, rowMax: UnsafePointer<Float>,
        rowSum: UnsafePointer<Float>, statChunkStride: Int, chunks: Int, rows: Int, headDim: Int,
        o: UnsafeMutablePointer<Float>
    ) {
        typealias V = SIMD16<Float>
        let vectors = headDim / 16
        for r in 0..<rows {
            var m = -Float.infinity
            for c in 0..<chunks { m = max(m, rowMax[c &* statChunkStride &+ r]) }
            var total: Float = 0
            for c in 0..<chunks {
                let index = c &* statChunkStride &+ r
                total += decodeExp2Scalar(rowMax[index] - m) * rowSum[index]
            }
            let inverse = 1 / total
            let out = UnsafeMutableRawPointer(o + r &* headDim)
            for c in 0..<chunks {
                let weight = V(repeating: decodeExp2Scalar(rowMax[c &* statChunkStride &+ r] - m) * inverse)
                let rowOffset: Int = c &* accChunkStride &+ r &* headDim
                let src = UnsafeRawPointer(acc + rowOffset)
                for t in 0..<vectors {
                    let x = src.loadUnaligned(fromByteOffset: t &* 64, as: V.self)
                    let sum = c == 0 ? weight * x
                        : attnMulAdd(out.loadUnaligned(fromByteOffset: t &* 64, as: V.self), weight, x)
                    out.storeBytes(of: sum, toByteOffset: t &* 64, as: V.self)
                }
            }
        }
    }
}

/// 2^x for one value, through the module's vector `decodeExp2`.
@inline(__always)
func decodeExp2Scalar(_ x: Float) -> Float {
    decodeExp2(SIMD16<Float>(repeating: x))[0]
}

/// Where `partial` keeps its scratch, in floats from the 64-byte-aligned start of the workspace; every
/// region starts on a 64-byte boundary.
struct DecodeWorkspace {
    /// The query rows times the scale, rows x headDim.
    let q: Int
    /// Scores, then probabilities, of one tile: maxTileRows x blockRows.
    let p: Int
    /// The transpose buffer: maxTileRows x 16 partial-product vectors.
    let x: Int
    /// Per-row running sums, one 16-lane vector per row.
    let sums: Int
    /// Per-tile-row rescale factors of the current block.
    let alpha: Int
    /// The scaled query rows packed for `decodeQKPacked` (when `decodePackedQK`): groups of 4 rows
    /// (the last padded with zero rows), each headDim/4 vectors [row 0 d 4g..4g+3, row 1 ..., row 3].
    let qp: Int
    let floats: Int

    init(rows: Int, headDim: Int) {
        let tile = AttentionDecodeKernel.maxTileRows
        q = 0
        p = q &+ rows &* headDim
        x = p &+ tile &* AttentionDecodeKernel.blockRows
        sums = x &+ tile &* 256
        alpha = sums &+ rows &* 16
        qp = alpha &+ 16
        floats = decodePackedQK ? qp &+ (rows &+ 3) / 4 &* 4 &* headDim : qp
    }
}

/// Everything one `partial` call's loops need, passed by value into the specialized functions.
struct DecodeContext {
    let q: UnsafeMutablePointer<Float>
    let p: UnsafeMutablePointer<Float>
    let x: UnsafeMutablePointer<SIMD16<Float>>
    let sums: UnsafeMutablePointer<SIMD16<Float>>
    let alpha: UnsafeMutablePointer<Float>
    let qp: UnsafeMutablePointer<SIMD16<Float>>
    let source: UnsafePointer<Float>
    let rows: Int
    let queryLength: Int
    let headDim: Int
    let scale: Float
    let k: UnsafeRawPointer
    let v: UnsafeRawPointer
    let kvLength: Int
    let causal: Bool
    let acc: UnsafeMutablePointer<Float>
    let rowMax: UnsafeMutablePointer<Float>
    /// The caller's next chunk (prefetch only): its first K and V rows and its length (0: none).
    let followK: UnsafeRawPointer?
    let followV: UnsafeRawPointer?
    let followRows: Int

    init(
        layout: DecodeWorkspace, workspace: UnsafeMutableRawPointer, q: UnsafePointer<Float>, rows: Int,
        queryLength: Int, headDim: Int, scale: Float, k: UnsafeRawPointer, v: UnsafeRawPointer,
        kvLength: Int, causal: Bool, acc: UnsafeMutablePointer<Float>, rowMax: UnsafeMutablePointer<Float>,
        followK: UnsafeRawPointer?, followV: UnsafeRawPointer?, followRows: Int
    ) {
        let address = Int(bitPattern: workspace)
        let aligned: Int = (address &+ 63) & ~63
        let base = UnsafeMutableRawPointer(bitPattern: aligned)!.assumingMemoryBound(to: Float.self)
        self.q = base + layout.q
        self.p = base + layout.p
        self.x = UnsafeMutableRawPointer(base + layout.x).assumingMemoryBound(to: SIMD16<Float>.self)
        self.sums = UnsafeMutableRawPointer(base + layout.sums).assumingMemoryBound(to: SIMD16<Float>.self)
        self.alpha = base + layout.alpha
        self.qp = UnsafeMutableRawPointer(base + layout.qp).assumingMemoryBound(to: SIMD16<Float>.self)
        self.source = q
        self.rows = rows
        self.queryLength = queryLength
        self.headDim = headDim
        self.scale = scale
        self.k = k
        self.v = v
        self.kvLength = kvLength
        self.causal = causal
        self.acc = acc
        self.rowMax = rowMax
        self.followK = followK
        self.followV = followV
        self.followRows = followRows
    }

    /// KV positions row r sees: 0..<visible(r).
    @inline(__always)
    func visible(row r: Int) -> Int {
        causal ? kvLength &- queryLength &+ r % queryLength &+ 1 : kvLength
    }

    /// Copy of Q times scale·log2(e) (scores in base 2); zero accumulators, sums; maxima at
    /// -greatestFiniteMagnitude.
    func prepare() {
        typealias V = SIMD16<Float>
        let vectors = rows &* headDim / 16
        let src = UnsafeRawPointer(source)
        let dst = UnsafeMutableRawPointer(q)
        let accBytes = UnsafeMutableRawPointer(acc)
        let s = V(repeating: scale * 1.442_695_040_888_963_4)
        for t in 0..<vectors {
            let offset: Int = t &* 64
            dst.storeBytes(of: s * src.loadUnaligned(fromByteOffset: offset, as: V.self), toByteOffset: offset, as: V.self)
            accBytes.storeBytes(of: V(), toByteOffset: offset, as: V.self)
        }
        for r in 0..<rows {
            rowMax[r] = -Float.greatestFiniteMagnitude
            sums[r] = V()
        }
        // Only tiles of 8 rows use the packed rows (there are none with fewer than 8 rows).
        guard decodePackedQK && rows >= 8 else { return }
        // qp[group][g] lane 4·i + e = q[4·group + i][4·g + e] (zero for padding rows).
        let groups = headDim / 4
        for group in 0..<(rows &+ 3) / 4 {
            let out: UnsafeMutablePointer<V> = qp + group &* groups
            for g in 0..<groups {
                var w = V()
                for i in 0..<4 {
                    let r: Int = group &* 4 &+ i
                    if r < rows {
                        for e in 0..<4 { w[4 &* i &+ e] = q[r &* headDim &+ 4 &* g &+ e] }
                    }
                }
                out[g] = w
            }
        }
    }

    /// Row sums from the per-lane sums; rows divided by their sum when `normalize`.
    func finish(rowSum: UnsafeMutablePointer<Float>, normalize: Bool) {
        typealias V = SIMD16<Float>
        for r in 0..<rows { rowSum[r] = attnReduceAdd(sums[r]) }
        guard normalize else { return }
        let vectors = headDim / 16
        for r in 0..<rows {
            let inverse = V(repeating: 1 / rowSum[r])
            let row = UnsafeMutableRawPointer(acc + r &* headDim)
            for t in 0..<vectors {
                let offset: Int = t &* 64
                row.storeBytes(of: inverse * row.loadUnaligned(fromByteOffset: offset, as: V.self), toByteOffset: offset, as: V.self)
            }
        }
    }
}

/// One chunk: blocks of KV positions, and in each block every tile of query rows.
@inline(never)
func decodeChunk<KV: DecodeKVElement>(_: KV.Type, _ context: DecodeContext, start: Int, end: Int) {
    let block = AttentionDecodeKernel.blockRows
    let tiles = (context.rows &+ AttentionDecodeKernel.maxTileRows &- 1) / AttentionDecodeKernel.maxTileRows
    let base = context.rows / tiles, extra = context.rows % tiles
    // The first block has no previous block to prefetch it: request all its lines now, so they
    // arrive in parallel rather than one demand miss after another.
    let rowBytes: Int = context.headDim &* KV.bytes
    let firstBytes: Int = min(block, end &- start) &* rowBytes
    let kFirst: UnsafeRawPointer = context.k + start &* rowBytes
    let vFirst: UnsafeRawPointer = context.v + start &* rowBytes
    var line = 0
    while line < firstBytes {
        sgemmLLVMPrefetch(kFirst + line, 0, 3, 1)
        sgemmLLVMPrefetch(vFirst + line, 0, 3, 1)
        line &+= 64
    }
    var j0 = start
    while j0 < end {
        let count = min(block, end &- j0)
        var r0 = 0
        for tile in 0..<tiles {
            let n = tile < extra ? base &+ 1 : base
            switch n {
            case 1: decodeBlock(KV.self, DecodeCount1.self, context, r0: r0, j0: j0, count: count, end: end)
            case 2: decodeBlock(KV.self, DecodeCount2.self, context, r0: r0, j0: j0, count: count, end: end)
            case 3: decodeBlock(KV.self, DecodeCount3.self, context, r0: r0, j0: j0, count: count, end: end)
            case 4: decodeBlock(KV.self, DecodeCount4.self, context, r0: r0, j0: j0, count: count, end: end)
            case 5: decodeBlock(KV.self, DecodeCount5.self, context, r0: r0, j0: j0, count: count, end: end)
            case 6: decodeBlock(KV.self, DecodeCount6.self, context, r0: r0, j0: j0, count: count, end: end)
            case 7: decodeBlock(KV.self, DecodeCount7.self, context, r0: r0, j0: j0, count: count, end: end)
            default: decodeBlock(KV.self, DecodeCount8.self, context, r0: r0, j0: j0, count: count, end: end)
            }
            r0 &+= n
        }
        j0 &+= count
    }
}

/// One block of `count` KV positions from j0 for the N query rows from r0: scores, online softmax,
/// accumulation.
@inline(never)
func decodeBlock<KV: DecodeKVElement, N: DecodeCount>(
    _: KV.Type, _: N.Type, _ context: DecodeContext, r0: Int, j0: Int, count: Int, end: Int
) {
    typealias V = SIMD16<Float>
    let n = N.count
    let headDim = context.headDim
    let chunks = headDim / 16
    let rowBytes: Int = headDim &* KV.bytes
    let block = AttentionDecodeKernel.blockRows
    let x = context.x

    // 1. Scores: 16 KV positions at a time, partial vectors into x, then one transpose-add per row.
    let qTile = UnsafeRawPointer(context.q + r0 &* headDim).assumingMemoryBound(to: V.self)
    let kBlock: UnsafeRawPointer = context.k + j0 &* rowBytes
    let vBlock: UnsafeRawPointer = context.v + j0 &* rowBytes
    // The first tile of a block prefetches the next block (rows up to prefetchRows from j0 exist).
    let prefetch = r0 == 0
    let prefetchRows: Int = end &- j0
    let scores = UnsafeMutableRawPointer(context.p).assumingMemoryBound(to: V.self)
    let scoreStride = block / 16
    var subBlocks = 0
    if decodePackedQK && n == 8 {
        // Packed (8-row tiles): 8 KV positions at a time, 4 rows x 4 head-dimension elements per
        // accumulator, then 4-lane sums (see decodeQKPacked). A tile of 8 rows starts at a multiple
        // of 4 (balanced tiles of 8 come first), so it is packed groups r0/4 and r0/4 + 1.
        let qGroups = UnsafePointer(context.qp + r0 / 4 &* (headDim / 4))
        while subBlocks &* 16 < count {
            let first: Int = subBlocks &* 16
            let inSub = min(16, count &- first)
            let kSub: UnsafeRawPointer = kBlock + first &* rowBytes
            if prefetch {
                // The sub-block's 16 K rows of the next block (in this chunk or the caller's next
                // one), into L2, in pairs as below.
                var jj = 0
                while jj < inSub {
                    let ahead: Int = first &+ jj &+ block
                    let beyond: Int = ahead &- prefetchRows
                    let kNext: UnsafeRawPointer? = beyond < 0 ? (beyond &+ 2 <= 0 ? kBlock + ahead &* rowBytes : nil)
                        : (beyond &+ 2 <= context.followRows ? context.followK.map { $0 + beyond &* rowBytes } : nil)
                    if let kNext {
                        var line = 0
                        while line < 2 &* rowBytes {
                            sgemmLLVMPrefetch(kNext + line, 0, 2, 1)
                            line &+= 64
                        }
                    }
                    jj &+= 2
                }
            }
            // Positions past the block's end repeat its last row (or are zero) and their scores are
            // masked below like any invisible position.
            decodeQKPacked(KV.self, q: qGroups, headDim: headDim, k: kSub, rowBytes: rowBytes, rows: inSub, x: x)
            if inSub > 8 {
                decodeQKPacked(KV.self, q: qGroups, headDim: headDim, k: kSub + 8 &* rowBytes, rowBytes: rowBytes,
                               rows: inSub &- 8, x: x + 8)
            } else {
                for z in 8..<16 { x[z] = V(); x[16 &+ z] = V() }
            }
            for g in 0..<2 {
                let (s0, s1, s2, s3) = decodeReduceGroups4(UnsafePointer(x + g &* 16))
                let offset: Int = 4 &* g &* scoreStride &+ subBlocks
                let s: UnsafeMutablePointer<V> = scores + offset
                s[0] = s0
                s[scoreStride] = s1
                s[2 &* scoreStride] = s2
                s[3 &* scoreStride] = s3
            }
            subBlocks &+= 1
        }
    }
    while subBlocks &* 16 < count {
        let first: Int = subBlocks &* 16
        let inSub = min(16, count &- first)
        let kSub: UnsafeRawPointer = kBlock + first &* rowBytes
        var jj = 0
        while jj &+ 1 < inSub {
            let k0: UnsafeRawPointer = kSub + jj &* rowBytes
            if prefetch {
                // The same two K rows of the next block (in this chunk or the caller's next one),
                // into L2.
                let ahead: Int = first &+ jj &+ block
                let beyond: Int = ahead &- prefetchRows
                let kNext: UnsafeRawPointer? = beyond < 0 ? (beyond &+ 2 <= 0 ? kBlock + ahead &* rowBytes : nil)
                    : (beyond &+ 2 <= context.followRows ? context.followK.map { $0 + beyond &* rowBytes } : nil)
                if let kNext {
                    var line = 0
                    while line < 2 &* rowBytes {
                        sgemmLLVMPrefetch(kNext + line, 0, 2, 1)
                        line &+= 64
                    }
                }
            }
            decodeQKPair(KV.self, N.self, q: qTile, qStride: chunks, k0: k0, k1: k0 + rowBytes,
                         chunks: chunks, x: x, slot: jj)
            jj &+= 2
        }
        if jj < inSub {
            decodeQKSingle(KV.self, N.self, q: qTile, qStride: chunks, k0: kSub + jj &* rowBytes,
                           chunks: chunks, x: x, slot: jj)
        }
        if inSub < 16 {
            for r in 0..<n {
                for z in inSub..<16 { x[r &* 16 &+ z] = V() }
            }
        }
        for r in 0..<n { scores[r &* scoreStride &+ subBlocks] = decodeTransposeSum16(x + r &* 16) }
        subBlocks &+= 1
    }

    // 2. Online softmax per row (base 2): mask, new max, probabilities, rescale factor, running sum.
    for r in 0..<n {
        let row = r0 &+ r
        let s: UnsafeMutablePointer<V> = scores + r &* scoreStride
        let valid = max(0, min(count, context.visible(row: row) &- j0))
        let masked = valid < subBlocks &* 16
        var top = V(repeating: -.infinity)
        if masked {
            for b in 0..<subBlocks {
                let x = decodeMaskLanes(s[b], from: valid &- b &* 16, with: -.infinity)
                s[b] = x
                top = attnMax(top, x)
            }
        } else {
            for b in 0..<subBlocks { top = attnMax(top, s[b]) }
        }
        let oldMax = context.rowMax[row]
        let newMax = max(oldMax, attnReduceMax(top))
        let alpha: Float = newMax > oldMax ? decodeExp2Scalar(oldMax - newMax) : 1
        let m = V(repeating: newMax)
        var sum = V()
        for b in 0..<subBlocks {
            var e = decodeExp2(s[b] - m)
            // decodeExp2 may return a tiny positive value for -inf: masked lanes are set to exactly 0.
            if masked { e = decodeMaskLanes(e, from: valid &- b &* 16, with: 0) }
            s[b] = e
            sum += e
        }
        context.sums[row] = attnMulAdd(sum, context.sums[row], V(repeating: alpha))
        context.rowMax[row] = newMax
        context.alpha[r] = alpha
    }

    // 3. P·V: tiles of at most 4 rows (4 x 4 register tiles: as many V widenings as broadcasts of
    // P), so 5-8 rows are done as 4 + the rest, re-reading the V block from L1/L2.
    let accTile: UnsafeMutablePointer<Float> = context.acc + r0 &* headDim
    let p = UnsafePointer(context.p)
    let alpha = UnsafePointer(context.alpha)
    // The V rows to prefetch, row j of this block <-> row j of `vNext`: the next block of this chunk
    // when it is whole, else (last block) the first rows of the caller's next chunk.
    let vNext: UnsafeRawPointer? = !prefetch ? nil
        : prefetchRows >= count &+ block ? vBlock + block &* rowBytes
        : prefetchRows == count && count <= context.followRows ? context.followV : nil
    if n <= 4 {
        decodePV(KV.self, N.self, p: p, alpha: alpha, v: vBlock, rowBytes: rowBytes, count: count,
                 acc: accTile, headDim: headDim, next: vNext)
        return
    }
    decodePV(KV.self, DecodeCount4.self, p: p, alpha: alpha, v: vBlock, rowBytes: rowBytes, count: count,
             acc: accTile, headDim: headDim, next: vNext)
    let p4 = p + 4 &* block, alpha4 = alpha + 4, acc4 = accTile + 4 &* headDim
    switch n {
    case 5: decodePV(KV.self, DecodeCount1.self, p: p4, alpha: alpha4, v: vBlock, rowBytes: rowBytes, count: count,
                     acc: acc4, headDim: headDim, next: nil)
    case 6: decodePV(KV.self, DecodeCount2.self, p: p4, alpha: alpha4, v: vBlock, rowBytes: rowBytes, count: count,
                     acc: acc4, headDim: headDim, next: nil)
    case 7: decodePV(KV.self, DecodeCount3.self, p: p4, alpha: alpha4, v: vBlock, rowBytes: rowBytes, count: count,
                     acc: acc4, headDim: headDim, next: nil)
    default: decodePV(KV.self, DecodeCount4.self, p: p4, alpha: alpha4, v: vBlock, rowBytes: rowBytes, count: count,
                      acc: acc4, headDim: headDim, next: nil)
    }
}

/// P·V for N <= 4 rows (P rows `blockRows` apart, one rescale factor per row) over `count` V rows
/// from `v`, in d-tiles of 4, then 2, then 1 chunks. With `next`, each d-tile also prefetches (into
/// L2) the same columns of row j from `next` at step j, so the prefetches spread over the whole phase.
@inline(__always)
func decodePV<KV: DecodeKVElement, N: DecodeCount>(
    _: KV.Type, _: N.Type, p: UnsafePointer<Float>, alpha: UnsafePointer<Float>, v: UnsafeRawPointer,
    rowBytes: Int, count: Int, acc: UnsafeMutablePointer<Float>, headDim: Int, next: UnsafeRawPointer?
) {
    let block = AttentionDecodeKernel.blockRows
    let chunks = headDim / 16
    let chunkBytes: Int = 16 &* KV.bytes
    let vNext: UnsafeRawPointer = next ?? v
    let prefetch = next != nil
    var t0 = 0
    while t0 &+ 4 <= chunks {
        decodePVTile(KV.self, N.self, DecodeCount4.self, p: p, pStride: block, alpha: alpha,
                     v: v + t0 &* chunkBytes, vRowBytes: rowBytes, count: count,
                     acc: acc + t0 &* 16, accStride: headDim,
                     next: vNext + t0 &* chunkBytes, nextBytes: prefetch ? 4 &* chunkBytes : 0)
        t0 &+= 4
    }
    if t0 &+ 2 <= chunks {
        decodePVTile(KV.self, N.self, DecodeCount2.self, p: p, pStride: block, alpha: alpha,
                     v: v + t0 &* chunkBytes, vRowBytes: rowBytes, count: count,
                     acc: acc + t0 &* 16, accStride: headDim,
                     next: vNext + t0 &* chunkBytes, nextBytes: prefetch ? 2 &* chunkBytes : 0)
        t0 &+= 2
    }
    if t0 < chunks {
        decodePVTile(KV.self, N.self, DecodeCount1.self, p: p, pStride: block, alpha: alpha,
                     v: v + t0 &* chunkBytes, vRowBytes: rowBytes, count: count,
                     acc: acc + t0 &* 16, accStride: headDim,
                     next: vNext + t0 &* chunkBytes, nextBytes: prefetch ? chunkBytes : 0)
    }
}

/// Partial dot products of `N.count` query rows (row r at `q + r·qStride`, in 16-float chunks) with two
/// KV rows: x[r·16 + slot] and x[r·16 + slot + 1] receive the 16-lane vectors whose lane sums are the
/// scores (reduced later, 16 KV rows at a time, by `attnTransposeSum16`). Each K element is widened once
/// and used for every query row; each query chunk is loaded once for both KV rows.
@inline(__always)
func decodeQKPair<KV: DecodeKVElement, N: DecodeCount>(
    _: KV.Type, _: N.Type, q: UnsafePointer<SIMD16<Float>>, qStride: Int,
    k0: UnsafeRawPointer, k1: UnsafeRawPointer, chunks: Int, x: UnsafeMutablePointer<SIMD16<Float>>, slot: Int
) {
    typealias V = SIMD16<Float>
    let n = N.count
    let q1: UnsafePointer<V> = q + 1 &* qStride
    let q2: UnsafePointer<V> = q + 2 &* qStride
    let q3: UnsafePointer<V> = q + 3 &* qStride
    let q4: UnsafePointer<V> = q + 4 &* qStride
    let q5: UnsafePointer<V> = q + 5 &* qStride
    let q6: UnsafePointer<V> = q + 6 &* qStride
    let q7: UnsafePointer<V> = q + 7 &* qStride
    var a0 = V(), b0 = V()
    var a1 = V(), b1 = V()
    var a2 = V(), b2 = V()
    var a3 = V(), b3 = V()
    var a4 = V(), b4 = V()
    var a5 = V(), b5 = V()
    var a6 = V(), b6 = V()
    var a7 = V(), b7 = V()
    for t in 0..<chunks {
        let x0 = KV.load(k0, chunk: t)
        let x1 = KV.load(k1, chunk: t)
        do { let w = q[t]; a0 = attnMulAdd(a0, w, x0); b0 = attnMulAdd(b0, w, x1) }
        if n > 1 { let w = q1[t]; a1 = attnMulAdd(a1, w, x0); b1 = attnMulAdd(b1, w, x1) }
        if n > 2 { let w = q2[t]; a2 = attnMulAdd(a2, w, x0); b2 = attnMulAdd(b2, w, x1) }
        if n > 3 { let w = q3[t]; a3 = attnMulAdd(a3, w, x0); b3 = attnMulAdd(b3, w, x1) }
        if n > 4 { let w = q4[t]; a4 = attnMulAdd(a4, w, x0); b4 = attnMulAdd(b4, w, x1) }
        if n > 5 { let w = q5[t]; a5 = attnMulAdd(a5, w, x0); b5 = attnMulAdd(b5, w, x1) }
        if n > 6 { let w = q6[t]; a6 = attnMulAdd(a6, w, x0); b6 = attnMulAdd(b6, w, x1) }
        if n > 7 { let w = q7[t]; a7 = attnMulAdd(a7, w, x0); b7 = attnMulAdd(b7, w, x1) }
    }
    let out0: UnsafeMutablePointer<V> = x + slot
    do { out0[0] = a0; out0[1] = b0 }
    if n > 1 { out0[16] = a1; out0[17] = b1 }
    if n > 2 { out0[32] = a2; out0[33] = b2 }
    if n > 3 { out0[48] = a3; out0[49] = b3 }
    if n > 4 { out0[64] = a4; out0[65] = b4 }
    if n > 5 { out0[80] = a5; out0[81] = b5 }
    if n > 6 { out0[96] = a6; out0[97] = b6 }
    if n > 7 { out0[112] = a7; out0[113] = b7 }
}

/// `decodeQKPair` for one KV row.
@inline(__always)
func decodeQKSingle<KV: DecodeKVElement, N: DecodeCount>(
    _: KV.Type, _: N.Type, q: UnsafePointer<SIMD16<Float>>, qStride: Int,
    k0: UnsafeRawPointer, chunks: Int, x: UnsafeMutablePointer<SIMD16<Float>>, slot: Int
) {
    typealias V = SIMD16<Float>
    let n = N.count
    let q1: UnsafePointer<V> = q + 1 &* qStride
    let q2: UnsafePointer<V> = q + 2 &* qStride
    let q3: UnsafePointer<V> = q + 3 &* qStride
    let q4: UnsafePointer<V> = q + 4 &* qStride
    let q5: UnsafePointer<V> = q + 5 &* qStride
    let q6: UnsafePointer<V> = q + 6 &* qStride
    let q7: UnsafePointer<V> = q + 7 &* qStride
    var a0 = V()
    var a1 = V()
    var a2 = V()
    var a3 = V()
    var a4 = V()
    var a5 = V()
    var a6 = V()
    var a7 = V()
    for t in 0..<chunks {
        let x0 = KV.load(k0, chunk: t)
        do { a0 = attnMulAdd(a0, q[t], x0) }
        if n > 1 { a1 = attnMulAdd(a1, q1[t], x0) }
        if n > 2 { a2 = attnMulAdd(a2, q2[t], x0) }
        if n > 3 { a3 = attnMulAdd(a3, q3[t], x0) }
        if n > 4 { a4 = attnMulAdd(a4, q4[t], x0) }
        if n > 5 { a5 = attnMulAdd(a5, q5[t], x0) }
        if n > 6 { a6 = attnMulAdd(a6, q6[t], x0) }
        if n > 7 { a7 = attnMulAdd(a7, q7[t], x0) }
    }
    let out0: UnsafeMutablePointer<V> = x + slot
    do { out0[0] = a0 }
    if n > 1 { out0[16] = a1 }
    if n > 2 { out0[32] = a2 }
    if n > 3 { out0[48] = a3 }
    if n > 4 { out0[64] = a4 }
    if n > 5 { out0[80] = a5 }
    if n > 6 { out0[96] = a6 }
    if n > 7 { out0[112] = a7 }
}

/// acc[r][t] = alpha[r]·acc[r][t] + Σ_j p[r·pStride + j]·V_j[t] for r < N.count query rows and t < D.count
/// 16-float chunks of the head dimension, over `count` KV rows (V row j at `v + j·vRowBytes`, already
/// offset to the tile's first chunk). The N x D accumulators stay in registers for the whole block;
/// each V chunk is widened once for all N rows. The first `nextBytes` bytes of row j from `next` are
/// prefetched into L2 at step j (the next block's V rows, spread over the loop).
@inline(__always)
func decodePVTile<KV: DecodeKVElement, N: DecodeCount, D: DecodeCount>(
    _: KV.Type, _: N.Type, _: D.Type, p: UnsafePointer<Float>, pStride: Int, alpha: UnsafePointer<Float>,
    v: UnsafeRawPointer, vRowBytes: Int, count: Int, acc: UnsafeMutablePointer<Float>, accStride: Int,
    next: UnsafeRawPointer, nextBytes: Int
) {
    typealias V = SIMD16<Float>
    let n = N.count, dd = D.count
    let p1: UnsafePointer<Float> = p + 1 &* pStride
    let p2: UnsafePointer<Float> = p + 2 &* pStride
    let p3: UnsafePointer<Float> = p + 3 &* pStride
    let o0: UnsafeMutablePointer<Float> = acc
    let o1: UnsafeMutablePointer<Float> = acc + 1 &* accStride
    let o2: UnsafeMutablePointer<Float> = acc + 2 &* accStride
    let o3: UnsafeMutablePointer<Float> = acc + 3 &* accStride
    var c0_0 = V(), c0_1 = V(), c0_2 = V(), c0_3 = V(), c0_4 = V(), c0_5 = V(), c0_6 = V(), c0_7 = V()
    var c1_0 = V(), c1_1 = V(), c1_2 = V(), c1_3 = V(), c1_4 = V(), c1_5 = V(), c1_6 = V(), c1_7 = V()
    var c2_0 = V(), c2_1 = V(), c2_2 = V(), c2_3 = V(), c2_4 = V(), c2_5 = V(), c2_6 = V(), c2_7 = V()
    var c3_0 = V(), c3_1 = V(), c3_2 = V(), c3_3 = V(), c3_4 = V(), c3_5 = V(), c3_6 = V(), c3_7 = V()
    do {
        let s = V(repeating: alpha[0]), src = UnsafeRawPointer(o0)
        c0_0 = s * src.loadUnaligned(as: V.self)
        if dd > 1 { c0_1 = s * src.loadUnaligned(fromByteOffset: 64, as: V.self) }
        if dd > 2 { c0_2 = s * src.loadUnaligned(fromByteOffset: 128, as: V.self) }
        if dd > 3 { c0_3 = s * src.loadUnaligned(fromByteOffset: 192, as: V.self) }
        if dd > 4 { c0_4 = s * src.loadUnaligned(fromByteOffset: 256, as: V.self) }
        if dd > 5 { c0_5 = s * src.loadUnaligned(fromByteOffset: 320, as: V.self) }
        if dd > 6 { c0_6 = s * src.loadUnaligned(fromByteOffset: 384, as: V.self) }
        if dd > 7 { c0_7 = s * src.loadUnaligned(fromByteOffset: 448, as: V.self) }
    }
    if n > 1 {
        let s = V(repeating: alpha[1]), src = UnsafeRawPointer(o1)
        c1_0 = s * src.loadUnaligned(as: V.self)
        if dd > 1 { c1_1 = s * src.loadUnaligned(fromByteOffset: 64, as: V.self) }
        if dd > 2 { c1_2 = s * src.loadUnaligned(fromByteOffset: 128, as: V.self) }
        if dd > 3 { c1_3 = s * src.loadUnaligned(fromByteOffset: 192, as: V.self) }
        if dd > 4 { c1_4 = s * src.loadUnaligned(fromByteOffset: 256, as: V.self) }
        if dd > 5 { c1_5 = s * src.loadUnaligned(fromByteOffset: 320, as: V.self) }
        if dd > 6 { c1_6 = s * src.loadUnaligned(fromByteOffset: 384, as: V.self) }
        if dd > 7 { c1_7 = s * src.loadUnaligned(fromByteOffset: 448, as: V.self) }
    }
    if n > 2 {
        let s = V(repeating: alpha[2]), src = UnsafeRawPointer(o2)
        c2_0 = s * src.loadUnaligned(as: V.self)
        if dd > 1 { c2_1 = s * src.loadUnaligned(fromByteOffset: 64, as: V.self) }
        if dd > 2 { c2_2 = s * src.loadUnaligned(fromByteOffset: 128, as: V.self) }
        if dd > 3 { c2_3 = s * src.loadUnaligned(fromByteOffset: 192, as: V.self) }
        if dd > 4 { c2_4 = s * src.loadUnaligned(fromByteOffset: 256, as: V.self) }
        if dd > 5 { c2_5 = s * src.loadUnaligned(fromByteOffset: 320, as: V.self) }
        if dd > 6 { c2_6 = s * src.loadUnaligned(fromByteOffset: 384, as: V.self) }
        if dd > 7 { c2_7 = s * src.loadUnaligned(fromByteOffset: 448, as: V.self) }
    }
    if n > 3 {
        let s = V(repeating: alpha[3]), src = UnsafeRawPointer(o3)
        c3_0 = s * src.loadUnaligned(as: V.self)
        if dd > 1 { c3_1 = s * src.loadUnaligned(fromByteOffset: 64, as: V.self) }
        if dd > 2 { c3_2 = s * src.loadUnaligned(fromByteOffset: 128, as: V.self) }
        if dd > 3 { c3_3 = s * src.loadUnaligned(fromByteOffset: 192, as: V.self) }
        if dd > 4 { c3_4 = s * src.loadUnaligned(fromByteOffset: 256, as: V.self) }
        if dd > 5 { c3_5 = s * src.loadUnaligned(fromByteOffset: 320, as: V.self) }
        if dd > 6 { c3_6 = s * src.loadUnaligned(fromByteOffset: 384, as: V.self) }
        if dd > 7 { c3_7 = s * src.loadUnaligned(fromByteOffset: 448, as: V.self) }
    }
    var vp = v
    var np = next
    for j in 0..<count {
        var line = 0
        while line < nextBytes {
            sgemmLLVMPrefetch(np + line, 0, 2, 1)
            line &+= 64
        }
        np += vRowBytes
        let v0 = KV.load(vp, chunk: 0)
        let v1 = dd > 1 ? KV.load(vp, chunk: 1) : V()
        let v2 = dd > 2 ? KV.load(vp, chunk: 2) : V()
        let v3 = dd > 3 ? KV.load(vp, chunk: 3) : V()
        let v4 = dd > 4 ? KV.load(vp, chunk: 4) : V()
        let v5 = dd > 5 ? KV.load(vp, chunk: 5) : V()
        let v6 = dd > 6 ? KV.load(vp, chunk: 6) : V()
        let v7 = dd > 7 ? KV.load(vp, chunk: 7) : V()
        do {
            let s = V(repeating: p[j])
            c0_0 = attnMulAdd(c0_0, s, v0)
            if dd > 1 { c0_1 = attnMulAdd(c0_1, s, v1) }
            if dd > 2 { c0_2 = attnMulAdd(c0_2, s, v2) }
            if dd > 3 { c0_3 = attnMulAdd(c0_3, s, v3) }
            if dd > 4 { c0_4 = attnMulAdd(c0_4, s, v4) }
            if dd > 5 { c0_5 = attnMulAdd(c0_5, s, v5) }
            if dd > 6 { c0_6 = attnMulAdd(c0_6, s, v6) }
            if dd > 7 { c0_7 = attnMulAdd(c0_7, s, v7) }
        }
        if n > 1 {
            let s = V(repeating: p1[j])
            c1_0 = attnMulAdd(c1_0, s, v0)
            if dd > 1 { c1_1 = attnMulAdd(c1_1, s, v1) }
            if dd > 2 { c1_2 = attnMulAdd(c1_2, s, v2) }
            if dd > 3 { c1_3 = attnMulAdd(c1_3, s, v3) }
            if dd > 4 { c1_4 = attnMulAdd(c1_4, s, v4) }
            if dd > 5 { c1_5 = attnMulAdd(c1_5, s, v5) }
            if dd > 6 { c1_6 = attnMulAdd(c1_6, s, v6) }
            if dd > 7 { c1_7 = attnMulAdd(c1_7, s, v7) }
        }
        if n > 2 {
            let s = V(repeating: p2[j])
            c2_0 = attnMulAdd(c2_0, s, v0)
            if dd > 1 { c2_1 = attnMulAdd(c2_1, s, v1) }
            if dd > 2 { c2_2 = attnMulAdd(c2_2, s, v2) }
            if dd > 3 { c2_3 = attnMulAdd(c2_3, s, v3) }
            if dd > 4 { c2_4 = attnMulAdd(c2_4, s, v4) }
            if dd > 5 { c2_5 = attnMulAdd(c2_5, s, v5) }
            if dd > 6 { c2_6 = attnMulAdd(c2_6, s, v6) }
            if dd > 7 { c2_7 = attnMulAdd(c2_7, s, v7) }
        }
        if n > 3 {
            let s = V(repeating: p3[j])
            c3_0 = attnMulAdd(c3_0, s, v0)
            if dd > 1 { c3_1 = attnMulAdd(c3_1, s, v1) }
            if dd > 2 { c3_2 = attnMulAdd(c3_2, s, v2) }
            if dd > 3 { c3_3 = attnMulAdd(c3_3, s, v3) }
            if dd > 4 { c3_4 = attnMulAdd(c3_4, s, v4) }
            if dd > 5 { c3_5 = attnMulAdd(c3_5, s, v5) }
            if dd > 6 { c3_6 = attnMulAdd(c3_6, s, v6) }
            if dd > 7 { c3_7 = attnMulAdd(c3_7, s, v7) }
        }
        vp += vRowBytes
    }
    do {
        let dst = UnsafeMutableRawPointer(o0)
        dst.storeBytes(of: c0_0, as: V.self)
        if dd > 1 { dst.storeBytes(of: c0_1, toByteOffset: 64, as: V.self) }
        if dd > 2 { dst.storeBytes(of: c0_2, toByteOffset: 128, as: V.self) }
        if dd > 3 { dst.storeBytes(of: c0_3, toByteOffset: 192, as: V.self) }
        if dd > 4 { dst.storeBytes(of: c0_4, toByteOffset: 256, as: V.self) }
        if dd > 5 { dst.storeBytes(of: c0_5, toByteOffset: 320, as: V.self) }
        if dd > 6 { dst.storeBytes(of: c0_6, toByteOffset: 384, as: V.self) }
        if dd > 7 { dst.storeBytes(of: c0_7, toByteOffset: 448, as: V.self) }
    }
    if n > 1 {
        let dst = UnsafeMutableRawPointer(o1)
        dst.storeBytes(of: c1_0, as: V.self)
        if dd > 1 { dst.storeBytes(of: c1_1, toByteOffset: 64, as: V.self) }
        if dd > 2 { dst.storeBytes(of: c1_2, toByteOffset: 128, as: V.self) }
        if dd > 3 { dst.storeBytes(of: c1_3, toByteOffset: 192, as: V.self) }
        if dd > 4 { dst.storeBytes(of: c1_4, toByteOffset: 256, as: V.self) }
        if dd > 5 { dst.storeBytes(of: c1_5, toByteOffset: 320, as: V.self) }
        if dd > 6 { dst.storeBytes(of: c1_6, toByteOffset: 384, as: V.self) }
        if dd > 7 { dst.storeBytes(of: c1_7, toByteOffset: 448, as: V.self) }
    }
    if n > 2 {
        let dst = UnsafeMutableRawPointer(o2)
        dst.storeBytes(of: c2_0, as: V.self)
        if dd > 1 { dst.storeBytes(of: c2_1, toByteOffset: 64, as: V.self) }
        if dd > 2 { dst.storeBytes(of: c2_2, toByteOffset: 128, as: V.self) }
        if dd > 3 { dst.storeBytes(of: c2_3, toByteOffset: 192, as: V.self) }
        if dd > 4 { dst.storeBytes(of: c2_4, toByteOffset: 256, as: V.self) }
        if dd > 5 { dst.storeBytes(of: c2_5, toByteOffset: 320, as: V.self) }
        if dd > 6 { dst.storeBytes(of: c2_6, toByteOffset: 384, as: V.self) }
        if dd > 7 { dst.storeBytes(of: c2_7, toByteOffset: 448, as: V.self) }
    }
    if n > 3 {
        let dst = UnsafeMutableRawPointer(o3)
        dst.storeBytes(of: c3_0, as: V.self)
        if dd > 1 { dst.storeBytes(of: c3_1, toByteOffset: 64, as: V.self) }
        if dd > 2 { dst.storeBytes(of: c3_2, toByteOffset: 128, as: V.self) }
        if dd > 3 { dst.storeBytes(of: c3_3, toByteOffset: 192, as: V.self) }
        if dd > 4 { dst.storeBytes(of: c3_4, toByteOffset: 256, as: V.self) }
        if dd > 5 { dst.storeBytes(of: c3_5, toByteOffset: 320, as: V.self) }
        if dd > 6 { dst.storeBytes(of: c3_6, toByteOffset: 384, as: V.self) }
        if dd > 7 { dst.storeBytes(of: c3_7, toByteOffset: 448, as: V.self) }
    }
}


/// `decodeReduceGroups4` lane by lane (for the modules without a shuffle tree).
@inline(__always)
func decodeReduceGroups4Lanes(_ x: UnsafePointer<SIMD16<Float>>) -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
    var out = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
    for p in 0..<16 {
        let v = x[p]
        out.0[p] = (v[0] + v[1]) + (v[2] + v[3])
        out.1[p] = (v[4] + v[5]) + (v[6] + v[7])
        out.2[p] = (v[8] + v[9]) + (v[10] + v[11])
        out.3[p] = (v[12] + v[13]) + (v[14] + v[15])
    }
    return out
}

/// Packed Q·K for two groups of 4 query rows (an 8-row tile) and 8 KV positions: x[16·g + p] (lane
/// 4·i + e) receives Σ_c q[4g + i][4c + e]·k_p[4c + e], so the score of row 4g + i with position p is
/// the sum of its lanes 4i..4i+3 (`decodeReduceGroups4`: ~2 shuffles per 4 scores instead of ~2 per
/// score with one partial vector per (row, position)). `q` holds the packed groups (headDim/4 vectors
/// each, the second at q + headDim/4); K row p (p < 8, rows p >= `rows` read row rows - 1 instead) is
/// widened 16 elements at a time and each 128-bit lane broadcast (`decodeLane4`) feeds both groups.
/// Measured on Zen 4 (fp16 KV, d 128, cache-resident): ~10% faster for 8 rows than the 16-way
/// reduction; slower for 4 rows (the broadcasts, 32 per K row, are then shared by one group only;
/// broadcasting from a widened copy of K in L1 was slower still: the copy cost ~27 cycles per row).
@inline(__always)
func decodeQKPacked<KV: DecodeKVElement>(
    _: KV.Type, q: UnsafePointer<SIMD16<Float>>, headDim: Int, k: UnsafeRawPointer, rowBytes: Int, rows: Int,
    x: UnsafeMutablePointer<SIMD16<Float>>
) {
    typealias V = SIMD16<Float>
    let groups = headDim / 4
    let q1: UnsafePointer<V> = q + groups
    let last: Int = min(rows, 8) &- 1
    @inline(__always) func row(_ p: Int) -> UnsafeRawPointer { k + min(p, last) &* rowBytes }
    let k0 = row(0), k1 = row(1), k2 = row(2), k3 = row(3), k4 = row(4), k5 = row(5), k6 = row(6), k7 = row(7)
    var a0 = V(), a1 = V(), a2 = V(), a3 = V(), a4 = V(), a5 = V(), a6 = V(), a7 = V()
    var b0 = V(), b1 = V(), b2 = V(), b3 = V(), b4 = V(), b5 = V(), b6 = V(), b7 = V()
    for t in 0..<headDim / 16 {
        let g0: Int = 4 &* t
        let w00 = q[g0], w01 = q[g0 &+ 1], w02 = q[g0 &+ 2], w03 = q[g0 &+ 3]
        let w10 = q1[g0], w11 = q1[g0 &+ 1], w12 = q1[g0 &+ 2], w13 = q1[g0 &+ 3]
        @inline(__always) func step(_ kp: UnsafeRawPointer, _ a: inout V, _ b: inout V) {
            let kv = KV.load(kp, chunk: t)
            var piece = decodeLane4(kv, 0)
            a = attnMulAdd(a, w00, piece); b = attnMulAdd(b, w10, piece)
            piece = decodeLane4(kv, 1)
            a = attnMulAdd(a, w01, piece); b = attnMulAdd(b, w11, piece)
            piece = decodeLane4(kv, 2)
            a = attnMulAdd(a, w02, piece); b = attnMulAdd(b, w12, piece)
            piece = decodeLane4(kv, 3)
            a = attnMulAdd(a, w03, piece); b = attnMulAdd(b, w13, piece)
        }
        step(k0, &a0, &b0); step(k1, &a1, &b1); step(k2, &a2, &b2); step(k3, &a3, &b3)
        step(k4, &a4, &b4); step(k5, &a5, &b5); step(k6, &a6, &b6); step(k7, &a7, &b7)
    }
    x[0] = a0; x[1] = a1; x[2] = a2; x[3] = a3; x[4] = a4; x[5] = a5; x[6] = a6; x[7] = a7
    x[16] = b0; x[17] = b1; x[18] = b2; x[19] = b3; x[20] = b4; x[21] = b5; x[22] = b6; x[23] = b7
}
