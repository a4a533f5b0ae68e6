import AccelBenchCore
import Foundation
import KernelsAVX2
import KernelsAVX512
import KernelsPortable
import Synchronization

/// Decode attention (a few new query tokens against a long KV cache), planned once and run many
/// times: O = softmax(Q·Kᵀ·scale [+ causal mask])·V with Q, V and O in the layout `AttentionGeometry`
/// documents and K in the decode kernel's tiled cache layout (`AttentionKeyTiles`: per (batch, KV
/// head), tiles of 16 positions, head-dimension-major inside a tile).
///
/// Work division (split-KV): each (batch, KV head) "item" is cut into `chunksPerItem` chunks of
/// `chunkLength` KV positions; a work unit is one chunk of one item, for ALL the query rows that read
/// that KV head (groupSize heads x queryLength tokens), so each K and V element is read once per call
/// whatever the group size. Workers claim units from a shared counter (so a worker slowed by a
/// neighbour on its core takes fewer; each claims one unit ahead, and the kernel prefetches that
/// unit's first block while it finishes the current one), each writes the unit's unnormalized rows
/// and softmax statistics to its own slot, and the worker that completes an item's last chunk
/// merges the item's chunks into O. One query token of one head therefore still spreads over every
/// worker, and with many items the units balance across them. With a single chunk per item the unit
/// writes O directly.
///
/// Sendable invariant (why `@unchecked` is sound): every stored property is immutable after `init`
/// except the contents of the workspaces, the partial-result buffers and the atomic counters, which
/// are written only inside `run`, while `runLock` is held (two threads calling `run` on one plan take
/// turns). Inside a call, a workspace is used only by the worker that owns it; a partial slot is
/// written by the one worker that claimed its unit (the claim is an atomic increment) and read by the
/// worker whose acquiring-and-releasing increment of the item's completion counter reached
/// `chunksPerItem`, after every writer's increment. Buffers are freed in `deinit`, when no `run` can
/// be in progress.
public final class AttentionDecodePlan: @unchecked Sendable {
    /// Why `geometry` cannot be planned, or nil if it can.
    public static func unsupportedReason(_ geometry: AttentionGeometry) -> String? {
        if geometry.headDim % 16 != 0 {
            return "decode attention needs headDim to be a multiple of 16 (got \(geometry.headDim))"
        }
        if geometry.queryLength > maxQueryLength {
            return "decode attention handles queryLength 1...\(maxQueryLength) (got \(geometry.queryLength)); "
                + "longer queries are prefill"
        }
        return nil
    }

    /// The longest query (new tokens per call: decode, or speculative verification) the plan takes.
    public static let maxQueryLength = 16

    public let geometry: AttentionGeometry
    public let isa: CPUISA
    public let pool: WorkerPool
    /// KV positions per work unit (the last chunk of an item may be shorter).
    public let chunkLength: Int
    /// Chunks each (batch, KV head) item is split into.
    public let chunksPerItem: Int
    /// How the kernel runs, for reports.
    public var kernelPath: String {
        let g = geometry
        let rows = g.groupSize * g.queryLength
        let tiles = (rows + AttentionDecodeKernels.maxTileRows - 1) / AttentionDecodeKernels.maxTileRows
        func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
        return "split-KV \(isa.rawValue): \(count(items, "item")) x \(count(chunksPerItem, "chunk")) of \(chunkLength), "
            + "GQA \(count(rows, "row"))/KV read (\(count(tiles, "tile"))), \(g.kvType.rawValue) KV, "
            + "blocks of \(AttentionDecodeKernels.blockRows), K in tiles of \(AttentionKeyTiles.positions)"
    }
    /// Bytes of scratch memory the plan holds (worker workspaces and partial results).
    public var scratchBytes: Int {
        workspaceBytes * workspaces.count + (partialFloats + statFloats) * 4
    }

    /// (batch, KV head) pairs.
    private var items: Int { geometry.batch * geometry.kvHeads }
    private var rows: Int { geometry.groupSize * geometry.queryLength }
    private let workspaceBytes: Int
    private let workspaces: [UnsafeMutableRawPointer]
    /// Per unit: rows x headDim accumulators (only when chunksPerItem > 1).
    private let partialFloats: Int
    private let partials: UnsafeMutablePointer<Float>
    /// Per unit: rows maxima then rows sums.
    private let statFloats: Int
    private let stats: UnsafeMutablePointer<Float>
    /// [0]: the next unit to claim; [1 + item]: chunks of the item completed.
    private let counters: UnsafeMutablePointer<Atomic<Int>>
    private let counterCount: Int
    private let runLock = NSLock()

    /// - Parameters:
    ///   - isa: the kernel module to run; must be supported by this CPU (`isa.isSupported`).
    ///   - chunkLength: KV positions per work unit; nil picks one from the shape and the pool (tests
    ///     use it to put chunk boundaries where they want them).
    public init(geometry: AttentionGeometry, isa: CPUISA, pool: WorkerPool, chunkLength: Int? = nil) {
        precondition(AttentionDecodePlan.unsupportedReason(geometry) == nil,
                     "AttentionDecodePlan: \(AttentionDecodePlan.unsupportedReason(geometry)!)")
        precondition(isa.isSupported, "AttentionDecodePlan: this CPU cannot run the \(isa.rawValue) kernels")
        precondition(chunkLength.map { $0 >= 1 } ?? true, "AttentionDecodePlan: chunkLength must be >= 1")
        self.geometry = geometry
        self.isa = isa
        self.pool = pool
        let items = geometry.batch * geometry.kvHeads
        // Chunks start on K tile boundaries.
        let length = chunkLength.map { min(($0 + 15) / 16 * 16, geometry.kvLength) }
            ?? AttentionDecodePlan.defaultChunkLength(geometry, workers: pool.threadCount)
        self.chunkLength = length
        let chunks = (geometry.kvLength + length - 1) / length
        self.chunksPerItem = chunks
        let rows = geometry.groupSize * geometry.queryLength
        let units = items * chunks
        partialFloats = chunks > 1 ? units * rows * geometry.headDim : 0
        statFloats = units * rows * 2
        partials = .allocate(capacity: max(16, partialFloats))
        stats = .allocate(capacity: max(16, statFloats))
        counterCount = 1 + items
        counters = .allocate(capacity: counterCount)
        for i in 0..<counterCount { (counters + i).initialize(to: Atomic<Int>(0)) }
        let bytes = AttentionDecodeKernels.workspaceBytes(isa: isa, rows: rows, headDim: geometry.headDim)
        workspaceBytes = bytes
        workspaces = (0..<pool.threadCount).map { _ in
            UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        }
        // Touch every page now (each workspace from its own worker, so its pages are local to it),
        // so the first timed call takes no page faults.
        let spaces = workspaces
        pool.run { index in spaces[index].initializeMemory(as: UInt8.self, repeating: 0, count: bytes) }
        partials.initialize(repeating: 0, count: max(16, partialFloats))
        stats.initialize(repeating: 0, count: max(16, statFloats))
    }

    deinit {
        for workspace in workspaces { workspace.deallocate() }
        partials.deallocate()
        stats.deallocate()
        counters.deinitialize(count: counterCount)
        counters.deallocate()
    }

    /// The chunk length `init` picks: enough units for the workers to balance (about 16 per worker,
    /// claimed dynamically), but no chunk shorter than 256 positions (a unit's fixed costs, Q
    /// staging and its partial rows, stay small next to the K and V it reads), in whole blocks; one
    /// chunk per item when one worker has nothing to balance.
    static func defaultChunkLength(_ geometry: AttentionGeometry, workers: Int) -> Int {
        let kv = geometry.kvLength
        if workers == 1 { return kv }
        let items = geometry.batch * geometry.kvHeads
        let wanted = (16 * workers + items - 1) / items
        let block = AttentionDecodeKernels.blockRows
        let minimum = 256
        let chunks = max(1, min(wanted, kv / minimum))
        let length = ((kv + chunks - 1) / chunks + block - 1) / block * block
        return min(length, kv)
    }

    /// O = attention(Q, K, V) on the pool. Q and O are fp32 in `geometry`'s layout, V too with fp32 or
    /// fp16 bit patterns as `geometry.kvType` says; K holds the same elements in
    /// `AttentionKeyTiles` layout (`AttentionKeyTiles.pack`). fp16 K and V must be finite (the kernel
    /// widens fp16 by moving exponent bits, which is exact for every finite value but maps inf and NaN
    /// to finite numbers; an fp16 cache holding them has already lost the model's values). Every
    /// element of O is written; O must not overlap the inputs.
    public func run(q: UnsafePointer<Float>, k: UnsafeRawPointer, v: UnsafeRawPointer, o: UnsafeMutablePointer<Float>) {
        runLock.lock()
        defer { runLock.unlock() }
        for i in 0..<counterCount { counters[i].store(0, ordering: .relaxed) }
        let g = geometry
        let rows = self.rows, d = g.headDim, chunks = chunksPerItem, length = chunkLength
        let units = items * chunks
        let elementBytes = g.kvType.bytes
        let kvHalf = g.kvType == .fp16
        let itemKVBytes = g.kvLength * d * elementBytes
        let itemKBytes = AttentionKeyTiles.itemBytes(kvLength: g.kvLength, headDim: d, elementBytes: elementBytes)
        let partials = self.partials, stats = self.stats, counters = self.counters
        let workspaces = self.workspaces, isa = self.isa
        let unitFloats = rows * d, statStride = rows * 2
        // `WorkerPool.run` publishes the counters' reset to the workers (it takes a lock).
        pool.run { worker in
            let workspace = workspaces[worker]
            // Each worker claims one unit ahead, so the kernel can prefetch the start of the next
            // unit while it finishes the current one.
            var unit = counters[0].wrappingAdd(1, ordering: .relaxed).oldValue
            while unit < units {
                let next = counters[0].wrappingAdd(1, ordering: .relaxed).oldValue
                let item = unit / chunks, chunk = unit % chunks
                let qItem = q + item * rows * d
                let kItem = k + item * itemKBytes, vItem = v + item * itemKVBytes
                let start = chunk * length, end = min(g.kvLength, start + length)
                var followK: UnsafeRawPointer? = nil, followV: UnsafeRawPointer? = nil, followRows = 0
                if next < units {
                    let nextStart = (next % chunks) * length
                    let offset = nextStart * d * elementBytes
                    followK = k + (next / chunks) * itemKBytes + offset
                    followV = v + (next / chunks) * itemKVBytes + offset
                    followRows = min(g.kvLength, nextStart + length) - nextStart
                }
                let stat = stats + unit * statStride
                let single = chunks == 1
                AttentionDecodeKernels.partial(
                    isa: isa, q: qItem, rows: rows, queryLength: g.queryLength, headDim: d, scale: g.scale,
                    k: kItem, v: vItem, kvHalf: kvHalf, kvLength: g.kvLength, causal: g.causal,
                    start: start, end: end, acc: single ? o + item * rows * d : partials + unit * unitFloats,
                    rowMax: stat, rowSum: stat + rows, normalize: single, workspace: workspace,
                    followK: followK, followV: followV, followRows: followRows)
                if !single && counters[1 + item].wrappingAdd(1, ordering: .acquiringAndReleasing).newValue == chunks {
                    // The last chunk of the item to finish: merge the item's chunks into O.
                    let first = item * chunks
                    AttentionDecodeKernels.combine(
                        isa: isa, acc: partials + first * unitFloats, accChunkStride: unitFloats,
                        rowMax: stats + first * statStride, rowSum: stats + first * statStride + rows,
                        statChunkStride: statStride, chunks: chunks, rows: rows, headDim: d,
                        kernelOrder: kvHalf, o: o + item * rows * d)
                }
                unit = next
            }
        }
    }
}

/// The decode kernel's K cache layout. Per (batch, KV head) item, positions are grouped in tiles of 16
/// (the last padded with zeros to 16), and inside a tile the layout is head-dimension-major:
/// - fp32: element d of positions 16t..16t+15 is 16 consecutive values at (t·headDim + d)·16;
/// - fp16: head-dimension elements go in pairs, each pair of the 16 positions interleaved in 32-bit
///   words: position p's elements 2j and 2j+1 are the low and high halves of word (t·headDim/2 + j)·16
///   + p (so one 64-byte load holds both elements of the pair for the 16 positions, and the kernel
///   widens the low and high halves separately).
/// The tile of position p therefore starts at the byte offset p·headDim·elementBytes when p is a
/// multiple of 16, as in a row-major cache, and an item takes ceil(kvLength/16) whole tiles. Reading
/// element d of 16 keys as one vector lets the decode kernel score 16 positions with plain FMAs and no
/// horizontal sums; appending a token is 16-element-strided stores (`store`).
public enum AttentionKeyTiles {
    /// Positions per tile.
    public static let positions = 16

    /// Bytes of one item's tiled K: ceil(kvLength/16)·16·headDim elements.
    public static func itemBytes(kvLength: Int, headDim: Int, elementBytes: Int) -> Int {
        (kvLength + positions - 1) / positions * positions * headDim * elementBytes
    }

    /// Bytes of a whole tiled K: `items` items.
    public static func bytes(items: Int, kvLength: Int, headDim: Int, elementBytes: Int) -> Int {
        items * itemBytes(kvLength: kvLength, headDim: headDim, elementBytes: elementBytes)
    }

    /// Tiles `items` row-major K items (`kvLength` x `headDim` elements of `elementBytes` bytes each)
    /// from `rows` into `tiles` (`bytes(items:kvLength:headDim:elementBytes:)` bytes), zeroing the
    /// padding of each item's last tile.
    public static func pack(rows: UnsafeRawPointer, into tiles: UnsafeMutableRawPointer, items: Int, kvLength: Int,
                            headDim: Int, elementBytes: Int) {
        precondition(elementBytes == 2 || elementBytes == 4, "AttentionKeyTiles: elements are fp16 or fp32")
        let itemTileBytes = itemBytes(kvLength: kvLength, headDim: headDim, elementBytes: elementBytes)
        let itemRowBytes = kvLength * headDim * elementBytes
        for item in 0..<items {
            let dst = tiles + item * itemTileBytes
            dst.initializeMemory(as: UInt8.self, repeating: 0, count: itemTileBytes)
            let src = rows + item * itemRowBytes
            for p in 0..<kvLength {
                store(row: src + p * headDim * elementBytes, position: p, into: dst, headDim: headDim, elementBytes: elementBytes)
            }
        }
    }

    /// Writes one K row (`headDim` elements) as position `position` of the tiled item at `item`.
    @inline(__always)
    public static func store(row: UnsafeRawPointer, position: Int, into item: UnsafeMutableRawPointer,
                             headDim: Int, elementBytes: Int) {
        let tile = item + (position / positions) * positions * headDim * elementBytes
        let lane = position % positions
        if elementBytes == 4 {
            for d in 0..<headDim {
                let x = row.loadUnaligned(fromByteOffset: d * 4, as: UInt32.self)
                tile.storeBytes(of: x, toByteOffset: (d * positions + lane) * 4, as: UInt32.self)
            }
        } else {
            for d in 0..<headDim {
                let x = row.loadUnaligned(fromByteOffset: d * 2, as: UInt16.self)
                tile.storeBytes(of: x, toByteOffset: ((d / 2 * positions + lane) * 2 + d % 2) * 2, as: UInt16.self)
            }
        }
    }
}

/// Dispatch to the per-ISA kernel modules. Only raw pointers, integers and flags cross into them, and
/// a module is entered only for the ISA the caller chose (and `AttentionDecodePlan` checked).
public enum AttentionDecodeKernels {
    /// KV positions per online-softmax block and query rows per register tile (the same in every
    /// module: they compile one shared source).
    public static var blockRows: Int { KernelsPortable.AttentionDecodeKernel.blockRows }
    public static var maxTileRows: Int { KernelsPortable.AttentionDecodeKernel.maxTileRows }

    /// Workspace bytes of one `partial` call of `isa`'s kernel.
    public static func workspaceBytes(isa: CPUISA, rows: Int, headDim: Int) -> Int {
        switch isa {
        case .avx512: KernelsAVX512.AttentionDecodeKernel.workspaceBytes(rows: rows, headDim: headDim)
        case .avx2: KernelsAVX2.AttentionDecodeKernel.workspaceBytes(rows: rows, headDim: headDim)
        case .portable: KernelsPortable.AttentionDecodeKernel.workspaceBytes(rows: rows, headDim: headDim)
        }
    }

    /// One chunk of one KV head for all its query rows (see `AttentionDecodeKernel.partial`).
    @inline(__always)
    public static func partial(
        isa: CPUISA, q: UnsafePointer<Float>, rows: Int, queryLength: Int, headDim: Int, scale: Float,
        k: UnsafeRawPointer, v: UnsafeRawPointer, kvHalf: Bool, kvLength: Int, causal: Bool,
        start: Int, end: Int,
        acc: UnsafeMutablePointer<Float>, rowMax: UnsafeMutablePointer<Float>, rowSum: UnsafeMutablePointer<Float>,
        normalize: Bool, workspace: UnsafeMutableRawPointer,
        followK: UnsafeRawPointer? = nil, followV: UnsafeRawPointer? = nil, followRows: Int = 0
    ) {
        switch isa {
        case .avx512:
            KernelsAVX512.AttentionDecodeKernel.partial(
                q: q, rows: rows, queryLength: queryLength, headDim: headDim, scale: scale, k: k, v: v,
                kvHalf: kvHalf, kvLength: kvLength, causal: causal, start: start, end: end,
                acc: acc, rowMax: rowMax, rowSum: rowSum, normalize: normalize, workspace: workspace,
                followK: followK, followV: followV, followRows: followRows)
        case .avx2:
            KernelsAVX2.AttentionDecodeKernel.partial(
                q: q, rows: rows, queryLength: queryLength, headDim: headDim, scale: scale, k: k, v: v,
                kvHalf: kvHalf, kvLength: kvLength, causal: causal, start: start, end: end,
                acc: acc, rowMax: rowMax, rowSum: rowSum, normalize: normalize, workspace: workspace,
                followK: followK, followV: followV, followRows: followRows)
        case .portable:
            KernelsPortable.AttentionDecodeKernel.partial(
                q: q, rows: rows, queryLength: queryLength, headDim: headDim, scale: scale, k: k, v: v,
                kvHalf: kvHalf, kvLength: kvLength, causal: causal, start: start, end: end,
                acc: acc, rowMax: rowMax, rowSum: rowSum, normalize: normalize, workspace: workspace,
                followK: followK, followV: followV, followRows: followRows)
        }
    }

    /// Merges one KV head's chunks into O (see `AttentionDecodeKernel.combine`).
    @inline(__always)
    public static func combine(
        isa: CPUISA, acc: UnsafePointer<Float>, accChunkStride: Int, rowMax: UnsafePointer<Float>,
        rowSum: UnsafePointer<Float>, statChunkStride: Int, chunks: Int, rows: Int, headDim: Int,
        kernelOrder: Bool, o: UnsafeMutablePointer<Float>
    ) {
        switch isa {
        case .avx512:
            KernelsAVX512.AttentionDecodeKernel.combine(
                acc: acc, accChunkStride: accChunkStride, rowMax: rowMax, rowSum: rowSum,
                statChunkStride: statChunkStride, chunks: chunks, rows: rows, headDim: headDim,
                kernelOrder: kernelOrder, o: o)
        case .avx2:
            KernelsAVX2.AttentionDecodeKernel.combine(
                acc: acc, accChunkStride: accChunkStride, rowMax: rowMax, rowSum: rowSum,
                statChunkStride: statChunkStride, chunks: chunks, rows: rows, headDim: headDim,
                kernelOrder: kernelOrder, o: o)
        case .portable:
            KernelsPortable.AttentionDecodeKernel.combine(
                acc: acc, accChunkStride: accChunkStride, rowMax: rowMax, rowSum: rowSum,
                statChunkStride: statChunkStride, chunks: chunks, rows: rows, headDim: headDim,
                kernelOrder: kernelOrder, o: o)
        }
    }
}
