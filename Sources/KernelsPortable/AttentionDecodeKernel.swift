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
//   decodeExp2(_ x: SIMD16<Float>) -> SIMD16<Float>                   (AttentionDecode<ISA>.swift)
//       2^x, relative error ~2e-7 for x >= -126, >= 0 and <= 2^-126 below (-inf included), never NaN
//   decodeMaskLanes(_ v: SIMD16<Float>, from: Int, with: Float) -> SIMD16<Float>
//       lanes i >= from (from may be < 0 or > 16) replaced by the fill value
//
// Cache layout: V is row-major, `kvLength` x `headDim`. K is stored in tiles of 16 positions,
// head-dimension-major inside a tile (tile t holds positions 16t..16t+15; element d of those 16
// positions is 16 consecutive values at t·16·headDim + 16·d), the last tile padded to 16 positions:
// `AttentionKeyTiles` in AccelBenchKernels packs it. A serving engine appends a token to such a cache
// with 16-element-strided stores; reading it, element d of 16 keys is one vector, so the scores of
// 16 positions come out of plain FMAs with broadcast query elements, with no horizontal sums.
// (Row-major K needs a 16-way transpose-add per 16 scores: on Zen 4 with fp16 KV that form ran at
// ~140 cycles per KV position for 4 query rows, this one at ~80, against a 64-FMA floor.)
//
// One `partial` call handles one KV head of one batch item and one range ("chunk") of KV positions,
// for all `rows` query rows that read that KV head (groupSize heads x queryLength tokens, contiguous
// in Q and O). It walks the chunk in blocks of `blockRows` (32) KV positions with an online softmax;
// the query rows are cut into tiles of at most 8 (balanced: 12 rows are 6 + 6), and for each block
// and tile:
//   1. Q·Kᵀ (`decodeQKTiles`): per head-dimension element, the block's two K tile rows are widened
//      once and multiplied with every row's broadcast query element: one vector of 16 scores per
//      (row, tile), 2 x 8 accumulators at most;
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
// each block prefetches the next block into L2, its K tiles a line or two per head-dimension element
// from the score loop and its V rows one at a time from each P·V d-tile (the columns that d-tile reads), so the requests are
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

/// How K and V elements are stored and widened to fp32.
///
/// - `loadPair(p)`: the 32 elements at p (64 bytes for fp16, 128 for fp32) as two vectors: fp32
///   gives elements 0-15 and 16-31; fp16 gives the even elements and the odd ones ("kernel order").
/// - `loadSingle(p)`: 16 elements at p in natural order.
/// Both carry the factor `widenScale` (fp16: 2^-112, see `DecodeKVHalf`), which the kernel cancels
/// with `2^112` folded into Q and the probabilities.
protocol DecodeKVElement {
    static var bytes: Int { get }
    static var widenScale: Float { get }
    static func loadPair(_ p: UnsafeRawPointer) -> (SIMD16<Float>, SIMD16<Float>)
    static func loadSingle(_ p: UnsafeRawPointer) -> SIMD16<Float>
}

enum DecodeKVFloat: DecodeKVElement {
    static var bytes: Int { 4 }
    static var widenScale: Float { 1 }
    @inline(__always)
    static func loadPair(_ p: UnsafeRawPointer) -> (SIMD16<Float>, SIMD16<Float>) {
        (p.loadUnaligned(as: SIMD16<Float>.self), p.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self))
    }
    @inline(__always)
    static func loadSingle(_ p: UnsafeRawPointer) -> SIMD16<Float> { p.loadUnaligned(as: SIMD16<Float>.self) }
}

/// fp16 widened by moving bits rather than by `vcvtph2ps`: an fp16 value h placed with its sign at bit
/// 31 and its exponent and mantissa at bits 27..13 is, read as fp32, exactly h·2^-112, for every
/// finite h (normal fp16 become normal fp32 with the exponent 112 lower; subnormal fp16 become
/// subnormal fp32 of the same scaled value; ±0 stay ±0). One 64-byte load gives 32 values: the low
/// halves of the 32-bit words by (w << 16) >>arith 3 & 0x8fffe000, the high halves by
/// w >>arith 3 & 0x8fffe000, five integer operations per 32 values. On Zen 4 a 512-bit `vcvtph2ps`
/// occupies the FP pipes that the FMAs need (measured: 2 conversions added ~2.5 cycles to 8 FMAs,
/// these 5 operations ~1.5), and decode with 4 query rows per KV head does only 4 FMAs per widened
/// element. Infinite and NaN fp16 values are not handled (they would widen to finite numbers): the
/// caches this kernel reads must hold finite values, as the plan documents.
enum DecodeKVHalf: DecodeKVElement {
    static var bytes: Int { 2 }
    static var widenScale: Float { 0x1p-112 }
    @inline(__always)
    static func loadPair(_ p: UnsafeRawPointer) -> (SIMD16<Float>, SIMD16<Float>) {
        let w = p.loadUnaligned(as: SIMD16<Int32>.self)
        let mask = SIMD16<Int32>(repeating: Int32(bitPattern: 0x8fff_e000))
        let even = ((w &<< 16) &>> 3) & mask
        let odd = (w &>> 3) & mask
        return (unsafeBitCast(even, to: SIMD16<Float>.self), unsafeBitCast(odd, to: SIMD16<Float>.self))
    }
    @inline(__always)
    static func loadSingle(_ p: UnsafeRawPointer) -> SIMD16<Float> {
        attnLoadHalf(p) * SIMD16<Float>(repeating: 0x1p-112)
    }
}

/// The module's entry point for decode attention. Only raw pointers, integers and flags cross the
/// module boundary; the caller (AttentionDecodePlan) owns the memory and the threads.
public enum AttentionDecodeKernel {
    /// KV positions per online-softmax block (a multiple of 16).
    public static var blockRows: Int { 32 }
    /// How far ahead of the block being computed the kernel prefetches K and V, in positions (a
    /// multiple of blockRows). 1, 2 and 4 blocks measured alike on Zen 4 (within this host's noise).
    public static var prefetchDistance: Int { 2 &* blockRows }
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
    ///   - k, v: position 0 of the KV head's cache, fp16 bit patterns when `kvHalf`, fp32 otherwise:
    ///     K in tiles of 16 positions (see the top of this file; ceil(kvLength/16) tiles), V
    ///     `kvLength` x `headDim` rows.
    ///   - start, end: the chunk, 0 <= start < end <= kvLength, start a multiple of 16.
    ///   - acc: `rows` x `headDim` out: Σ_j 2^(s_rj - m_r)·V_j over the visible j in the chunk, where
    ///     s_rj = scale·log2(e)·q_r·k_j is the score in base 2 (divided by l_r when `normalize`: the
    ///     final output when the chunk is the whole cache).
    ///   - rowMax, rowSum: `rows` out: m_r (the largest visible base-2 score,
    ///     -greatestFiniteMagnitude when the row sees no position of the chunk) and
    ///     l_r = Σ_j 2^(s_rj - m_r).
    ///   - workspace: `workspaceBytes(rows:headDim:)` bytes, any alignment, not shared with a
    ///     concurrent call.
    ///   - followK, followV, followRows: where the caller's next chunk starts (its first K tile and V
    ///     row, with the same element type and head dimension) and how many rows it has, or nil and
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
        precondition(rows > 0 && queryLength > 0 && 0 <= start && start < end && end <= kvLength && start % 16 == 0,
                     "AttentionDecodeKernel: bad rows or KV range")
        let layout = DecodeWorkspace(rows: rows, headDim: headDim)
        // Scores come out in base 2, and Q carries 2^112 against the fp16 widening's 2^-112.
        let qScale: Float = scale * 1.442_695_040_888_963_4 / (kvHalf ? DecodeKVHalf.widenScale : 1)
        let context = DecodeContext(
            layout: layout, workspace: workspace, q: q, rows: rows, queryLength: queryLength,
            headDim: headDim, scale: qScale, k: k, v: v, kvLength: kvLength, causal: causal,
            acc: acc, rowMax: rowMax, followK: followK, followV: followV,
            followRows: followK == nil || followV == nil ? 0 : followRows)
        context.prepare()
        if kvHalf {
            decodeChunk(DecodeKVHalf.self, context, start: start, end: end)
        } else {
            decodeChunk(DecodeKVFloat.self, context, start: start, end: end)
        }
        context.finish(rowSum: rowSum, normalize: normalize, kernelOrder: kvHalf)
    }

    /// Merges the `chunks` partial results of one KV head into its output rows.
    ///
    /// Chunk c's accumulators are at `acc + c·accChunkStride` (`rows` x `headDim`), its statistics at
    /// `rowMax + c·statChunkStride` and `rowSum + c·statChunkStride`; `o` receives `rows` x `headDim`
    /// normalized rows, in natural order (the chunks' rows are in kernel order when `kernelOrder`: fp16
    /// V, see `decodeNaturalOrder`). Every row must see at least one position in some chunk.
    @inline(never)
    public static func combine(
        acc: UnsafePointer<Float>, accChunkStride: Int, rowMax: UnsafePointer<Float>,
        rowSum: UnsafePointer<Float>, statChunkStride: Int, chunks: Int, rows: Int, headDim: Int,
        kernelOrder: Bool, o: UnsafeMutablePointer<Float>
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
            if kernelOrder { decodeNaturalOrder(o + r &* headDim, headDim: headDim) }
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
    /// Per-row running sums, one 16-lane vector per row.
    let sums: Int
    /// Per-tile-row rescale factors of the current block.
    let alpha: Int
    let floats: Int

    init(rows: Int, headDim: Int) {
        let tile = AttentionDecodeKernel.maxTileRows
        q = 0
        p = q &+ rows &* headDim
        sums = p &+ tile &* AttentionDecodeKernel.blockRows
        alpha = sums &+ rows &* 16
        floats = alpha &+ 16
    }
}

/// Everything one `partial` call's loops need, passed by value into the specialized functions.
struct DecodeContext {
    let q: UnsafeMutablePointer<Float>
    let p: UnsafeMutablePointer<Float>
    let sums: UnsafeMutablePointer<SIMD16<Float>>
    let alpha: UnsafeMutablePointer<Float>
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
        self.sums = UnsafeMutableRawPointer(base + layout.sums).assumingMemoryBound(to: SIMD16<Float>.self)
        self.alpha = base + layout.alpha
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

    /// Where the block `prefetchDistance` positions after the one at j0 starts in `base` (K or V of
    /// this item), or in the caller's next chunk `follow` when that is past this chunk's end, or nil
    /// when there is none.
    @inline(__always)
    func ahead(_ base: UnsafeRawPointer, _ follow: UnsafeRawPointer?, from j0: Int, end: Int, rowBytes: Int) -> UnsafeRawPointer? {
        let target: Int = j0 &+ AttentionDecodeKernel.prefetchDistance
        if target < end { return base + target &* rowBytes }
        let beyond: Int = target &- end
        guard beyond < followRows, let follow else { return nil }
        return follow + beyond &* rowBytes
    }

    /// KV positions row r sees: 0..<visible(r).
    @inline(__always)
    func visible(row r: Int) -> Int {
        causal ? kvLength &- queryLength &+ r % queryLength &+ 1 : kvLength
    }

    /// Copy of Q times `scale` (the caller's scale·log2(e)/widenScale: scores in base 2); zero
    /// accumulators, sums; maxima at -greatestFiniteMagnitude.
    func prepare() {
        typealias V = SIMD16<Float>
        let vectors = rows &* headDim / 16
        let src = UnsafeRawPointer(source)
        let dst = UnsafeMutableRawPointer(q)
        let accBytes = UnsafeMutableRawPointer(acc)
        let s = V(repeating: scale)
        for t in 0..<vectors {
            let offset: Int = t &* 64
            dst.storeBytes(of: s * src.loadUnaligned(fromByteOffset: offset, as: V.self), toByteOffset: offset, as: V.self)
            accBytes.storeBytes(of: V(), toByteOffset: offset, as: V.self)
        }
        for r in 0..<rows {
            rowMax[r] = -Float.greatestFiniteMagnitude
            sums[r] = V()
        }
    }

    /// Row sums from the per-lane sums; rows divided by their sum and put in natural order
    /// (`decodeNaturalOrder`, when the accumulators are in kernel order) when `normalize`.
    func finish(rowSum: UnsafeMutablePointer<Float>, normalize: Bool, kernelOrder: Bool) {
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
            if kernelOrder { decodeNaturalOrder(acc + r &* headDim, headDim: headDim) }
        }
    }
}

/// Puts a row of `headDim` accumulators from kernel order (fp16 V widened in pairs: per 32 elements
/// of the head dimension, the 16 even ones then the 16 odd ones; a last 16, when headDim is an odd
/// multiple of 16, in natural order) back into natural order, in place.
@inline(__always)
func decodeNaturalOrder(_ row: UnsafeMutablePointer<Float>, headDim: Int) {
    var c = 0
    while c &+ 32 <= headDim {
        let block = UnsafeMutableRawPointer(row + c)
        let even = block.loadUnaligned(as: SIMD16<Float>.self)
        let odd = block.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
        var low = SIMD16<Float>(), high = SIMD16<Float>()
        for i in 0..<8 {
            low[2 &* i] = even[i]; low[2 &* i &+ 1] = odd[i]
            high[2 &* i] = even[8 &+ i]; high[2 &* i &+ 1] = odd[8 &+ i]
        }
        block.storeBytes(of: low, as: SIMD16<Float>.self)
        block.storeBytes(of: high, toByteOffset: 64, as: SIMD16<Float>.self)
        c &+= 32
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
    let firstBytes: Int = min(AttentionDecodeKernel.prefetchDistance, end &- start) &* rowBytes
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
    let rowBytes: Int = headDim &* KV.bytes
    let block = AttentionDecodeKernel.blockRows

    // 1. Scores: the block's one or two K tiles (16 positions each), all N rows at once.
    let qTile = UnsafePointer(context.q + r0 &* headDim)
    let kBlock: UnsafeRawPointer = context.k + j0 &* rowBytes
    let vBlock: UnsafeRawPointer = context.v + j0 &* rowBytes
    // The first tile of a block prefetches the block prefetchDistance positions ahead (in this chunk
    // or the caller's next one): its K tiles here, its V rows in the P·V phase.
    let prefetch = r0 == 0
    let scores = UnsafeMutableRawPointer(context.p).assumingMemoryBound(to: V.self)
    let scoreStride = block / 16
    let subBlocks = (count &+ 15) / 16
    let kNext: UnsafeRawPointer? = prefetch ? context.ahead(context.k, context.followK, from: j0, end: end, rowBytes: rowBytes) : nil
    if subBlocks == 2 {
        decodeQKTiles(KV.self, N.self, DecodeCount2.self, q: qTile, headDim: headDim, k: kBlock,
                      tileBytes: 16 &* rowBytes, scores: scores, scoreStride: scoreStride, next: kNext)
    } else {
        decodeQKTiles(KV.self, N.self, DecodeCount1.self, q: qTile, headDim: headDim, k: kBlock,
                      tileBytes: 16 &* rowBytes, scores: scores, scoreStride: scoreStride, next: kNext)
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
            s[b] = e * V(repeating: 1 / KV.widenScale)
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
    let vNext: UnsafeRawPointer? = prefetch ? context.ahead(context.v, context.followV, from: j0, end: end, rowBytes: rowBytes) : nil
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
    let chunkBytes: Int = 16 &* KV.bytes
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
        // D = 1 is the natural-order last chunk of an odd number; D >= 2 tiles start on a pair.
        let (v0, v1) = dd > 1 ? KV.loadPair(vp) : (KV.loadSingle(vp), V())
        let (v2, v3) = dd > 3 ? KV.loadPair(vp + 2 &* chunkBytes) : (V(), V())
        let (v4, v5) = dd > 5 ? KV.loadPair(vp + 4 &* chunkBytes) : (V(), V())
        let (v6, v7) = dd > 7 ? KV.loadPair(vp + 6 &* chunkBytes) : (V(), V())
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

/// Scores of N query rows with the 16·T KV positions of T consecutive K tiles from `k` (tile t at
/// k + t·tileBytes; see the top of this file for the layout, in which each pair of head-dimension
/// elements of the 16 positions is one `loadPair`): scores[r·scoreStride + t] lane p = q_r·k_{16t+p}
/// for the scaled query row r at q + r·headDim. Per pair of head-dimension elements the T tiles are
/// widened once and each query element is broadcast once for T FMAs: 2·N·T FMAs, N·T accumulators,
/// no horizontal sums. With `next`, the same T tiles of the next block are prefetched into L2, spread
/// over the loop (prefetches past the cache's end are harmless: they never fault).
@inline(__always)
func decodeQKTiles<KV: DecodeKVElement, N: DecodeCount, T: DecodeCount>(
    _: KV.Type, _: N.Type, _: T.Type, q: UnsafePointer<Float>, headDim: Int, k: UnsafeRawPointer,
    tileBytes: Int, scores: UnsafeMutablePointer<SIMD16<Float>>, scoreStride: Int, next: UnsafeRawPointer?
) {
    typealias V = SIMD16<Float>
    let n = N.count, tiles = T.count
    let k1: UnsafeRawPointer = k + tileBytes
    let q1: UnsafePointer<Float> = q + 1 &* headDim
    let q2: UnsafePointer<Float> = q + 2 &* headDim
    let q3: UnsafePointer<Float> = q + 3 &* headDim
    let q4: UnsafePointer<Float> = q + 4 &* headDim
    let q5: UnsafePointer<Float> = q + 5 &* headDim
    let q6: UnsafePointer<Float> = q + 6 &* headDim
    let q7: UnsafePointer<Float> = q + 7 &* headDim
    var a0 = V(), b0 = V()
    var a1 = V(), b1 = V()
    var a2 = V(), b2 = V()
    var a3 = V(), b3 = V()
    var a4 = V(), b4 = V()
    var a5 = V(), b5 = V()
    var a6 = V(), b6 = V()
    var a7 = V(), b7 = V()
    // Bytes of one element pair of one tile, and of the next block's tiles to request per pair (its
    // tiles are contiguous, like these).
    let pairBytes: Int = 32 &* KV.bytes
    let step: Int = tiles &* pairBytes
    let ahead: UnsafeRawPointer = next ?? k
    let prefetch = next != nil
    @inline(__always) func fma2(_ acc: inout V, _ row: UnsafePointer<Float>, _ e: Int, _ x: V, _ y: V) {
        acc = attnMulAdd(attnMulAdd(acc, V(repeating: row[e]), x), V(repeating: row[e &+ 1]), y)
    }
    for j in 0..<headDim / 2 {
        if prefetch {
            var line = 0
            while line < step {
                sgemmLLVMPrefetch(ahead + (j &* step &+ line), 0, 2, 1)
                line &+= 64
            }
        }
        let e: Int = 2 &* j
        let (x0, y0) = KV.loadPair(k + j &* pairBytes)
        let (x1, y1) = tiles > 1 ? KV.loadPair(k1 + j &* pairBytes) : (V(), V())
        do { fma2(&a0, q, e, x0, y0); if tiles > 1 { fma2(&b0, q, e, x1, y1) } }
        if n > 1 { fma2(&a1, q1, e, x0, y0); if tiles > 1 { fma2(&b1, q1, e, x1, y1) } }
        if n > 2 { fma2(&a2, q2, e, x0, y0); if tiles > 1 { fma2(&b2, q2, e, x1, y1) } }
        if n > 3 { fma2(&a3, q3, e, x0, y0); if tiles > 1 { fma2(&b3, q3, e, x1, y1) } }
        if n > 4 { fma2(&a4, q4, e, x0, y0); if tiles > 1 { fma2(&b4, q4, e, x1, y1) } }
        if n > 5 { fma2(&a5, q5, e, x0, y0); if tiles > 1 { fma2(&b5, q5, e, x1, y1) } }
        if n > 6 { fma2(&a6, q6, e, x0, y0); if tiles > 1 { fma2(&b6, q6, e, x1, y1) } }
        if n > 7 { fma2(&a7, q7, e, x0, y0); if tiles > 1 { fma2(&b7, q7, e, x1, y1) } }
    }
    @inline(__always) func store(_ r: Int, _ a: V, _ b: V) {
        let out: UnsafeMutablePointer<V> = scores + r &* scoreStride
        out[0] = a
        if tiles > 1 { out[1] = b }
    }
    store(0, a0, b0)
    if n > 1 { store(1, a1, b1) }
    if n > 2 { store(2, a2, b2) }
    if n > 3 { store(3, a3, b3) }
    if n > 4 { store(4, a4, b4) }
    if n > 5 { store(5, a5, b5) }
    if n > 6 { store(6, a6, b6) }
    if n > 7 { store(7, a7, b7) }
}
