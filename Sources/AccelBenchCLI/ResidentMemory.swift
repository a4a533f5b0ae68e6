import Foundation

/// The process's peak resident memory (Linux VmHWM), resettable so each case gets its own figure.
enum ResidentMemory {
    /// Resets the peak to the current resident size (writing 5 to /proc/self/clear_refs, Linux >= 4.0).
    /// Returns false where that is not possible; the peak then covers the whole process so far.
    @discardableResult
    static func resetPeak() -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        do {
            try handle.write(contentsOf: Data("5".utf8))
            return true
        } catch {
            return false
        }
    }

    /// VmHWM from /proc/self/status, bytes; nil where unavailable.
    static func peakBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 3, let value = Int(fields[1]), fields[2] == "kB" else { return nil }
            return value * 1024
        }
        return nil
    }
}
