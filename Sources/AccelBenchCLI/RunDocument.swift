import AccelBenchCore
import AccelBenchPower
import AccelBenchProfiles
import AccelBenchCPU
import AccelBenchTopology
import Foundation

/// The JSON result file of `accelbench run`: everything needed to read, compare and reproduce the run.
public struct RunDocument: Codable, Sendable {
    /// Version of this document's layout.
    public var schema = "accelbench.run.v1"
    public var accelbench: BuildInfo
    public var host: String
    public var startedAt: String
    public var finishedAt: String
    public var command: [String]
    public var suite: String
    public var rule: StoppingRule
    public var seed: UInt64
    public var versions: [String: String]
    /// 1, 5 and 15 minute load averages at the start and the end: other work on the machine
    /// lowers multi-threaded figures.
    public var loadAverageStart: [Double]
    public var loadAverageEnd: [Double]
    public var topology: Topology
    public var ceilings: Ceilings?
    /// The power channels read (or why none), idle power and the sampling interval.
    public var power: PowerSummary?
    public var results: [CaseResult]
    /// This machine's CPU profile derived from `ceilings` (the `profile cpu-host` measured peak labels
    /// name); nil without ceilings.
    public var cpuProfile: ChipProfile? = nil
    /// Whether the worker threads were bound to cores (nil in files from before it was recorded).
    public var threadsPinned: Bool? = nil

    public struct BuildInfo: Codable, Sendable {
        public var version: String
        public var commit: String
        public var compiler: String
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }

    /// A document read back from `encoded()`'s bytes (non-finite numbers as "inf", "-inf", "nan").
    public static func decoded(from data: Data) throws -> RunDocument {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(RunDocument.self, from: data)
    }

    /// Writes the document atomically (a temporary file renamed into place): a reader never sees a
    /// half-written file, and an existing file is replaced only by a complete one.
    public func write(to path: String) throws {
        try RecordFiles.writeAtomically(try encoded(), to: path, what: "the result file")
    }
}

/// Facts about the build and the system, gathered once per run.
enum SystemInfo {
    static let version = "0.1.0"

    static var compiler: String {
        #if compiler(>=6.3)
            "Swift >= 6.3"
        #elseif compiler(>=6.2)
            "Swift 6.2"
        #elseif compiler(>=6.1)
            "Swift 6.1"
        #else
            "Swift 6.0"
        #endif
    }

    /// The git commit of the checkout the executable was built in (found by walking up from the
    /// executable's path), or ACCELBENCH_COMMIT when set, or "unknown".
    static func commit() -> String {
        if let fromEnvironment = ProcessInfo.processInfo.environment["ACCELBENCH_COMMIT"] { return fromEnvironment }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent(".git").path) {
                let head = run(["git", "-C", directory.path, "rev-parse", "HEAD"])
                let dirty = run(["git", "-C", directory.path, "status", "--porcelain", "--untracked-files=no"])
                guard let head, !head.isEmpty else { break }
                return head + ((dirty?.isEmpty ?? true) ? "" : "-dirty")
            }
            directory = directory.deletingLastPathComponent()
        }
        return "unknown"
    }

    static func hostName() -> String {
        ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
    }

    static func loadAverage() -> [Double] {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return [] }
        return text.split(separator: " ").prefix(3).compactMap { Double($0) }
    }

    static func versions(topology: Topology) -> [String: String] {
        var v: [String: String] = [
            "openblas": OpenBLASBackend.config,
            "openblas_core": OpenBLASBackend.coreName,
            "hwloc": topology.hwlocVersion,
            "compiler": compiler,
            "os": ProcessInfo.processInfo.operatingSystemVersionString,
        ]
        if let kernel = try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8) {
            v["kernel"] = kernel.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let release = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8),
            let line = release.split(separator: "\n").first(where: { $0.hasPrefix("PRETTY_NAME=") })
        {
            v["distribution"] = line.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        if let coretype = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] { v["OPENBLAS_CORETYPE"] = coretype }
        return v
    }

    static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    private static func run(_ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
