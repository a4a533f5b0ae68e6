import Foundation

/// Fields of a /proc/meminfo-shaped text ("MemTotal:  24683652 kB"), in bytes.
struct MemInfo: Sendable, Equatable {
    var fieldsBytes: [String: Int]

    init(parsing text: String) {
        var fields: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = String(line[..<colon])
            let words = line[line.index(after: colon)...].split(separator: " ")
            guard let first = words.first, let value = Int(first) else { continue }
            let unit = words.count > 1 ? words[1].lowercased() : ""
            fields[key] = unit == "kb" ? value * 1024 : value
        }
        fieldsBytes = fields
    }

    static func read(path: String) throws -> MemInfo {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw TopologyError(
                code: .memInfoUnreadable,
                message: "cannot read \(path); memory figures need a Linux /proc (or pass a meminfo-shaped file)",
                cause: path)
        }
        return MemInfo(parsing: text)
    }

    func bytes(_ field: String, path: String) throws -> Int {
        guard let value = fieldsBytes[field] else {
            throw TopologyError(
                code: .memInfoUnreadable,
                message: "\(path) has no \(field) line; a kernel older than 3.14 lacks MemAvailable",
                cause: path)
        }
        return value
    }
}

extension Topology {
    /// Memory the kernel can hand out now without swapping (MemAvailable), read afresh on each call.
    /// Use it to refuse shapes whose buffers would not fit; it changes while the harness runs.
    /// - Parameter meminfoPath: a /proc/meminfo-shaped file (tests pass a fixture).
    public static func availableMemoryBytes(meminfoPath: String = "/proc/meminfo") throws -> Int {
        try MemInfo.read(path: meminfoPath).bytes("MemAvailable", path: meminfoPath)
    }

    /// Installed memory as the kernel reports it (MemTotal), read afresh on each call.
    public static func totalMemoryBytes(meminfoPath: String = "/proc/meminfo") throws -> Int {
        try MemInfo.read(path: meminfoPath).bytes("MemTotal", path: meminfoPath)
    }
}
