import AccelBenchCore
import Foundation
import KernelsAVX2
import KernelsAVX512
import KernelsPortable
import Synchronization

/// Fused fp32 prefill attention (FlashAttention-2 style: online softmax, nothing of size
/// queryLength x kvLength in memory) for one `AttentionGeometry`, planned once and run many times.
///
/// Work items are (batch, KV head, block of `rowsPerItem` query rows, `headsPerItem` of the query
/// heads sharing that KV head); the kernel of the chosen ISA computes one item at a time with one
/// scratch buffer per worker (see `AttentionPrefillKernel` in the kernel modules for the algorithm).
/// Workers take items from a shared counter, in an order that keeps the query heads of one KV head
/// together (their K/V blocks are shared through the caches) and, for causal attention, puts each
/// KV head's most expensive query blocks (the last ones) first, so the cheap ones even out the end.
///
/// Sendable invariant (why `@unchecked` is sound): every stored property is immutable after `init`
/// except the contents of the scratch buffers and the item counter. The buffers are written only
/// inside `run`, each by the worker that owns it, and the counter is atomic; `runLock` makes two
/// threads calling `run` on one plan take turns. The buffers are freed in `deinit`, when no `run` can
/// be in progress.
public final class AttentionPrefillPlan: @unchecked Sendable {
    public let geometry: AttentionGeometry
    public let isa: CPUISA
    public let pool: WorkerPool
    /// Query rows per work item (the last block of a head may be shorter).
    public let rowsPerItem: Int
    /// Query heads (sharing one KV head) per work item.
    public let headsPerItem: Int
    /// Keys per KV block.
    public let blockKeys: Int
    /// Work items per call.
    public let itemCount: Int

    private let queryBlocks: Int
    private let headGroups: Int
    private let scratchFloatsPerWorker: Int
    private let scratch: [UnsafeMutablePointer<Float>]
    private let nextItem = Atomic<Int>(0)
    private let runLock = NSLock()

    /// nil when the fused kernel can compute `geometry`, else why not.
    public static func unsupportedReason(_ geometry: AttentionGeometry) -> String? {
        if geometry.headDim % 16 != 0 {
            return "head dim \(geometry.headDim) is not a multiple of 16; use backend reference or openblas"
        }
        return nil
    }

    /// - Parameters:
    ///   - isa: the kernel module to run; must be supported by this CPU (`isa.isSupported`).
    ///   - rowsPerItem, headsPerItem, blockKeys: the blocking (nil: the defaults, `defaultBlocking`).
    public init(
        geometry: AttentionGeometry, isa: CPUISA, pool: WorkerPool,
        rowsPerItem: Int? = nil, headsPerItem: Int? = nil, blockKeys: Int? = nil
    ) {
        precondition(AttentionPrefillPlan.unsupportedReason(geometry) == nil,
                     "AttentionPrefillPlan: \(AttentionPrefillPlan.unsupportedReason(geometry) ?? "")")
        precondition(isa.isSupported, "AttentionPrefillPlan: this CPU cannot run the \(isa.rawValue) kernels")
        self.geometry = geometry
        self.isa = isa
        self.pool = pool
        let defaults = AttentionPrefillPlan.defaultBlocking(geometry, isa: isa)
        let rows = min(rowsPerItem ?? defaults.rows, geometry.queryLength)
        let heads = min(headsPerItem ?? defaults.heads, geometry.groupSize)
        let keys = blockKeys ?? defaults.keys
        let unit = AttentionPrefillKernels.tileRows(isa: isa)
        precondition(rows >= 1 && heads >= 1 && keys >= unit && keys % unit == 0,
                     "AttentionPrefillPlan: blocking needs rows >= 1, heads >= 1, blockKeys a multiple of \(unit)")
        self.rowsPerItem = rows
        self.headsPerItem = heads
        self.blockKeys = keys
        queryBlocks = (geometry.queryLength + rows - 1) / rows
        headGroups = (geometry.groupSize + heads - 1) / heads
        itemCount = geometry.batch * geometry.kvHeads * queryBlocks * headGroups
        let floats = AttentionPrefillKernels.scratchFloats(
            isa: isa, headDim: geometry.headDim, rows: rows, heads: heads, blockKeys: keys,
            halfKV: geometry.kvType == .fp16)
        scratchFloatsPerWorker = floats
        scratch = (0..<pool.threadCount).map { _ in
            let raw = UnsafeMutableRawPointer.allocate(byteCount: floats * 4, alignment: 64)
            return raw.initializeMemory(as: Float.self, repeating: 0, count: floats)
        }
        // Touch each buffer again from its own worker, so the first timed call takes no page faults
        // and each worker's pages are local to it.
        let buffers = scratch
        pool.run { index in buffers[index].update(repeating: 0, count: floats) }
    }

    deinit {
        for buffer in scratch { buffer.deallocate() }
    }

    /// (rows per item, heads per item, keys per block) used when the caller does not choose: items of
    /// 96 query rows (two 48-query register tiles on AVX-512), KV blocks of 128 keys, and with
    /// grouped-query attention as many of the heads sharing a KV head as keep the item's Qᵀ and Oᵀ
    /// (2·rows·heads·d floats) within 384 KiB of the 1 MiB L2, a divisor of the group size: each K/V
    /// block is then fetched once for all of them. Measured on Zen 4 (1 thread: 91% of peak at d128
    /// for any of rows 48-192, keys 64-256; grouping 4 heads: +7% on 2 threads at kv 16384).
    public static func defaultBlocking(_ geometry: AttentionGeometry, isa: CPUISA) -> (rows: Int, heads: Int, keys: Int) {
        let unit = AttentionPrefillKernels.tileQueries(isa: isa)
        let rows = min(max(unit, 96 / unit * unit), geometry.queryLength)
        let budget = 384 * 1024 / (2 * 4 * rows * geometry.headDim)
        let group = geometry.groupSize
        let heads = (1...group).last { group % $0 == 0 && $0 <= max(1, budget) } ?? 1
        return (rows: rows, heads: heads, keys: 128)
    }

    /// How the plan runs, for reports.
    public var kernelPath: String {
        let r = AttentionPrefillKernels.tileRows(isa: isa), w = AttentionPrefillKernels.tileQueries(isa: isa)
        let heads = headsPerItem > 1 ? " heads/item=\(headsPerItem)" : ""
        return "fused \(isa.rawValue) Br=\(rowsPerItem) Bc=\(blockKeys)\(heads) (\(r)x\(w) tiles)"
    }

    /// Bytes of scratch the plan allocated (all workers together).
    public var scratchBytes: Int { scratchFloatsPerWorker * 4 * scratch.count }

    /// O = softmax(Q·Kᵀ·scale [+ causal mask])·V in the layout `AttentionGeometry` documents. Writes
    /// every element of O and never reads it; O must not overlap the inputs.
    public func run(q: UnsafePointer<Float>, k: UnsafeRawPointer, v: UnsafeRawPointer, o: UnsafeMutablePointer<Float>) {
        runLock.lock()
        defer { runLock.unlock() }
        let g = geometry
        let d = g.headDim
        let qLen = g.queryLength, kvLen = g.kvLength
        let rows = rowsPerItem, heads = headsPerItem, keys = blockKeys
        let queryBlocks = self.queryBlocks, headGroups = self.headGroups, items = itemCount
        let isa = self.isa, scratch = self.scratch
        let kvBytes = g.kvType.bytes
        let halfKV = g.kvType == .fp16
        let headStride = qLen * d
        nextItem.store(0, ordering: .relaxed)
        pool.run { worker in
            let buffer = scratch[worker]
            while true {
                let item = self.nextItem.wrappingAdd(1, ordering: .relaxed).oldValue
                if item >= items { return }
                // item = ((b · kvHeads + kvh) · queryBlocks + order) · headGroups + group
                let group = item % headGroups
                var rest = item / headGroups
                let order = rest % queryBlocks
                rest /= queryBlocks
                let kvh = rest % g.kvHeads
                let b = rest / g.kvHeads
                let block = g.causal ? queryBlocks - 1 - order : order
                let rowStart = block * rows
                let blockRows = min(rows, qLen - rowStart)
                let h0 = kvh * g.groupSize + group * heads
                let headCount = min(heads, g.groupSize - group * heads)
                let qOffset = (b * g.heads + h0) * headStride
                let kvOffset = (b * g.kvHeads + kvh) * kvLen * d * kvBytes
                AttentionPrefillKernels.computeBlock(
                    isa: isa, q: q + qOffset, o: o + qOffset, headStride: headStride,
                    k: k + kvOffset, v: v + kvOffset, halfKV: halfKV,
                    headDim: d, queryLength: qLen, kvLength: kvLen, causal: g.causal, scale: g.scale,
                    rowStart: rowStart, rows: blockRows, heads: headCount, blockKeys: keys, scratch: buffer)
            }
        }
    }
}

/// Dispatch to the per-ISA kernel modules. Only raw pointers and integers cross into them, and a
/// module is entered only for the ISA the caller chose (and `AttentionPrefillPlan` checked).
public enum AttentionPrefillKernels {
    /// Keys (and head-dim rows) per register tile of `isa`'s kernel; KV blocks are multiples of it.
    public static func tileRows(isa: CPUISA) -> Int {
        switch isa {
        case .avx512: KernelsAVX512.AttentionPrefillKernel.tileRows
        case .avx2: KernelsAVX2.AttentionPrefillKernel.tileRows
        case .portable: KernelsPortable.AttentionPrefillKernel.tileRows
        }
    }

    /// Queries per register tile of `isa`'s kernel.
    public static func tileQueries(isa: CPUISA) -> Int {
        switch isa {
        case .avx512: KernelsAVX512.AttentionPrefillKernel.tileQueries
        case .avx2: KernelsAVX2.AttentionPrefillKernel.tileQueries
        case .portable: KernelsPortable.AttentionPrefillKernel.tileQueries
        }
    }

    public static func scratchFloats(isa: CPUISA, headDim: Int, rows: Int, heads: Int, blockKeys: Int, halfKV: Bool) -> Int {
        switch isa {
        case .avx512:
            KernelsAVX512.AttentionPrefillKernel.scratchFloats(
                headDim: headDim, rows: rows, heads: heads, blockKeys: blockKeys, halfKV: halfKV)
        case .avx2:
            KernelsAVX2.AttentionPrefillKernel.scratchFloats(
                headDim: headDim, rows: rows, heads: heads, blockKeys: blockKeys, halfKV: halfKV)
        case .portable:
            KernelsPortable.AttentionPrefillKernel.scratchFloats(
                headDim: headDim, rows: rows, heads: heads, blockKeys: blockKeys, halfKV: halfKV)
        }
    }

    /// One work item with `isa`'s kernel (see `AttentionPrefillKernel.computeBlock`). The caller must
    /// have checked `isa.isSupported`.
    public static func computeBlock(
        isa: CPUISA, q: UnsafePointer<Float>, o: UnsafeMutablePointer<Float>, headStride: Int,
        k: UnsafeRawPointer, v: UnsafeRawPointer, halfKV: Bool,
        headDim: Int, queryLength: Int, kvLength: Int, causal: Bool, scale: Float,
        rowStart: Int, rows: Int, heads: Int, blockKeys: Int, scratch: UnsafeMutablePointer<Float>
    ) {
        switch isa {
        case .avx512:
            KernelsAVX512.AttentionPrefillKernel.computeBlock(
                q: q, o: o, headStride: headStride, k: k, v: v, halfKV: halfKV, headDim: headDim,
                queryLength: queryLength, kvLength: kvLength, causal: causal, scale: scale,
                rowStart: rowStart, rows: rows, heads: heads, blockKeys: blockKeys, scratch: scratch)
        case .avx2:
            KernelsAVX2.AttentionPrefillKernel.computeBlock(
                q: q, o: o, headStride: headStride, k: k, v: v, halfKV: halfKV, headDim: headDim,
                queryLength: queryLength, kvLength: kvLength, causal: causal, scale: scale,
                rowStart: rowStart, rows: rows, heads: heads, blockKeys: blockKeys, scratch: scratch)
        case .portable:
            KernelsPortable.AttentionPrefillKernel.computeBlock(
                q: q, o: o, headStride: headStride, k: k, v: v, halfKV: halfKV, headDim: headDim,
                queryLength: queryLength, kvLength: kvLength, causal: causal, scale: scale,
                rowStart: rowStart, rows: rows, heads: heads, blockKeys: blockKeys, scratch: scratch)
        }
    }
}
