import AccelBenchKernels

/// A 64-byte aligned, manually sized buffer of trivial elements, freed on deinit.
final class AlignedBuffer<Element> {
    let count: Int
    let pointer: UnsafeMutablePointer<Element>

    /// - Parameter hugePages: for buffers of 2 MiB or more, 2 MiB aligned on transparent huge pages
    ///   (`allocateAligned`), as the quantized weight buffers are: a bandwidth ceiling measured on
    ///   4 KiB pages would sit below what those kernels read.
    init(count: Int, hugePages: Bool = false) {
        precondition(count >= 0)
        self.count = count
        let raw = allocateAligned(bytes: max(1, count * MemoryLayout<Element>.stride), hugePages: hugePages).baseAddress!
        pointer = raw.bindMemory(to: Element.self, capacity: max(1, count))
    }

    deinit {
        UnsafeMutableRawPointer(pointer).deallocate()
    }

    subscript(index: Int) -> Element {
        get { pointer[index] }
        set { pointer[index] = newValue }
    }
}
