import Foundation
import Synchronization
@testable import AccelBenchPower

/// A directory tree in the temporary directory shaped like a piece of /sys or /proc, removed when the
/// value goes away. Paths are relative to `root`.
final class FakeSysfsTree {
    let root: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/accelbench-sysfs-XXXXXX").utf8CString)
        guard let created = mkdtemp(&template) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: "mkdtemp: \(String(cString: strerror(errno)))"])
        }
        root = String(cString: created)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
    }

    func path(_ relative: String) -> String { root + "/" + relative }

    /// Writes a file (creating its directories), like a sysfs attribute: content then a newline.
    func write(_ relative: String, _ content: String, newline: Bool = true) throws {
        let full = path(relative)
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data((content + (newline ? "\n" : "")).utf8).write(to: URL(fileURLWithPath: full))
    }

    /// Writes several attributes of one directory.
    func write(in directory: String, _ files: [String: String]) throws {
        for (name, content) in files { try write(directory + "/" + name, content) }
    }

    func makeDirectory(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: path(relative), withIntermediateDirectories: true)
    }

    /// A symlink at `relative` pointing to `target` (relative targets as sysfs uses them, or absolute).
    func link(_ relative: String, to target: String) throws {
        let full = path(relative)
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: full, withDestinationPath: target)
    }

    func remove(_ relative: String) throws {
        try FileManager.default.removeItem(atPath: path(relative))
    }

    /// Makes `relative` a file this process cannot open for reading, the way a root-only energy_uj is
    /// for an ordinary user; returns false when that cannot be arranged here (the caller skips).
    ///
    /// Tests often run as root, for whom mode 000 is still readable. Root is refused by sysctl files
    /// of mode 0200 (procfs checks the mode bits for uid 0 itself rather than granting DAC override),
    /// so the file becomes a symlink to such a file when one exists; otherwise a mode-000 file,
    /// which works for everyone but root.
    func makeUnreadable(_ relative: String) throws -> Bool {
        let full = path(relative)
        try? FileManager.default.removeItem(atPath: full)
        for candidate in Self.rootUnreadable where Self.openFails(candidate) {
            try link(relative, to: candidate)
            return true
        }
        try write(relative, "12345")
        chmod(full, 0)
        return Self.openFails(full)
    }

    /// Files root may not read (sysctl write-only knobs).
    static let rootUnreadable = ["/proc/sys/vm/drop_caches", "/proc/sys/vm/compact_memory"]

    /// Whether `makeUnreadable` can work here: not root, or root with a mode-0200 sysctl file.
    static var canMakeUnreadable: Bool { geteuid() != 0 || rootUnreadable.contains(where: openFails) }

    /// Whether opening `path` for reading fails with EACCES.
    static func openFails(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY)
        if fd >= 0 {
            close(fd)
            return false
        }
        return errno == EACCES
    }
}

/// A clock that ticks one millisecond per reading, starting at 100 s.
final class TickingPowerClock: PowerClock {
    let ticks = Mutex(0)

    func now() -> Double {
        ticks.withLock { ticks in
            ticks += 1
            return 100 + Double(ticks) * 0.001
        }
    }
}

/// Writes an executable script through a close-on-exec descriptor. A plain `Data.write` leaves the
/// descriptor inheritable: a process another test forks at that instant keeps the file open for
/// writing until it execs, and running the script then fails with "Text file busy" (ETXTBSY).
func writeExecutableScript(_ path: String, _ text: String, mode: mode_t = 0o755) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
    guard fd >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
    let bytes = Array(text.utf8)
    let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    guard written == bytes.count, chmod(path, mode) == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
}
