import AccelBenchCore
import CKernels
#if canImport(Glibc)
import Glibc
#endif

// What the quantized GEMM plans (QuantizedGEMMPlan, W8A8GEMMPlan) share: their buffers and how they
// split output rows and activation scratch between workers.

/// Uninitialized memory aligned to 64 bytes; with `hugePages`, a buffer of 2 MiB or more is aligned to
/// 2 MiB and the kernel is asked for transparent huge pages before anything touches it (a buffer
/// streamed from DRAM then crosses 512x fewer pages and TLB entries; measured here, alternating reads
/// of 256 MiB: 1 thread read 1.22x faster on huge pages). The buffer is `bytes` rounded up to the
/// alignment. Free with `deallocate()`.
public func allocateAligned(bytes: Int, hugePages: Bool) -> UnsafeMutableRawBufferPointer {
    let huge = 2 << 20
    let alignment = hugePages && bytes >= huge ? huge : 64
    let size = max(64, (bytes + alignment - 1) / alignment * alignment)
    let raw = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: alignment)
    #if canImport(Glibc)
    if alignment == huge { _ = madvise(raw, size, MADV_HUGEPAGE) }
    #endif
    return UnsafeMutableRawBufferPointer(start: raw, count: size)
}

/// Zeroed memory for the quantized plans, on huge pages when large (`allocateAligned`).
func quantAllocateAligned(bytes: Int) -> UnsafeMutableRawPointer {
    let buffer = allocateAligned(bytes: bytes, hugePages: true)
    buffer.initializeMemory(as: UInt8.self, repeating: 0)
    return buffer.baseAddress!
}

/// Each worker's output rows: whole groups of `groupRows` rows, as even as the groups allow.
func quantRowSlices(rows: Int, groupRows: Int, workers: Int) -> [Range<Int>] {
    let groups = (rows + groupRows - 1) / groupRows
    return (0..<workers).map { w in
        let chunk = WorkerPool.chunk(w, of: workers, count: groups)
        return min(rows, chunk.lowerBound * groupRows)..<min(rows, chunk.upperBound * groupRows)
    }
}

/// Activation scratch of `bytes`: one buffer per worker when each worker quantizes all of X itself
/// (`perWorker`, few tokens), touched from its own worker (first-touch placement, no page faults in
/// `run`); else one shared buffer.
func quantActivationBuffers(bytes: Int, perWorker: Bool, pool: WorkerPool) -> [UnsafeMutableRawPointer] {
    let buffers = (0..<(perWorker ? pool.threadCount : 1)).map { _ in quantAllocateAligned(bytes: bytes) }
    if perWorker {
        pool.run { w in buffers[w].initializeMemory(as: UInt8.self, repeating: 0, count: bytes) }
    }
    return buffers
}

extension QuantizedMatrix {
    /// The bytes a kernel path reads: the repacked copy on the SIMD paths, the GGUF blocks on the
    /// portable one.
    public func weightBuffer(path: QuantizedGEMMPlan.Path) -> UnsafeRawBufferPointer {
        if path != .portable, let repacked {
            return UnsafeRawBufferPointer(start: repacked, count: repackedByteCount)
        }
        return UnsafeRawBufferPointer(start: blocks, count: byteCount)
    }
}

extension W8A8Matrix {
    /// The bytes a kernel path reads: the packed copy on the SIMD paths, the int8 rows and their
    /// scales on the portable one.
    public func weightBuffers(path: W8A8GEMMPlan.Path) -> [UnsafeRawBufferPointer] {
        if path != .portable, let packed {
            return [UnsafeRawBufferPointer(start: packed, count: packedByteCount)]
        }
        return [
            UnsafeRawBufferPointer(start: values, count: rows * columns),
            UnsafeRawBufferPointer(start: scales, count: rows * MemoryLayout<Float>.size),
        ]
    }
}

/// A plain read of weight buffers with the read-only STREAM kernel (`ckernels_stream_read`): each
/// worker of the pool reads an equal contiguous share of every buffer, in one pool job, as the GEMV
/// workers each stream their rows of every matrix. The reference a DRAM-bound kernel is paired with
/// (`PairedReference`).
///
/// Sendable invariant (why `@unchecked` is sound): the buffers are only read; each worker writes only
/// its own slot of `sums`, and `run` is called by one thread at a time.
public final class WeightRead: @unchecked Sendable {
    public let buffers: [UnsafeRawBufferPointer]
    public let pool: WorkerPool
    /// Bytes read per call.
    public let bytes: Int
    /// One partial sum per worker, 64 bytes apart (the result a compiler may not drop).
    private let sums: UnsafeMutablePointer<Double>

    public init(buffers: [UnsafeRawBufferPointer], pool: WorkerPool) {
        self.buffers = buffers
        self.pool = pool
        bytes = buffers.reduce(0) { $0 + $1.count / MemoryLayout<Double>.size * MemoryLayout<Double>.size }
        sums = UnsafeMutablePointer<Double>.allocate(capacity: 8 * pool.threadCount)
        sums.initialize(repeating: 0, count: 8 * pool.threadCount)
    }

    deinit { sums.deallocate() }

    /// The sum of every double read by the last call (each worker's partial sum, added).
    public var lastTotal: Double { (0..<pool.threadCount).reduce(0) { $0 + sums[$1 * 8] } }

    public func run() {
        let workers = pool.threadCount, buffers = self.buffers, sums = self.sums
        pool.run { w in
            var sum = 0.0
            for buffer in buffers {
                guard let base = buffer.baseAddress else { continue }
                let share = WorkerPool.chunk(w, of: workers, count: buffer.count / MemoryLayout<Double>.size)
                sum += ckernels_stream_read(base.assumingMemoryBound(to: Double.self) + share.lowerBound, share.count)
            }
            sums[w * 8] = sum
        }
    }
}
