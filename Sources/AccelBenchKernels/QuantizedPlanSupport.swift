import AccelBenchCore
#if canImport(Glibc)
import Glibc
#endif

// What the quantized GEMM plans (QuantizedGEMMPlan, W8A8GEMMPlan) share: their buffers and how they
// split output rows and activation scratch between workers.

/// 64-byte (or, for large buffers, 2 MiB) aligned zeroed memory. Large buffers ask the kernel for
/// transparent huge pages (a weight matrix streamed from DRAM then crosses 512x fewer pages and TLB
/// entries; measured here: a plain read of 9 MB from DRAM ran ~10% faster with them).
func quantAllocateAligned(bytes: Int) -> UnsafeMutableRawPointer {
    let huge = 2 << 20
    let alignment = bytes >= huge ? huge : 64
    let size = max(64, (bytes + alignment - 1) / alignment * alignment)
    let raw = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: alignment)
    #if canImport(Glibc)
    if alignment == huge { _ = madvise(raw, size, MADV_HUGEPAGE) }
    #endif
    raw.initializeMemory(as: UInt8.self, repeating: 0, count: size)
    return raw
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
