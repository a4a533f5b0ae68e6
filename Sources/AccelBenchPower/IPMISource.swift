import AccelBenchCore
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Node input power from the BMC through `ipmitool dcmi power reading` (DCMI Get Power Reading), on the
/// local interface (/dev/ipmi0) or over the network (`-I lanplus -H HOST -U USER -E`).
///
/// One channel, "ipmi:node": the instantaneous reading in watts (`.watts`), scope `.node`, quality
/// `.bmc`. The BMC averages its sensor over its own sampling period (ipmitool prints it); the channel's
/// `updateIntervalSeconds` and detail carry that period. Minimum, maximum and average over the period and
/// the BMC's timestamp are recorded through `telemetry`.
///
/// The password is never on the command line: configure `-E` and put it in IPMI_PASSWORD of the
/// `environment` handed to `detect`, which is passed to ipmitool and nowhere else. Messages and the
/// channel detail never contain the password, the user name or keys.
public final class IPMISource: PowerSource, @unchecked Sendable {
    // Sendable: everything is immutable after `init` except `pendingTelemetry`, which is only touched
    // under `lock`.

    public let method: PowerMethod = .ipmi
    public let channels: [PowerChannel]
    /// BMCs update their reading about once a second at best, and a LAN round trip takes a good part of it.
    public let minimumSampleIntervalSeconds: Double = 1
    /// The ipmitool executable that is run.
    public let commandPath: String
    /// The arguments before `dcmi power reading`.
    public let arguments: [String]
    public let timeoutSeconds: Double
    /// What detection read.
    public let initialReading: DCMIPowerReading

    private let environment: [String: String]
    private let lock = NSLock()
    private var pendingTelemetry: PowerTelemetry?

    public static let channelID = "ipmi:node"

    private init(
        commandPath: String, arguments: [String], environment: [String: String], timeoutSeconds: Double,
        initialReading: DCMIPowerReading
    ) {
        self.commandPath = commandPath
        self.arguments = arguments
        self.environment = environment
        self.timeoutSeconds = timeoutSeconds
        self.initialReading = initialReading
        let via = Self.bmcHost(arguments).map { "BMC \($0) over the network" } ?? "the local BMC (/dev/ipmi0)"
        let averaging = initialReading.samplingPeriodSeconds.map {
            "the BMC averages over a sampling period of \(Self.format($0)) s, so changes shorter than that are smoothed"
        } ?? "the BMC reports no sampling period (its averaging is unknown)"
        channels = [
            PowerChannel(
                id: Self.channelID, method: .ipmi, scope: .node, kind: .sampledWatts, quality: .bmc,
                resolution: 1, updateIntervalSeconds: initialReading.samplingPeriodSeconds,
                detail: "node input power from \(via), DCMI Get Power Reading via ipmitool dcmi power reading: "
                    + "instantaneous reading; \(averaging)"),
        ]
    }

    /// Finds ipmitool and reads the BMC once.
    ///
    /// - Parameters:
    ///   - commandPath: "ipmitool" (looked up on the PATH of `environment`) or a path to it.
    ///   - arguments: put before `dcmi power reading`, e.g. `["-I", "lanplus", "-H", "bmc1", "-U", "admin", "-E"]`.
    ///     `-P` is refused: the password goes in IPMI_PASSWORD with `-E` (or in a file with `-f`).
    ///   - environment: the environment ipmitool runs with (PATH, IPMI_PASSWORD); the caller passes the
    ///     process environment or a chosen one.
    ///   - timeoutSeconds: ipmitool is killed after this long (`.timeout`).
    /// - Returns: nil when ipmitool is not installed (a bare command name not on PATH, no `-H`) or when the
    ///   local interface has no BMC device.
    /// - Throws: `PowerError`: `.invalidConfiguration` (bad arguments, missing IPMI_PASSWORD, an explicit
    ///   path that does not exist), `.permissionDenied` (/dev/ipmi0 not accessible), `.unauthorized`,
    ///   `.timeout`, `.unavailable` (no DCMI support, power measurement deactivated), `.malformed`.
    public static func detect(
        commandPath: String = "ipmitool", arguments: [String] = [], environment: [String: String],
        timeoutSeconds: Double = 10
    ) throws -> IPMISource? {
        guard timeoutSeconds > 0, timeoutSeconds.isFinite else {
            throw PowerError(.invalidConfiguration, source: "ipmi", "the ipmitool timeout must be > 0 seconds, got \(timeoutSeconds)")
        }
        try validate(arguments: arguments, environment: environment)
        let remote = bmcHost(arguments) != nil
        guard let executable = resolve(commandPath, environment: environment) else {
            if commandPath.contains("/") {
                throw PowerError(.invalidConfiguration, source: "ipmi", "no executable ipmitool at \(commandPath): fix the configured path")
            }
            if remote {
                throw PowerError(
                    .unavailable, source: "ipmi",
                    "\(commandPath) is not on PATH but a BMC (-H) is configured: install ipmitool (apt install ipmitool) or configure its path")
            }
            return nil
        }
        let probe = IPMICommand(executable: executable, arguments: arguments, environment: environment, timeoutSeconds: timeoutSeconds)
        let reading: DCMIPowerReading
        do {
            reading = try probe.readPower()
        } catch is IPMICommand.NoLocalBMC {
            return nil
        }
        guard reading.active else { throw deactivated(probe) }
        return IPMISource(
            commandPath: executable, arguments: arguments, environment: environment, timeoutSeconds: timeoutSeconds,
            initialReading: reading)
    }

    /// Runs ipmitool once. Throws `PowerError` when the BMC could not be read (timeout, authentication,
    /// unparsable output, measurement deactivated); a reading of 0 W, which BMCs report when they have
    /// no valid measurement, is a `.fault`.
    public func read(clock: any PowerClock) throws -> [PowerReading] {
        let command = IPMICommand(executable: commandPath, arguments: arguments, environment: environment, timeoutSeconds: timeoutSeconds)
        let reading: DCMIPowerReading
        do {
            reading = try command.readPower()
        } catch is IPMICommand.NoLocalBMC {
            throw PowerError(.unavailable, source: "ipmi", "\(command.display): the local BMC device /dev/ipmi0 disappeared")
        }
        let time = clock.now()
        guard reading.active else { throw Self.deactivated(command) }
        lock.lock()
        pendingTelemetry = PowerTelemetry(channel: Self.channelID, time: time, values: reading.telemetryValues)
        lock.unlock()
        guard reading.instantaneousWatts > 0 else {
            return [PowerReading(
                channel: Self.channelID, time: time,
                value: .fault("\(command.display): the BMC reported 0 W, which BMCs do when they have no valid reading"))]
        }
        return [PowerReading(channel: Self.channelID, time: time, value: .watts(reading.instantaneousWatts))]
    }

    /// Minimum, maximum and average over the BMC's sampling period and its timestamp ("minimum_w",
    /// "maximum_w", "average_w", "sampling_period_s", "bmc_timestamp"), from the output the last `read`
    /// parsed (returned once); with no such output, ipmitool is run for it (nothing on failure).
    public func telemetry(clock: any PowerClock) -> [PowerTelemetry] {
        lock.lock()
        let pending = pendingTelemetry
        pendingTelemetry = nil
        lock.unlock()
        if let pending { return [pending] }
        let command = IPMICommand(executable: commandPath, arguments: arguments, environment: environment, timeoutSeconds: timeoutSeconds)
        guard let reading = try? command.readPower(), reading.active else { return [] }
        return [PowerTelemetry(channel: Self.channelID, time: clock.now(), values: reading.telemetryValues)]
    }

    // MARK: Configuration

    /// Options whose value is a credential: masked wherever a command line is shown.
    static let secretOptions: Set<String> = ["-P", "-U", "-k", "-y"]

    private static func validate(arguments: [String], environment: [String: String]) throws {
        if arguments.contains("-P") {
            throw PowerError(
                .invalidConfiguration, source: "ipmi",
                "ipmitool -P puts the password on the command line (visible in ps and logs): "
                    + "set IPMI_PASSWORD in the environment and pass -E instead")
        }
        for (index, argument) in arguments.enumerated() where ["-H", "-U", "-I", "-f", "-k", "-y", "-p", "-L", "-C"].contains(argument) {
            if index + 1 >= arguments.count || arguments[index + 1].hasPrefix("-") {
                throw PowerError(.invalidConfiguration, source: "ipmi", "ipmitool option \(argument) needs a value")
            }
        }
        if arguments.contains("-E"), (environment["IPMI_PASSWORD"] ?? environment["IPMITOOL_PASSWORD"] ?? "").isEmpty {
            throw PowerError(
                .invalidConfiguration, source: "ipmi",
                "ipmitool -E reads the BMC password from IPMI_PASSWORD, which is not set: export IPMI_PASSWORD")
        }
        if bmcHost(arguments) != nil, !arguments.contains("-E"), !arguments.contains("-f") {
            throw PowerError(
                .invalidConfiguration, source: "ipmi",
                "a BMC (-H) is configured without a password source: pass -E and set IPMI_PASSWORD "
                    + "(or -f with a password file); ipmitool would otherwise prompt on the terminal")
        }
    }

    static func bmcHost(_ arguments: [String]) -> String? {
        guard let index = arguments.firstIndex(of: "-H"), index + 1 < arguments.count else { return nil }
        return arguments[index + 1]
    }

    private static func resolve(_ command: String, environment: [String: String]) -> String? {
        let fileManager = FileManager.default
        if command.contains("/") {
            return fileManager.isExecutableFile(atPath: command) ? command : nil
        }
        for directory in (environment["PATH"] ?? "").split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(command)"
            var isDirectory: ObjCBool = false
            if fileManager.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
                fileManager.isExecutableFile(atPath: candidate)
            {
                return candidate
            }
        }
        return nil
    }

    private static func deactivated(_ command: IPMICommand) -> PowerError {
        PowerError(
            .unavailable, source: "ipmi",
            "\(command.display): the BMC reports \"Power reading state is: deactivated\", so its readings are not "
                + "valid: enable power monitoring in the BMC's settings (vendor-specific), or use the redfish source or an external meter")
    }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}

/// What `ipmitool dcmi power reading` printed.
public struct DCMIPowerReading: Sendable, Equatable {
    public var instantaneousWatts: Double
    public var minimumWatts: Double?
    public var maximumWatts: Double?
    public var averageWatts: Double?
    /// The BMC's clock, as printed.
    public var timestamp: String?
    /// The period the BMC's statistics cover; nil when absent or 0 (unknown).
    public var samplingPeriodSeconds: Double?
    /// "Power reading state is: activated"; true when the line is absent (older ipmitool).
    public var active: Bool

    public init(
        instantaneousWatts: Double, minimumWatts: Double? = nil, maximumWatts: Double? = nil, averageWatts: Double? = nil,
        timestamp: String? = nil, samplingPeriodSeconds: Double? = nil, active: Bool = true
    ) {
        self.instantaneousWatts = instantaneousWatts
        self.minimumWatts = minimumWatts
        self.maximumWatts = maximumWatts
        self.averageWatts = averageWatts
        self.timestamp = timestamp
        self.samplingPeriodSeconds = samplingPeriodSeconds
        self.active = active
    }

    /// Parses ipmitool's output; throws `.malformed` when there is no "Instantaneous power reading" line.
    public static func parse(_ output: String, command: String = "ipmitool dcmi power reading") throws -> DCMIPowerReading {
        var fields: [String: String] = [:]
        for line in output.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if fields[key] == nil { fields[key] = value }
        }
        func watts(_ key: String) -> Double? {
            guard let value = fields[key], let number = value.split(separator: " ").first else { return nil }
            return Double(number)
        }
        guard let instantaneous = watts("instantaneous power reading") else {
            let excerpt = output.trimmingCharacters(in: .whitespacesAndNewlines).prefix(200)
            throw PowerError(
                .malformed, source: "ipmi",
                "\(command) printed no \"Instantaneous power reading: N Watts\" line (got: \"\(excerpt)\"); "
                    + "check that the BMC supports DCMI power readings (ipmitool dcmi discover)")
        }
        guard instantaneous.isFinite, instantaneous >= 0 else {
            throw PowerError(.malformed, source: "ipmi", "\(command) printed an impossible instantaneous reading \(instantaneous) W")
        }
        let state = fields["power reading state is"]?.lowercased()
        return DCMIPowerReading(
            instantaneousWatts: instantaneous,
            minimumWatts: watts("minimum during sampling period"),
            maximumWatts: watts("maximum during sampling period"),
            averageWatts: watts("average power reading over sample period"),
            timestamp: fields["ipmi timestamp"].flatMap { $0.isEmpty ? nil : $0 },
            samplingPeriodSeconds: fields["sampling period"].flatMap(parsePeriod),
            active: state.map { !$0.hasPrefix("deactivated") } ?? true)
    }

    /// "00000001 Seconds." → 1; also "1000 ms", "5 sec", "1_min" (ipmitool's named periods). 0 → nil.
    static func parsePeriod(_ text: String) -> Double? {
        let words = text.replacingOccurrences(of: "_", with: " ").split(separator: " ")
        guard let first = words.first, let number = Double(first), number > 0 else { return nil }
        let unit = words.dropFirst().first?.lowercased().trimmingCharacters(in: .punctuationCharacters) ?? "seconds"
        switch unit {
        case "ms", "milliseconds", "millisecond": return number / 1000
        case "min", "mins", "minute", "minutes": return number * 60
        case "hr", "hrs", "hour", "hours": return number * 3600
        case "day", "days": return number * 86400
        default: return number
        }
    }

    var telemetryValues: [String: String] {
        var values: [String: String] = [:]
        if let minimumWatts { values["minimum_w"] = IPMISource.format(minimumWatts) }
        if let maximumWatts { values["maximum_w"] = IPMISource.format(maximumWatts) }
        if let averageWatts { values["average_w"] = IPMISource.format(averageWatts) }
        if let samplingPeriodSeconds { values["sampling_period_s"] = IPMISource.format(samplingPeriodSeconds) }
        if let timestamp { values["bmc_timestamp"] = timestamp }
        return values
    }
}

/// One `ipmitool ... dcmi power reading` run with a deadline.
private struct IPMICommand {
    /// The local interface has no BMC device: detection returns nil.
    struct NoLocalBMC: Error {}

    var executable: String
    var arguments: [String]
    var environment: [String: String]
    var timeoutSeconds: Double

    var fullArguments: [String] { arguments + ["dcmi", "power", "reading"] }

    /// The command line with credentials masked, for messages.
    var display: String {
        var shown = [executable]
        var maskNext = false
        for argument in fullArguments {
            shown.append(maskNext ? "***" : argument)
            maskNext = IPMISource.secretOptions.contains(argument)
        }
        return shown.joined(separator: " ")
    }

    func readPower() throws -> DCMIPowerReading {
        let result = try run()
        let output = result.stdout + "\n" + result.stderr
        guard result.status == 0 else { throw try failure(status: result.status, output: output) }
        return try DCMIPowerReading.parse(result.stdout, command: display)
    }

    private func failure(status: Int32, output: String) throws -> PowerError {
        let lower = output.lowercased()
        let excerpt = output.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.suffix(3).joined(separator: " / ")
        let said = "\(display) exited with status \(status) (\"\(excerpt.prefix(300))\")"
        if lower.contains("could not open device") {
            if lower.contains("permission denied") {
                return PowerError(
                    .permissionDenied, source: "ipmi",
                    "\(said): run as root or give this user read/write access to /dev/ipmi0 (e.g. a udev rule and group)")
            }
            if IPMISource.bmcHost(arguments) == nil { throw NoLocalBMC() }
        }
        let authMarkers = [
            "invalid user name", "unauthorized name", "hmac is invalid", "invalid password", "password invalid",
            "authentication", "insufficient privilege", "activate session error", "unauthorized",
        ]
        if authMarkers.contains(where: lower.contains) {
            return PowerError(
                .unauthorized, source: "ipmi",
                "\(said): the BMC rejected the credentials: check the user (-U), the password in IPMI_PASSWORD and the privilege level (-L)")
        }
        if lower.contains("unable to establish") || lower.contains("no response") || lower.contains("timeout") {
            return PowerError(
                .timeout, source: "ipmi",
                "\(said): the BMC did not answer: check the host (-H), the network path to it and that IPMI over LAN is enabled on the BMC")
        }
        if lower.contains("dcmi request failed") || lower.contains("invalid command") || lower.contains("not supported") {
            return PowerError(
                .unavailable, source: "ipmi",
                "\(said): this BMC does not support DCMI power readings: use the redfish source or an external meter")
        }
        return PowerError(.unavailable, source: "ipmi", "\(said): run the command by hand to see why")
    }

    private func run() throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = fullArguments
        process.environment = environment
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        do {
            try process.run()
        } catch {
            throw PowerError(.unavailable, source: "ipmi", "cannot run \(display): \(error.localizedDescription)")
        }
        let collected = IPMIOutput()
        let readers = DispatchGroup()
        for (pipe, isStdout) in [(stdout, true), (stderr, false)] {
            let handle = pipe.fileHandleForReading
            DispatchQueue.global().async(group: readers) {
                let data = handle.readDataToEndOfFile()
                collected.store(data, stdout: isStdout)
            }
        }
        if exited.wait(timeout: .now() + timeoutSeconds) == .timedOut {
            // SIGTERM, then SIGKILL: a child spawned from a dispatch worker thread inherits its blocked
            // signal mask, so SIGTERM may stay pending forever.
            process.terminate()
            if exited.wait(timeout: .now() + 0.2) == .timedOut, process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                _ = exited.wait(timeout: .now() + 1)
            }
            throw PowerError(
                .timeout, source: "ipmi",
                "\(display) did not finish within \(IPMISource.format(timeoutSeconds)) s and was killed: "
                    + "check that the BMC answers (network, -H) or raise the timeout")
        }
        // A child that left a grandchild holding the pipes open must not hang us: read what is there.
        _ = readers.wait(timeout: .now() + 2)
        let (out, err) = collected.text()
        return (process.terminationStatus, out, err)
    }
}

/// Output collected by the pipe readers (lock-protected; the readers and `run` touch it).
private final class IPMIOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var stdout = Data()
    private var stderr = Data()

    func store(_ data: Data, stdout isStdout: Bool) {
        lock.lock()
        if isStdout { stdout = data } else { stderr = data }
        lock.unlock()
    }

    func text() -> (String, String) {
        lock.lock()
        defer { lock.unlock() }
        return (String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}
