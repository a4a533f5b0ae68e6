import AccelBenchCore
import Foundation

/// Power and energy sensors of Linux hwmon drivers: `/sys/class/hwmon/hwmon*/` with a `name` file.
/// `powerN_input` (or `powerN_average` when there is no input) in microwatts → sampled watts;
/// `energyN_input` in microjoules → a cumulative counter (no declared wrap: a 64-bit count).
/// Limits (`powerN_cap`, `_max`, `_crit`) are not readings and are ignored.
///
/// Scope: a GPU/NPU driver's sensors (amdgpu, radeon, nouveau, nvidia, i915, xe, habanalabs, qaic, or
/// any driver whose device is a PCI display controller or processing accelerator) are the accelerator
/// board; the AMD CPU energy drivers' (amd_energy, zenpower, zenergy) "Esocket*" counters a CPU package
/// and "Ecore*" counters the cores; anything else is `other`, its detail naming the driver and label.
public final class HwmonSource: PowerSource {
    struct Sensor: Sendable {
        var channel: PowerChannel
        var path: String
        var kind: PowerReadingKind
    }

    /// hwmon `name`s of accelerator drivers whose power sensors describe the whole board.
    static let acceleratorDrivers: Set<String> = [
        "amdgpu", "radeon", "nouveau", "nvidia", "i915", "xe", "habanalabs", "qaic",
    ]
    /// hwmon `name`s of AMD CPU energy drivers labelling counters "Esocket<N>" / "Ecore<NNN>".
    static let cpuEnergyDrivers: Set<String> = ["amd_energy", "zenpower", "zenergy"]

    public let method: PowerMethod = .hwmon
    public let channels: [PowerChannel]
    /// GPU drivers answer a power read with a firmware query (amdgpu's SMU), and their sensors average
    /// over milliseconds to a second: polling faster than this only costs.
    public let minimumSampleIntervalSeconds: Double = 0.02
    let sensors: [Sensor]

    init(sensors: [Sensor]) {
        self.sensors = sensors
        self.channels = sensors.map(\.channel)
    }

    /// Channel ids: "hwmon:DRIVER/powerN" and "hwmon:DRIVER/energyN" (e.g. "hwmon:amdgpu/power1",
    /// "hwmon:amd_energy/energy129"); when several hwmon devices share a driver name, DRIVER becomes
    /// "NAME@DEVICE" with the device's sysfs name ("amdgpu@0000:03:00.0"; "@hwmonN" without a device
    /// link). Returns nil when `root` is absent or no device has a power or energy sensor; throws
    /// `.permissionDenied` (with the fix) when the tree or a sensor file cannot be read by this user.
    /// Sensors present but unreadable for other reasons (EIO, a suspended GPU's EPERM, garbage) are kept:
    /// their readings are `.fault`s.
    public static func detect(root: String = "/sys/class/hwmon") throws -> HwmonSource? {
        let entries: [String]
        switch PowerSysfs.list(root) {
        case .success(let names): entries = names.filter { $0.hasPrefix("hwmon") }
        case .failure(let failure):
            if failure.isAbsent { return nil }
            if failure.errno == EACCES { throw permissionError(failure) }
            throw PowerError(.malformed, source: "hwmon", "cannot list \(failure.path): \(failure.reason)")
        }

        struct Device {
            var directory: String
            var hwmon: String
            var name: String
            var deviceName: String?
            /// PCI class code of the parent device ("0x030000"), when it is a PCI device.
            var pciClass: String?
        }
        var devices: [Device] = []
        var seen: Set<String> = []
        for entry in entries {
            let directory = root + "/" + entry
            guard PowerSysfs.isDirectory(directory), seen.insert(PowerSysfs.realPath(directory)).inserted else {
                continue
            }
            switch PowerSysfs.readText(directory + "/name") {
            case .success(let text):
                let name = text.trimmingCharacters(in: .whitespacesAndNewlines)
                guard !name.isEmpty else { continue }
                var pciClass: String?
                if case .success(let code) = PowerSysfs.readText(directory + "/device/class") {
                    pciClass = code.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
                }
                devices.append(Device(
                    directory: directory, hwmon: entry, name: name,
                    deviceName: PowerSysfs.linkTargetName(directory + "/device"), pciClass: pciClass))
            case .failure(let failure):
                if failure.errno == EACCES { throw permissionError(failure) }
                continue  // No name: not a device this source can describe.
            }
        }

        var nameCounts: [String: Int] = [:]
        for device in devices { nameCounts[device.name, default: 0] += 1 }

        var sensors: [Sensor] = []
        for device in devices {
            guard case .success(let files) = PowerSysfs.list(device.directory) else { continue }
            let fileSet = Set(files)
            let driver = nameCounts[device.name, default: 0] > 1
                ? "\(device.name)@\(device.deviceName ?? device.hwmon)" : device.name
            let location = device.deviceName.map { "device \($0), \(device.directory)" } ?? device.directory

            var found: [(stem: String, file: String, kind: PowerReadingKind)] = []
            for index in indices(of: "power", in: files) {
                let stem = "power\(index)"
                if fileSet.contains(stem + "_input") {
                    found.append((stem, stem + "_input", .sampledWatts))
                } else if fileSet.contains(stem + "_average") {
                    found.append((stem, stem + "_average", .sampledWatts))
                }
            }
            for index in indices(of: "energy", in: files) where fileSet.contains("energy\(index)_input") {
                found.append(("energy\(index)", "energy\(index)_input", .energyCounter))
            }

            for (stem, file, kind) in found {
                let path = device.directory + "/" + file
                if case .failure(let failure) = PowerSysfs.readText(path), failure.errno == EACCES {
                    throw permissionError(failure)
                }
                var label: String?
                if fileSet.contains(stem + "_label"), case .success(let text) = PowerSysfs.readText(
                    device.directory + "/" + stem + "_label")
                {
                    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
                    label = trimmed.isEmpty ? nil : trimmed
                }
                var interval: Double?
                if kind == .sampledWatts, fileSet.contains(stem + "_average_interval"),
                    case .success(let milliseconds) = PowerSysfs.readUInt64(
                        device.directory + "/" + stem + "_average_interval"),
                    milliseconds > 0
                {
                    interval = Double(milliseconds) / 1000
                }
                let scope = scope(driver: device.name, label: label, pciClass: device.pciClass)
                let labelText = label.map { " '\($0)'" } ?? ""
                let units = kind == .sampledWatts
                    ? "microwatts, sampled" + (interval.map { ", averaged over \($0) s by the driver" } ?? "")
                    : "cumulative microjoules"
                let channel = PowerChannel(
                    id: "hwmon:\(driver)/\(stem)", method: .hwmon, scope: scope, kind: kind,
                    quality: .inBandCounter, resolution: 1e-6, updateIntervalSeconds: interval,
                    detail: "hwmon driver \(device.name)\(labelText) \(file) (\(location)); \(units)")
                sensors.append(Sensor(channel: channel, path: path, kind: kind))
            }
        }
        return sensors.isEmpty ? nil : HwmonSource(sensors: sensors)
    }

    public func read(clock: any PowerClock) throws -> [PowerReading] {
        sensors.map { sensor in
            switch sensor.kind {
            case .energyCounter:
                let result = PowerSysfs.readUInt64(sensor.path)
                let time = clock.now()
                switch result {
                case .success(let raw):
                    return PowerReading(
                        channel: sensor.channel.id, time: time,
                        value: .counter(raw: raw, joulesPerUnit: 1e-6, wrapsAt: nil))
                case .failure(let failure):
                    return PowerReading(channel: sensor.channel.id, time: time, value: .fault(Self.faultMessage(failure)))
                }
            case .sampledWatts:
                let result = PowerSysfs.readInt64(sensor.path)
                let time = clock.now()
                switch result {
                case .success(let microwatts) where microwatts >= 0:
                    return PowerReading(channel: sensor.channel.id, time: time, value: .watts(Double(microwatts) * 1e-6))
                case .success(let microwatts):
                    return PowerReading(
                        channel: sensor.channel.id, time: time,
                        value: .fault("\(sensor.path): negative power \(microwatts) µW"))
                case .failure(let failure):
                    return PowerReading(channel: sensor.channel.id, time: time, value: .fault(Self.faultMessage(failure)))
                }
            }
        }
    }

    /// Sorted N of files named "<prefix>N_*".
    static func indices(of prefix: String, in files: [String]) -> [Int] {
        var result: Set<Int> = []
        for file in files where file.hasPrefix(prefix) {
            let rest = file.dropFirst(prefix.count)
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, rest.dropFirst(digits.count).hasPrefix("_"), let index = Int(digits) else { continue }
            result.insert(index)
        }
        return result.sorted()
    }

    /// The name table first; then the PCI class of the device (0x03: display controller, 0x12:
    /// processing accelerator); then the AMD CPU energy labels.
    static func scope(driver: String, label: String?, pciClass: String? = nil) -> PowerScope {
        if acceleratorDrivers.contains(driver) { return .acceleratorBoard }
        if let pciClass, pciClass.hasPrefix("0x03") || pciClass.hasPrefix("0x12") { return .acceleratorBoard }
        if cpuEnergyDrivers.contains(driver), let label {
            if label.hasPrefix("Esocket") { return .cpuPackage }
            if label.hasPrefix("Ecore") { return .cpuCores }
        }
        return .other
    }

    static func faultMessage(_ failure: PowerSysfs.Failure) -> String {
        switch failure.errno {
        case EACCES: permissionError(failure).message
        case EPERM:
            "\(failure.message) (amdgpu answers this while the GPU is suspended or resetting; the next reading may succeed)"
        default: failure.message
        }
    }

    static func permissionError(_ failure: PowerSysfs.Failure) -> PowerError {
        PowerError(
            .permissionDenied, source: "hwmon",
            "cannot read \(failure.path): \(failure.reason). Run as root, or grant read access until the next "
                + "boot with `sudo chmod o+r \(failure.path)`, or for good with a udev rule such as "
                + "`ACTION==\"add\", SUBSYSTEM==\"hwmon\", RUN+=\"/bin/sh -c 'chmod o+r /sys%p/power*_* /sys%p/energy*_input'\"` "
                + "in /etc/udev/rules.d/60-accelbench-hwmon.rules")
    }
}
