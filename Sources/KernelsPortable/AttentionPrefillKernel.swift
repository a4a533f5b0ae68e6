// AttentionPrefillKernel.swift: the fused, tiled fp32 attention kernel (FlashAttention-2 style online
// softmax) for prefill, shared by the per-ISA kernel modules.
//
// There is one copy of this file, in Sources/KernelsPortable; Sources/KernelsAVX2 and
// Sources/KernelsAVX512 hold symbolic links to it, so each module compiles it with its own target CPU.
// The register tile's shape is chosen per module below (`PrefillTile`), from the module's compile
// flag; everything else is the same code. It relies on the module's AttentionPrimitives.swift
// (`attnMulAdd`, `attnMax`, `attnLoadHalf`).
//
// One work item: `rows` consecutive query rows of `heads` consecutive query heads that share one KV
// head. The item's queries are split into tiles of up to W = 16·PrefillTile.vectors queries (a tile
// of one head); each tile keeps its running softmax statistics (max m and sum l, in base 2) and its
// output accumulator Oᵀ (d x W, transposed) in scratch, so the softmax statistics are per query and
// vectorized across SIMD lanes. The KV sequence is walked in blocks of `blockKeys` keys; for each
// block and each tile:
//
//   1. Sᵀ (keys x W) = K_blk · Qᵀ with the register tile: R keys (broadcast K elements) x W queries
//      (vector loads of Qᵀ, which was packed once per item, pre-multiplied by scale·log2(e));
//   2. causal diagonal blocks only: scores of keys after a query's position become -inf;
//      m_new = max(m, max_j Sᵀ[j]); α = 2^(m - m_new); P = 2^(Sᵀ - m_new) in place; l = α·l + Σ_j P;
//   3. Oᵀ (d x W) = α·Oᵀ + Vᵀ_blk · P with the same register tile: R head-dim rows (broadcast V
//      elements, contiguous in a V row) x W queries (vector loads of P); the rescale by α is folded
//      into the tile's store.
//
// At the end O = (Oᵀ)ᵀ / l, written for the item's real rows only. Memory per item is
// O((rows·heads + blockKeys)·d + blockKeys·W): nothing of size queryLength x kvLength exists.
// Causal masking is bottom-right aligned (query row i sees keys j <= kvLength - queryLength + i):
// blocks past a tile's last query are skipped, and within a block each tile's key count stops at its
// last query's position, so only diagonal blocks are masked element by element.
// fp16 K/V: each block is widened once per work item (attnLoadHalf) into fp32 scratch and shared by
// all the item's tiles and heads; fp32 K/V is read in place. While a block is computed, the next
// one's K and V are prefetched into L2 a few lines per tile call (measured +19% on 1 thread, +30% on
// 2, at kv 16384, where K/V come from DRAM).

/// The module's entry point. Only raw pointers and integers cross the module boundary.
public enum AttentionPrefillKernel {
    /// Keys per register-tile row group (and head-dim rows per P·V tile).
    public static var tileRows: Int { PrefillTile.rows }
    /// Queries per register tile (columns: SIMD16 vectors x 16).
    public static var tileQueries: Int { PrefillTile.vectors &* 16 }

    /// Floats of scratch one `computeBlock` call needs (any Float-aligned buffer; the kernel aligns its
    /// regions to 64 bytes inside it). Independent of queryLength and kvLength.
    public static func scratchFloats(headDim: Int, rows: Int, heads: Int, blockKeys: Int, halfKV: Bool) -> Int {
        PrefillLayout(headDim: headDim, rows: rows, heads: heads, blockKeys: blockKeys, halfKV: halfKV).total &+ 16
    }

    /// Computes O for query rows `rowStart ..< rowStart + rows` of `heads` consecutive query heads that
    /// share one KV head.
    ///
    /// - Parameters:
    ///   - q: row 0 of the first head's Q (`[queryLength][headDim]`, dense); head `g` of the group
    ///     starts at `q + g * headStride`. `o` likewise; only rows `rowStart ..< rowStart + rows` of
    ///     each head are written, and O is never read.
    ///   - k, v: row 0 of the KV head's K and V (`[kvLength][headDim]`, dense), fp32 or, when
    ///     `halfKV`, IEEE half bit patterns.
    ///   - headDim: a multiple of 16.
    ///   - scale: multiplies Q·Kᵀ before the softmax.
    ///   - blockKeys: keys per KV block, a positive multiple of `tileRows`.
    ///   - scratch: `scratchFloats(headDim:rows:heads:blockKeys:halfKV:)` floats, not shared with a
    ///     concurrent call.
    @inline(never)
    public static func computeBlock(
        q: UnsafePointer<Float>, o: UnsafeMutablePointer<Float>, headStride: Int,
        k: UnsafeRawPointer, v: UnsafeRawPointer, halfKV: Bool,
        headDim: Int, queryLength: Int, kvLength: Int, causal: Bool, scale: Float,
        rowStart: Int, rows: Int, heads: Int, blockKeys: Int,
        scratch: UnsafeMutablePointer<Float>
    ) {
        precondition(headDim > 0 && headDim % 16 == 0, "AttentionPrefillKernel: head dim must be a multiple of 16")
        precondition(blockKeys > 0 && blockKeys % PrefillTile.rows == 0, "AttentionPrefillKernel: bad blockKeys")
        precondition(rows >= 1 && heads >= 1 && rowStart >= 0 && rowStart &+ rows <= queryLength)
        precondition(!causal || queryLength <= kvLength)
        PrefillDriver.run(
            q: q, o: o, headStride: headStride, k: k, v: v, halfKV: halfKV,
            d: headDim, queryLength: queryLength, kvLength: kvLength, causal: causal, scale: scale,
            rowStart: rowStart, rows: rows, heads: heads, bc: blockKeys, scratch: scratch)
    }
}

// MARK: - Register tile shape per module

/// R (rows of the register tile: keys in Q·Kᵀ, head-dim rows in P·V) and the tile width in SIMD16
/// vectors (queries). AVX-512: 8 x 48, 24 zmm accumulators + 3 loaded vectors + 1 broadcast of the 32
/// registers. AVX2 (16 ymm, a SIMD16 takes two): 4 x 16, 8 ymm accumulators. Baseline: the same.
enum PrefillTile {
    #if ACCELBENCH_AVX512
    static var rows: Int { 8 }
    static var vectors: Int { 3 }
    #else
    static var rows: Int { 4 }
    static var vectors: Int { 1 }
    #endif
}

/// Where each region lies in the scratch buffer (float offsets from the 64-byte-aligned start).
struct PrefillLayout {
    let rowsPadded: Int      // rows rounded up to 16 (lanes per head)
    let qt: Int              // heads x rowsPadded x d: packed Qᵀ panels (one d x w panel per tile)
    let ot: Int              // same shape: Oᵀ accumulators
    let m: Int, l: Int, alpha: Int   // heads x rowsPadded each
    let limits: Int          // rowsPadded Int32: last visible key per lane
    let s: Int               // blockKeys x W: Sᵀ / P of the current tile
    let kbuf: Int            // fp32 K rows: the widened block (fp16) or the zero-padded last group (fp32)
    let vbuf: Int            // fp32 V rows (fp16 only)
    let total: Int

    init(headDim d: Int, rows: Int, heads: Int, blockKeys bc: Int, halfKV: Bool) {
        let w = PrefillTile.vectors &* 16
        rowsPadded = (rows &+ 15) / 16 &* 16
        let lanes: Int = heads &* rowsPadded
        qt = 0
        ot = qt &+ lanes &* d
        m = ot &+ lanes &* d
        l = m &+ lanes
        alpha = l &+ lanes
        limits = alpha &+ lanes
        s = limits &+ rowsPadded
        kbuf = s &+ bc &* w
        let kRows: Int = halfKV ? bc : PrefillTile.rows
        vbuf = kbuf &+ kRows &* d
        let vRows: Int = halfKV ? bc : 0
        total = vbuf &+ vRows &* d
    }
}

// MARK: - Driver

enum PrefillDriver {
    static func run(
        q: UnsafePointer<Float>, o: UnsafeMutablePointer<Float>, headStride: Int,
        k: UnsafeRawPointer, v: UnsafeRawPointer, halfKV: Bool,
        d: Int, queryLength: Int, kvLength: Int, causal: Bool, scale: Float,
        rowStart: Int, rows: Int, heads: Int, bc: Int,
        scratch: UnsafeMutablePointer<Float>
    ) {
        typealias V = SIMD16<Float>
        let R = PrefillTile.rows
        let W = PrefillTile.vectors &* 16
        let layout = PrefillLayout(headDim: d, rows: rows, heads: heads, blockKeys: bc, halfKV: halfKV)
        let misalign: Int = (Int(bitPattern: scratch) / 4) & 15
        let base: UnsafeMutablePointer<Float> = scratch + ((16 &- misalign) & 15)
        let rowsPadded = layout.rowsPadded
        let tiles = (rowsPadded &+ W &- 1) / W
        let qt: UnsafeMutablePointer<Float> = base + layout.qt
        let ot: UnsafeMutablePointer<Float> = base + layout.ot
        let mStat: UnsafeMutablePointer<Float> = base + layout.m
        let lStat: UnsafeMutablePointer<Float> = base + layout.l
        let alphaStat: UnsafeMutablePointer<Float> = base + layout.alpha
        let limits = UnsafeMutableRawPointer(base + layout.limits).assumingMemoryBound(to: Int32.self)
        let sBuf: UnsafeMutablePointer<Float> = base + layout.s
        let kBuf: UnsafeMutablePointer<Float> = base + layout.kbuf
        let vBuf: UnsafeMutablePointer<Float> = base + layout.vbuf

        // Last visible key of each lane (padding lanes copy the last real row, so a tile's key count
        // follows its real queries); monotone in the lane.
        let offset: Int = kvLength &- queryLength
        for lane in 0..<rowsPadded {
            let row: Int = rowStart &+ min(lane, rows &- 1)
            let last: Int = causal ? offset &+ row : kvLength &- 1
            limits[lane] = Int32(truncatingIfNeeded: last)
        }

        // Pack Qᵀ: tile t of head g is a d x w panel (row stride w) at qt + (g·rowsPadded + t·W)·d,
        // padding queries zero; scores come out in base 2 (scale·log2 e folded in).
        let qScale: Float = scale * 1.442_695_040_888_963_4
        for g in 0..<heads {
            let qHead: UnsafePointer<Float> = q + g &* headStride
            for t in 0..<tiles {
                let lane0: Int = t &* W
                let w: Int = min(W, rowsPadded &- lane0)
                let panel: UnsafeMutablePointer<Float> = qt + (g &* rowsPadded &+ lane0) &* d
                for i in 0..<w {
                    let lane: Int = lane0 &+ i
                    if lane < rows {
                        let src: UnsafePointer<Float> = qHead + (rowStart &+ lane) &* d
                        for c in 0..<d { panel[c &* w &+ i] = src[c] * qScale }
                    } else {
                        for c in 0..<d { panel[c &* w &+ i] = 0 }
                    }
                }
            }
            let stats: Int = g &* rowsPadded
            for lane in 0..<rowsPadded {
                mStat[stats &+ lane] = -Float.infinity
                lStat[stats &+ lane] = 0
            }
        }

        // Keys any real row of the item sees.
        let kvEnd: Int = causal ? min(kvLength, offset &+ rowStart &+ rows) : kvLength
        let kvBytes: Int = halfKV ? 2 : 4
        let lastLimit = Int(limits[rowsPadded &- 1])
        var j0 = 0
        while j0 < kvEnd {
            let blockCount: Int = min(bc, kvEnd &- j0)
            // Keys of this block the last tile needs (every tile needs a prefix of these).
            let maxCount: Int = min(blockCount, lastLimit &- j0 &+ 1)
            let groupsMax: Int = (maxCount &+ R &- 1) / R
            // K rows of the block as fp32: in place, or widened; `kTailGroup` is the group (if any)
            // that would read past the end of K and reads the zero-padded copy instead.
            var kBlock: UnsafePointer<Float>
            var vBlock: UnsafePointer<Float>
            var kTailGroup = Int.max
            if halfKV {
                let kRows: Int = groupsMax &* R
                let realRows: Int = min(kRows, kvLength &- j0)
                widen(k + j0 &* d &* kvBytes, rows: realRows, d: d, into: kBuf)
                if kRows > realRows { (kBuf + realRows &* d).update(repeating: 0, count: (kRows &- realRows) &* d) }
                widen(v + j0 &* d &* kvBytes, rows: maxCount, d: d, into: vBuf)
                kBlock = UnsafePointer(kBuf)
                vBlock = UnsafePointer(vBuf)
            } else {
                let kf = k.assumingMemoryBound(to: Float.self)
                let vf = v.assumingMemoryBound(to: Float.self)
                kBlock = kf + j0 &* d
                vBlock = vf + j0 &* d
                if j0 &+ groupsMax &* R > kvLength {
                    kTailGroup = groupsMax &- 1
                    let first: Int = j0 &+ kTailGroup &* R
                    let real: Int = kvLength &- first
                    kBuf.update(from: kf + first &* d, count: real &* d)
                    (kBuf + real &* d).update(repeating: 0, count: (R &- real) &* d)
                }
            }
            let firstBlock = j0 == 0
            // Software prefetch (into L2) of the next block's K and V, spread over this block's
            // register-tile calls: long KV caches come from DRAM, and the tiles' access pattern (8
            // rows at a 4·d-byte stride, then V columns) defeats the hardware prefetchers. After the
            // last block, block 0 of this KV head (the next item is usually the next query block or
            // head of the same KV head).
            var prefetcher: PrefillPrefetcher
            do {
                let next: Int = j0 &+ blockCount < kvEnd ? j0 &+ blockCount : 0
                let nextBytes: Int = min(bc, kvLength &- next) &* d &* kvBytes
                var calls = 0
                for t in 0..<tiles {
                    let lane0: Int = t &* W
                    let w: Int = min(W, rowsPadded &- lane0)
                    let count: Int = min(blockCount, Int(limits[lane0 &+ w &- 1]) &- j0 &+ 1)
                    if count > 0 { calls &+= heads &* ((count &+ R &- 1) / R &+ d / R) }
                }
                let lines: Int = nextBytes &* 2 / 64
                prefetcher = PrefillPrefetcher(
                    k: k + next &* d &* kvBytes, v: v + next &* d &* kvBytes, bytes: nextBytes,
                    linesPerCall: (lines &+ calls &- 1) / max(calls, 1))
            }

            for t in 0..<tiles {
                let lane0: Int = t &* W
                let w: Int = min(W, rowsPadded &- lane0)
                let nv: Int = w / 16
                let tileLast = Int(limits[lane0 &+ w &- 1])
                let count: Int = min(blockCount, tileLast &- j0 &+ 1)
                if count <= 0 { continue }  // never in the first block: key 0 is visible to every row
                let masked: Bool = Int(limits[lane0]) < j0 &+ count &- 1
                let groups: Int = (count &+ R &- 1) / R
                for g in 0..<heads {
                    let lanes: Int = g &* rowsPadded &+ lane0
                    let qPanel = UnsafePointer(qt + lanes &* d)
                    let oPanel: UnsafeMutablePointer<Float> = ot + lanes &* d
                    // 1. Sᵀ = K_blk · Qᵀ
                    for gr in 0..<groups {
                        let kRows: UnsafePointer<Float> = gr == kTailGroup ? UnsafePointer(kBuf) : kBlock + gr &* R &* d
                        prefetcher.step()
                        prefillTile(
                            nv: nv, kc: d, a: kRows, aRowStride: d, aKStride: 1, b: qPanel, bKStride: w,
                            c: sBuf + gr &* R &* w, ldc: w, alpha: nil)
                    }
                    // 2. online softmax over the block's `count` keys
                    softmax(
                        s: sBuf, ld: w, nv: nv, count: count, firstKey: j0, masked: masked,
                        limits: UnsafePointer(limits + lane0),
                        m: mStat + lanes, l: lStat + lanes, alpha: alphaStat + lanes)
                    // 3. Oᵀ = α·Oᵀ + Vᵀ_blk · P
                    let alpha: UnsafePointer<Float>? = firstBlock ? nil : UnsafePointer(alphaStat + lanes)
                    var c0 = 0
                    while c0 < d {
                        prefetcher.step()
                        prefillTile(
                            nv: nv, kc: count, a: vBlock + c0, aRowStride: 1, aKStride: d,
                            b: UnsafePointer(sBuf), bKStride: w, c: oPanel + c0 &* w, ldc: w, alpha: alpha)
                        c0 &+= R
                    }
                }
            }
            j0 &+= blockCount
        }

        // O = (Oᵀ)ᵀ / l for the real rows.
        for g in 0..<heads {
            let oHead: UnsafeMutablePointer<Float> = o + g &* headStride
            for t in 0..<tiles {
                let lane0: Int = t &* W
                let w: Int = min(W, rowsPadded &- lane0)
                let lanes: Int = g &* rowsPadded &+ lane0
                let panel: UnsafeMutablePointer<Float> = ot + lanes &* d
                // 1/l into the alpha slots (no longer needed), then scale the panel's rows.
                let inv: UnsafeMutablePointer<Float> = alphaStat + lanes
                var vec = 0
                while vec < w {
                    let lv = UnsafeRawPointer(lStat + (lanes &+ vec)).loadUnaligned(as: V.self)
                    UnsafeMutableRawPointer(inv + vec).storeBytes(of: V(repeating: 1) / lv, as: V.self)
                    vec &+= 16
                }
                let real: Int = min(w, rows &- lane0)
                for i in 0..<real {
                    let dst: UnsafeMutablePointer<Float> = oHead + (rowStart &+ lane0 &+ i) &* d
                    let s: Float = inv[i]
                    for c in 0..<d { dst[c] = panel[c &* w &+ i] * s }
                }
            }
        }
    }

    /// `rows` rows of d IEEE halves (dense) widened to fp32 at `dst` (dense).
    @inline(never)
    static func widen(_ src: UnsafeRawPointer, rows: Int, d: Int, into dst: UnsafeMutablePointer<Float>) {
        let count: Int = rows &* d
        let out = UnsafeMutableRawPointer(dst)
        var i = 0
        while i < count {
            let x = attnLoadHalf(src + i &* 2)
            out.storeBytes(of: x, toByteOffset: i &* 4, as: SIMD16<Float>.self)
            i &+= 16
        }
    }

    /// Online-softmax step of one tile (nv vectors of 16 queries, Sᵀ rows 0..<count with row stride ld):
    /// masks keys past each query's last visible key (when `masked`), updates m and l, stores
    /// α = 2^(m_old - m_new) and overwrites Sᵀ with P = 2^(Sᵀ - m_new).
    @inline(never)
    static func softmax(
        s: UnsafeMutablePointer<Float>, ld: Int, nv: Int, count: Int, firstKey: Int, masked: Bool,
        limits: UnsafePointer<Int32>,
        m: UnsafeMutablePointer<Float>, l: UnsafeMutablePointer<Float>, alpha: UnsafeMutablePointer<Float>
    ) {
        typealias V = SIMD16<Float>
        let rowBytes: Int = ld &* 4
        let minusInf = V(repeating: -Float.infinity)
        for vec in 0..<nv {
            let column = UnsafeMutableRawPointer(s + vec &* 16)
            var mx0 = minusInf
            var mx1 = minusInf
            if masked {
                let limit = UnsafeRawPointer(limits + vec &* 16).loadUnaligned(as: SIMD16<Int32>.self)
                var p = column
                for j in 0..<count {
                    let key = SIMD16<Int32>(repeating: Int32(truncatingIfNeeded: firstKey &+ j))
                    var x = p.load(as: V.self)
                    x = x.replacing(with: minusInf, where: key .> limit)
                    p.storeBytes(of: x, as: V.self)
                    mx0 = attnMax(mx0, x)
                    p += rowBytes
                }
            } else {
                var p = UnsafeRawPointer(column)
                var j = 0
                while j &+ 1 < count {
                    mx0 = attnMax(mx0, p.load(as: V.self))
                    mx1 = attnMax(mx1, p.load(fromByteOffset: rowBytes, as: V.self))
                    p += rowBytes &* 2
                    j &+= 2
                }
                if j < count { mx0 = attnMax(mx0, p.load(as: V.self)) }
            }
            let statBytes: Int = vec &* 64
            let mOld = UnsafeRawPointer(m).load(fromByteOffset: statBytes, as: V.self)
            let mNew = attnMax(mOld, attnMax(mx0, mx1))
            let a = prefillExp2(mOld - mNew)
            var sum0 = V()
            var sum1 = V()
            var p = column
            var j = 0
            while j &+ 1 < count {
                let p0 = prefillExp2(p.load(as: V.self) - mNew)
                let p1 = prefillExp2(p.load(fromByteOffset: rowBytes, as: V.self) - mNew)
                p.storeBytes(of: p0, as: V.self)
                p.storeBytes(of: p1, toByteOffset: rowBytes, as: V.self)
                sum0 += p0
                sum1 += p1
                p += rowBytes &* 2
                j &+= 2
            }
            if j < count {
                let p0 = prefillExp2(p.load(as: V.self) - mNew)
                p.storeBytes(of: p0, as: V.self)
                sum0 += p0
            }
            let lOld = UnsafeRawPointer(l).load(fromByteOffset: statBytes, as: V.self)
            UnsafeMutableRawPointer(l).storeBytes(of: attnMulAdd(sum0 + sum1, lOld, a), toByteOffset: statBytes, as: V.self)
            UnsafeMutableRawPointer(m).storeBytes(of: mNew, toByteOffset: statBytes, as: V.self)
            UnsafeMutableRawPointer(alpha).storeBytes(of: a, toByteOffset: statBytes, as: V.self)
        }
    }
}

/// `llvm.prefetch(address, rw, locality, cache type)` (Swift has no prefetch builtin; clang's
/// `_mm_prefetch` is a macro). The last three arguments must be literal constants at every call site.
@_silgen_name("llvm.prefetch.p0")
func prefillLLVMPrefetch(_ address: UnsafeRawPointer, _ rw: Int32, _ locality: Int32, _ cacheType: Int32)

/// Walks the bytes of the next K block, then of the next V block (`bytes` each), `linesPerCall`
/// cache lines per `step`, prefetching them into L2.
struct PrefillPrefetcher {
    let k: UnsafeRawPointer
    let v: UnsafeRawPointer
    let bytes: Int
    let linesPerCall: Int
    var offset = 0

    init(k: UnsafeRawPointer, v: UnsafeRawPointer, bytes: Int, linesPerCall: Int) {
        self.k = k
        self.v = v
        self.bytes = bytes
        self.linesPerCall = linesPerCall
    }

    @inline(__always)
    mutating func step() {
        var n = linesPerCall
        while n > 0 {
            if offset < bytes {
                prefillLLVMPrefetch(k + offset, 0, 2, 1)
            } else if offset &- bytes < bytes {
                prefillLLVMPrefetch(v + (offset &- bytes), 0, 2, 1)
            } else {
                return
            }
            offset &+= 64
            n &-= 1
        }
    }
}

/// 2^x on 16 lanes for x <= 0 (all the softmax needs: scores minus their running max), relative
/// error about 2e-7 (Cephes exp2f polynomial on x = n + r, |r| <= 1/2). Below -127 the result is
/// exactly 0, so masked scores of -inf come out as 0.
@inline(__always)
func prefillExp2(_ input: SIMD16<Float>) -> SIMD16<Float> {
    typealias V = SIMD16<Float>
    let x = attnMax(input, V(repeating: -127))
    // n = round(x), by adding 1.5·2^23 so the rounding happens in the float unit.
    let magic = V(repeating: 12_582_912)
    let t = x + magic
    let r = x - (t - magic)
    var p = V(repeating: 1.535_336_188_319_500e-4)
    p = attnMulAdd(V(repeating: 1.339_887_440_266_574e-3), p, r)
    p = attnMulAdd(V(repeating: 9.618_437_357_674_640e-3), p, r)
    p = attnMulAdd(V(repeating: 5.550_332_471_162_809e-2), p, r)
    p = attnMulAdd(V(repeating: 2.402_264_791_363_012e-1), p, r)
    p = attnMulAdd(V(repeating: 6.931_472_028_550_421e-1), p, r)
    p = attnMulAdd(V(repeating: 1), p, r)
    // 2^n from the integer in t's low mantissa bits: bits(t) = 0x4B40_0000 + n; n = -127 gives 0.
    let bits = unsafeBitCast(t, to: SIMD16<UInt32>.self)
    let scale = (bits &+ SIMD16<UInt32>(repeating: 127 &- 0x4B40_0000)) &<< 23
    return p * unsafeBitCast(scale, to: V.self)
}

// MARK: - Register tile

/// The register tile: for r < R (PrefillTile.rows) and the nv·16 columns j,
///   acc[r][j] = Σ_{p < kc} a[r·aRowStride + p·aKStride] · b[p·bKStride + j]
/// then c[r·ldc + j] = acc (alpha == nil) or acc + c·alpha[j]. R·nv SIMD16 accumulators as locals
/// (unused rows and vectors are folded away: R and nv are constants where it is inlined).
@inline(__always)
func prefillTileBody(
    nv: Int, kc: Int, a: UnsafePointer<Float>, aRowStride: Int, aKStride: Int,
    b: UnsafePointer<Float>, bKStride: Int,
    c: UnsafeMutablePointer<Float>, ldc: Int, alpha: UnsafePointer<Float>?
) {
    typealias V = SIMD16<Float>
    let R = PrefillTile.rows
    var c0_0 = V(), c0_1 = V(), c0_2 = V()
    var c1_0 = V(), c1_1 = V(), c1_2 = V()
    var c2_0 = V(), c2_1 = V(), c2_2 = V()
    var c3_0 = V(), c3_1 = V(), c3_2 = V()
    var c4_0 = V(), c4_1 = V(), c4_2 = V()
    var c5_0 = V(), c5_1 = V(), c5_2 = V()
    var c6_0 = V(), c6_1 = V(), c6_2 = V()
    var c7_0 = V(), c7_1 = V(), c7_2 = V()
    let s1: Int = aRowStride
    let s2: Int = aRowStride &* 2
    let s3: Int = aRowStride &* 3
    let s4: Int = aRowStride &* 4
    let s5: Int = aRowStride &* 5
    let s6: Int = aRowStride &* 6
    let s7: Int = aRowStride &* 7
    var pa = a
    var pb = UnsafeRawPointer(b)
    let bStep: Int = bKStride &* 4
    var left = kc
    while left > 0 {
        let b0 = pb.loadUnaligned(as: V.self)
        let b1 = nv > 1 ? pb.loadUnaligned(fromByteOffset: 64, as: V.self) : V()
        let b2 = nv > 2 ? pb.loadUnaligned(fromByteOffset: 128, as: V.self) : V()
        do {
            let x = V(repeating: pa[0])
            c0_0 = c0_0.addingProduct(x, b0)
            if nv > 1 { c0_1 = c0_1.addingProduct(x, b1) }
            if nv > 2 { c0_2 = c0_2.addingProduct(x, b2) }
        }
        if R > 1 {
            let x = V(repeating: pa[s1])
            c1_0 = c1_0.addingProduct(x, b0)
            if nv > 1 { c1_1 = c1_1.addingProduct(x, b1) }
            if nv > 2 { c1_2 = c1_2.addingProduct(x, b2) }
        }
        if R > 2 {
            let x = V(repeating: pa[s2])
            c2_0 = c2_0.addingProduct(x, b0)
            if nv > 1 { c2_1 = c2_1.addingProduct(x, b1) }
            if nv > 2 { c2_2 = c2_2.addingProduct(x, b2) }
        }
        if R > 3 {
            let x = V(repeating: pa[s3])
            c3_0 = c3_0.addingProduct(x, b0)
            if nv > 1 { c3_1 = c3_1.addingProduct(x, b1) }
            if nv > 2 { c3_2 = c3_2.addingProduct(x, b2) }
        }
        if R > 4 {
            let x = V(repeating: pa[s4])
            c4_0 = c4_0.addingProduct(x, b0)
            if nv > 1 { c4_1 = c4_1.addingProduct(x, b1) }
            if nv > 2 { c4_2 = c4_2.addingProduct(x, b2) }
        }
        if R > 5 {
            let x = V(repeating: pa[s5])
            c5_0 = c5_0.addingProduct(x, b0)
            if nv > 1 { c5_1 = c5_1.addingProduct(x, b1) }
            if nv > 2 { c5_2 = c5_2.addingProduct(x, b2) }
        }
        if R > 6 {
            let x = V(repeating: pa[s6])
            c6_0 = c6_0.addingProduct(x, b0)
            if nv > 1 { c6_1 = c6_1.addingProduct(x, b1) }
            if nv > 2 { c6_2 = c6_2.addingProduct(x, b2) }
        }
        if R > 7 {
            let x = V(repeating: pa[s7])
            c7_0 = c7_0.addingProduct(x, b0)
            if nv > 1 { c7_1 = c7_1.addingProduct(x, b1) }
            if nv > 2 { c7_2 = c7_2.addingProduct(x, b2) }
        }
        pa += aKStride
        pb += bStep
        left &-= 1
    }
    let rowBytes: Int = ldc &* 4
    let pc = UnsafeMutableRawPointer(c)
    if let alpha {
        let pal = UnsafeRawPointer(alpha)
        let a0 = pal.loadUnaligned(as: V.self)
        let a1 = nv > 1 ? pal.loadUnaligned(fromByteOffset: 64, as: V.self) : V()
        let a2 = nv > 2 ? pal.loadUnaligned(fromByteOffset: 128, as: V.self) : V()
        prefillScaleStore(nv, pc, c0_0, c0_1, c0_2, a0, a1, a2)
        if R > 1 { prefillScaleStore(nv, pc + rowBytes, c1_0, c1_1, c1_2, a0, a1, a2) }
        if R > 2 { prefillScaleStore(nv, pc + rowBytes &* 2, c2_0, c2_1, c2_2, a0, a1, a2) }
        if R > 3 { prefillScaleStore(nv, pc + rowBytes &* 3, c3_0, c3_1, c3_2, a0, a1, a2) }
        if R > 4 { prefillScaleStore(nv, pc + rowBytes &* 4, c4_0, c4_1, c4_2, a0, a1, a2) }
        if R > 5 { prefillScaleStore(nv, pc + rowBytes &* 5, c5_0, c5_1, c5_2, a0, a1, a2) }
        if R > 6 { prefillScaleStore(nv, pc + rowBytes &* 6, c6_0, c6_1, c6_2, a0, a1, a2) }
        if R > 7 { prefillScaleStore(nv, pc + rowBytes &* 7, c7_0, c7_1, c7_2, a0, a1, a2) }
    } else {
        prefillStore(nv, pc, c0_0, c0_1, c0_2)
        if R > 1 { prefillStore(nv, pc + rowBytes, c1_0, c1_1, c1_2) }
        if R > 2 { prefillStore(nv, pc + rowBytes &* 2, c2_0, c2_1, c2_2) }
        if R > 3 { prefillStore(nv, pc + rowBytes &* 3, c3_0, c3_1, c3_2) }
        if R > 4 { prefillStore(nv, pc + rowBytes &* 4, c4_0, c4_1, c4_2) }
        if R > 5 { prefillStore(nv, pc + rowBytes &* 5, c5_0, c5_1, c5_2) }
        if R > 6 { prefillStore(nv, pc + rowBytes &* 6, c6_0, c6_1, c6_2) }
        if R > 7 { prefillStore(nv, pc + rowBytes &* 7, c7_0, c7_1, c7_2) }
    }
}

@inline(__always)
func prefillStore(
    _ nv: Int, _ p: UnsafeMutableRawPointer, _ x0: SIMD16<Float>, _ x1: SIMD16<Float>, _ x2: SIMD16<Float>
) {
    p.storeBytes(of: x0, as: SIMD16<Float>.self)
    if nv > 1 { p.storeBytes(of: x1, toByteOffset: 64, as: SIMD16<Float>.self) }
    if nv > 2 { p.storeBytes(of: x2, toByteOffset: 128, as: SIMD16<Float>.self) }
}

/// p[j] = x[j] + p[j]·a[j] for the row's nv vectors.
@inline(__always)
func prefillScaleStore(
    _ nv: Int, _ p: UnsafeMutableRawPointer, _ x0: SIMD16<Float>, _ x1: SIMD16<Float>, _ x2: SIMD16<Float>,
    _ a0: SIMD16<Float>, _ a1: SIMD16<Float>, _ a2: SIMD16<Float>
) {
    typealias V = SIMD16<Float>
    p.storeBytes(of: attnMulAdd(x0, p.load(as: V.self), a0), as: V.self)
    if nv > 1 { p.storeBytes(of: attnMulAdd(x1, p.load(fromByteOffset: 64, as: V.self), a1), toByteOffset: 64, as: V.self) }
    if nv > 2 { p.storeBytes(of: attnMulAdd(x2, p.load(fromByteOffset: 128, as: V.self), a2), toByteOffset: 128, as: V.self) }
}

@inline(never)
func prefillTile1(
    kc: Int, a: UnsafePointer<Float>, aRowStride: Int, aKStride: Int, b: UnsafePointer<Float>, bKStride: Int,
    c: UnsafeMutablePointer<Float>, ldc: Int, alpha: UnsafePointer<Float>?
) {
    prefillTileBody(
        nv: 1, kc: kc, a: a, aRowStride: aRowStride, aKStride: aKStride, b: b, bKStride: bKStride,
        c: c, ldc: ldc, alpha: alpha)
}

@inline(never)
func prefillTile2(
    kc: Int, a: UnsafePointer<Float>, aRowStride: Int, aKStride: Int, b: UnsafePointer<Float>, bKStride: Int,
    c: UnsafeMutablePointer<Float>, ldc: Int, alpha: UnsafePointer<Float>?
) {
    prefillTileBody(
        nv: 2, kc: kc, a: a, aRowStride: aRowStride, aKStride: aKStride, b: b, bKStride: bKStride,
        c: c, ldc: ldc, alpha: alpha)
}

@inline(never)
func prefillTile3(
    kc: Int, a: UnsafePointer<Float>, aRowStride: Int, aKStride: Int, b: UnsafePointer<Float>, bKStride: Int,
    c: UnsafeMutablePointer<Float>, ldc: Int, alpha: UnsafePointer<Float>?
) {
    prefillTileBody(
        nv: 3, kc: kc, a: a, aRowStride: aRowStride, aKStride: aKStride, b: b, bKStride: bKStride,
        c: c, ldc: ldc, alpha: alpha)
}

/// The register tile for a tile of nv (1 ... PrefillTile.vectors) vectors of queries.
@inline(__always)
func prefillTile(
    nv: Int, kc: Int, a: UnsafePointer<Float>, aRowStride: Int, aKStride: Int, b: UnsafePointer<Float>, bKStride: Int,
    c: UnsafeMutablePointer<Float>, ldc: Int, alpha: UnsafePointer<Float>?
) {
    // min: modules with narrower tiles never instantiate the wider ones.
    switch min(nv, PrefillTile.vectors) {
    case 3: prefillTile3(kc: kc, a: a, aRowStride: aRowStride, aKStride: aKStride, b: b, bKStride: bKStride, c: c, ldc: ldc, alpha: alpha)
    case 2: prefillTile2(kc: kc, a: a, aRowStride: aRowStride, aKStride: aKStride, b: b, bKStride: bKStride, c: c, ldc: ldc, alpha: alpha)
    default: prefillTile1(kc: kc, a: a, aRowStride: aRowStride, aKStride: aKStride, b: b, bKStride: bKStride, c: c, ldc: ldc, alpha: alpha)
    }
}
