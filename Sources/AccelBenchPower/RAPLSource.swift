import AccelBenchCore
import Foundation

/// CPU energy counters through Linux powercap: `/sys/class/powercap/intel-rapl:*` (Intel RAPL, and AMD
/// Zen's RAPL through the same driver). Each zone (package-N, its core/uncore/dram subzones, psys) is
/// one `energy_uj` counter in microjoules that wraps after `max_energy_range_uj` (minutes to tens of
/// minutes under load), so `PowerWindow` reads it at the edges of a region and often enough between.
///
/// Layouts handled: the class directory's flat symlinks (`intel-rapl:0`, `intel-rapl:0:0`, ...), the
/// nested device tree (`intel-rapl/intel-rapl:0/intel-rapl:0:0`), and both at once; a zone reachable
/// through several paths is one channel (deduplicated by real path). `intel-rapl-mmio:*` zones (a
/// second view of the same package counter on some Intel client parts) are not read.
public final class RAPLSource: PowerSource {
    /// One powercap zone as found at detection.
    struct Zone: Sendable {
        var channel: PowerChannel
        var energyPath: String
        var wrapsAt: UInt64?
    }

    public let method: PowerMethod = .rapl
    public let channels: [PowerChannel]
    public let minimumSampleIntervalSeconds: Double = 0.001
    let zones: [Zone]
    /// The powercap class directory this source was detected under (for messages).
    let root: String

    init(root: String, zones: [Zone]) {
        self.root = root
        self.zones = zones
        self.channels = zones.map(\.channel)
    }

    /// Channel ids: "rapl:package-0", "rapl:package-0/core", "rapl:package-0/uncore",
    /// "rapl:package-0/dram", "rapl:psys" (a top-level zone's `name`; a subzone's is qualified by its
    /// parent's). Returns nil when `root` is absent or holds no RAPL zone with an energy counter; throws
    /// `.permissionDenied` (with the fix) when an `energy_uj` or the tree itself cannot be read by this
    /// user. A zone whose counter is present but malformed is kept: its readings are `.fault`s.
    public static func detect(root: String = "/sys/class/powercap") throws -> RAPLSource? {
        let found: [(path: String, basename: String)]
        switch PowerSysfs.zoneDirectories(root: root, prefix: "intel-rapl:", controlType: "intel-rapl") {
        case .success(let zones): found = zones
        case .failure(let failure):
            if failure.isAbsent { return nil }
            if failure.isPermission { throw permissionError(root: root, failure: failure) }
            throw PowerError(.malformed, source: "rapl", "cannot list \(failure.path): \(failure.reason)")
        }

        // Names first: a subzone's id needs its parent's name.
        var names: [String: String] = [:]
        for zone in found {
            if case .success(let name) = PowerSysfs.readText(zone.path + "/name") {
                let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
                if !trimmed.isEmpty { names[zone.basename] = trimmed }
            }
        }

        var zones: [Zone] = []
        var usedIds: Set<String> = []
        for zone in found {
            // A directory without a name is no energy domain (the control-type directory, for one).
            guard let name = names[zone.basename] else { continue }
            let energyPath = zone.path + "/energy_uj"
            switch PowerSysfs.readText(energyPath) {
            case .failure(let failure) where failure.isAbsent:
                continue  // A zone with limits only.
            case .failure(let failure) where failure.isPermission:
                throw permissionError(root: root, failure: failure)
            default:
                break  // Readable, or broken in a way each reading reports as a fault.
            }

            let parentBasename = parentZone(of: zone.basename)
            let parentName = parentBasename.flatMap { names[$0] }
            var id = "rapl:" + (parentName.map { "\($0)/\(name)" } ?? name)
            if usedIds.contains(id) { id += "@" + zone.basename }
            usedIds.insert(id)

            let wrapsAt: UInt64?
            let rangeNote: String
            switch PowerSysfs.readUInt64(zone.path + "/max_energy_range_uj") {
            case .success(let maxRange):
                wrapsAt = maxRange == .max ? nil : maxRange + 1
                rangeNote = "wraps after max_energy_range_uj \(maxRange) µJ"
            case .failure(let failure):
                wrapsAt = nil
                rangeNote = "max_energy_range_uj unusable (\(failure.message)): a wrap inside a region cannot be corrected"
            }
            let what = parentName.map { "\(name) of \($0)" } ?? name
            let channel = PowerChannel(
                id: id, method: .rapl, scope: scope(forZoneName: name), kind: .energyCounter,
                quality: .inBandCounter, resolution: 1e-6, updateIntervalSeconds: 0.001,
                detail: "powercap zone \(zone.basename) (\(what)) at \(zone.path); energy_uj in µJ, \(rangeNote)")
            zones.append(Zone(channel: channel, energyPath: energyPath, wrapsAt: wrapsAt))
        }
        return zones.isEmpty ? nil : RAPLSource(root: root, zones: zones)
    }

    public func read(clock: any PowerClock) throws -> [PowerReading] {
        zones.map { zone in
            let result = PowerSysfs.readUInt64(zone.energyPath)
            let time = clock.now()
            switch result {
            case .success(let raw):
                return PowerReading(
                    channel: zone.channel.id, time: time,
                    value: .counter(raw: raw, joulesPerUnit: 1e-6, wrapsAt: zone.wrapsAt))
            case .failure(let failure):
                let message = failure.isPermission
                    ? Self.permissionError(root: root, failure: failure).message : failure.message
                return PowerReading(channel: zone.channel.id, time: time, value: .fault(message))
            }
        }
    }

    /// PowerScope of a zone's `name`: package-N (and package-N-die-M) → cpuPackage, core → cpuCores,
    /// uncore → cpuUncore, dram → dram, psys → platform; anything else → other (the detail names it).
    static func scope(forZoneName name: String) -> PowerScope {
        switch name {
        case "core": .cpuCores
        case "uncore": .cpuUncore
        case "dram": .dram
        case "psys": .platform
        default: name.hasPrefix("package-") ? .cpuPackage : .other
        }
    }

    /// "intel-rapl:0:1" → "intel-rapl:0"; a top-level zone ("intel-rapl:0") has none.
    static func parentZone(of basename: String) -> String? {
        let parts = basename.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count > 2 else { return nil }
        return parts.dropLast().joined(separator: ":")
    }

    static func permissionError(root: String, failure: PowerSysfs.Failure) -> PowerError {
        PowerError(
            .permissionDenied, source: "rapl",
            "cannot read \(failure.path): \(failure.reason). RAPL energy_uj is readable by root only since "
                + "Linux 5.10 (CVE-2020-8694). Run as root, or grant read access until the next boot with "
                + "`sudo chmod o+r \(root)/intel-rapl:*/energy_uj`, or for good with a udev rule such as "
                + "`ACTION==\"add\", SUBSYSTEM==\"powercap\", KERNEL==\"intel-rapl:*\", "
                + "RUN+=\"/bin/chmod o+r /sys%p/energy_uj\"` in /etc/udev/rules.d/60-accelbench-rapl.rules")
    }
}

/// Small sysfs/procfs attribute files read with open/read so the errno survives: a file that is
/// absent, one this user may not read, and one whose driver failed (EIO, ENODATA) mean different things.
enum PowerSysfs {
    struct Failure: Error, Sendable {
        var path: String
        /// The errno of a failed open/read, or nil when the content did not parse.
        var errno: Int32?
        /// strerror text, or what was wrong with the content.
        var reason: String

        var isAbsent: Bool { errno == ENOENT || errno == ENOTDIR }
        var isPermission: Bool { errno == EACCES || errno == EPERM }
        var message: String { "\(path): \(reason)" }
    }

    static func failure(_ path: String, _ code: Int32) -> Failure {
        Failure(path: path, errno: code, reason: String(cString: strerror(code)))
    }

    /// The whole file as UTF-8 (attribute files are a few bytes; /proc/stat a few KiB per hundred CPUs).
    static func readText(_ path: String) -> Result<String, Failure> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(failure(path, errno)) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(failure(path, errno))
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return .success(String(decoding: bytes, as: UTF8.self))
    }

    /// A decimal unsigned integer attribute ("123456\n").
    static func readUInt64(_ path: String) -> Result<UInt64, Failure> {
        readText(path).flatMap { text in
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard let value = UInt64(trimmed) else {
                return .failure(Failure(path: path, errno: nil, reason: "\(quoted(trimmed)) is not an unsigned integer"))
            }
            return .success(value)
        }
    }

    /// A decimal signed integer attribute.
    static func readInt64(_ path: String) -> Result<Int64, Failure> {
        readText(path).flatMap { text in
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard let value = Int64(trimmed) else {
                return .failure(Failure(path: path, errno: nil, reason: "\(quoted(trimmed)) is not an integer"))
            }
            return .success(value)
        }
    }

    static func quoted(_ text: String) -> String {
        text.isEmpty ? "empty content" : "content '\(text.prefix(40))'"
    }

    /// Names in a directory (no "." or ".."), sorted naturally ("hwmon2" before "hwmon10").
    static func list(_ path: String) -> Result<[String], Failure> {
        guard let dir = opendir(path) else { return .failure(failure(path, errno)) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: entry.pointee.d_name)) {
                    String(cString: $0)
                }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return .success(names.sorted { naturalOrder($0, $1) })
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The last component of a symlink's target (hwmonN/device → "0000:03:00.0"), or nil.
    static func linkTargetName(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        let target = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return target.split(separator: "/").last.map(String.init)
    }

    /// "a2" < "a10": digit runs compare as numbers.
    static func naturalOrder(_ a: String, _ b: String) -> Bool {
        a.compare(b, options: [.numeric]) == .orderedAscending
    }

    /// Zone directories named `prefix*` under `root`, under `root/controlType/`, and recursively under
    /// each zone (subzones), each once by real path, in natural order of first discovery.
    static func zoneDirectories(
        root: String, prefix: String, controlType: String
    ) -> Result<[(path: String, basename: String)], Failure> {
        let top: [String]
        switch list(root) {
        case .success(let names): top = names
        case .failure(let failure): return .failure(failure)
        }
        var seen: Set<String> = []
        var zones: [(path: String, basename: String)] = []
        var queue: [String] = top.filter { $0.hasPrefix(prefix) }.map { root + "/" + $0 }
        if top.contains(controlType), case .success(let nested) = list(root + "/" + controlType) {
            queue += nested.filter { $0.hasPrefix(prefix) }.map { root + "/" + controlType + "/" + $0 }
        }
        while !queue.isEmpty {
            let path = queue.removeFirst()
            guard isDirectory(path) else { continue }
            let real = realPath(path)
            guard seen.insert(real).inserted else { continue }
            let basename = String(path.split(separator: "/").last ?? "")
            zones.append((path, basename))
            if case .success(let children) = list(path) {
                queue += children.filter { $0.hasPrefix(prefix) }.map { path + "/" + $0 }
            }
        }
        return .success(zones.sorted { naturalOrder($0.basename, $1.basename) })
    }
}
