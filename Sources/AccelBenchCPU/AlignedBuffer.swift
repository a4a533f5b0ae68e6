#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A 64-byte aligned, manually sized buffer of trivial elements, freed on deinit.
final class AlignedBuffer<Element> {
    let count: Int
    let pointer: UnsafeMutablePointer<Element>

    init(count: Int) {
        precondition(count >= 0)
        self.count = count
        var raw: UnsafeMutableRawPointer?
        let bytes = max(1, count * MemoryLayout<Element>.stride)
        let status = posix_memalign(&raw, 64, (bytes + 63) & ~63)
        guard status == 0, let raw else {
            fatalError("out of memory allocating \(bytes) bytes")
        }
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
