import AccelBenchCore
import AccelBenchPower
import ArgumentParser
import Foundation

/// The power-source flags shared by `run` and `power`.
struct PowerFlags: ParsableArguments {
    @Option(name: .customLong("power"), help: ArgumentHelp(
        "Power sources: auto (every in-band source found here: rapl, hwmon, nvml; plus ipmi, redfish and meter when configured), none, or a list of rapl, hwmon, nvml, ipmi, redfish, meter, estimate (each must be available).",
        valueName: "sources"))
    var power: String = "auto"

    @Option(name: .customLong("tdp"), help: ArgumentHelp("TDP in watts that --power estimate scales by CPU utilization (the figure is labelled estimated).", valueName: "watts"))
    var tdp: Double?

    @Option(name: .customLong("ipmi"), help: ArgumentHelp(
        "Read node power with 'ipmitool dcmi power reading', with these ipmitool arguments (\"\" for the local BMC; '-I lanplus -H HOST -U USER -E' with the password in IPMI_PASSWORD).",
        valueName: "args"))
    var ipmi: String?

    @Option(name: .customLong("redfish"), help: ArgumentHelp(
        "Redfish BMC base URL (or ACCELBENCH_REDFISH_URL); user and password from ACCELBENCH_REDFISH_USER / ACCELBENCH_REDFISH_PASSWORD.",
        valueName: "url"))
    var redfish: String?

    @Option(name: .customLong("redfish-chassis"), help: ArgumentHelp("Redfish chassis id (default: the first of the Chassis collection).", valueName: "id"))
    var redfishChassis: String?

    @Option(name: .customLong("meter"), help: ArgumentHelp("External power meter: tcp://HOST:PORT or cmd:PROGRAM ARGS streaming the accelbench-meter line protocol.", valueName: "spec"))
    var meter: String?

    @Option(name: .customLong("power-interval"), help: ArgumentHelp("Seconds between power readings inside a timed region.", valueName: "seconds"))
    var powerInterval: Double = 0.1

    func validate() throws {
        if let tdp, !(tdp > 0 && tdp.isFinite) { throw ValidationError("--tdp must be a positive number of watts, got \(tdp)") }
        if !(powerInterval > 0 && powerInterval <= 10) { throw ValidationError("--power-interval must be in (0, 10] seconds, got \(powerInterval)") }
        do { _ = try PowerOptions.selection(power) } catch let error as PowerError { throw ValidationError(error.message) }
    }

    /// The options these flags describe (environment for ipmitool and Redfish credentials).
    func options(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> PowerOptions {
        var o = PowerOptions()
        o.environment = environment
        do {
            o.selection = try PowerOptions.selection(power)
            o.ipmiArguments = ipmi.map { $0.split(separator: " ").map(String.init) }
            var env = environment
            if let redfish { env[RedfishConfiguration.urlVariable] = redfish }
            o.redfish = try RedfishConfiguration.fromEnvironment(env, chassisID: redfishChassis)
        } catch let error as PowerError {
            throw AccelBenchError(.invalidArgument, error.description)
        }
        o.meter = meter
        o.estimateTDPWatts = tdp
        o.estimateBasis = "--tdp"
        return o
    }

    /// Detects the sources; an explicit request that cannot be met is bad input (exit 2).
    func detect() throws -> DetectedPower {
        let options = try options()
        let found = PowerSources.detect(options)
        if case .methods = options.selection, !found.problems.isEmpty {
            throw AccelBenchError(.invalidArgument, found.problems.map(\.description).joined(separator: "; "))
        }
        return found
    }
}

/// What a run knew about power: the channels it read and why others were not, for the result file.
public struct PowerSummary: Codable, Sendable {
    public var channels: [PowerChannel]
    /// Sources present but unusable (permission, BMC errors) and absent ones, one line each.
    public var notes: [String]
    /// Idle power per channel measured before the suite, watts, and for how long.
    public var idleWatts: [String: Double]
    public var idleSeconds: Double
    public var sampleIntervalSeconds: Double

    init(_ found: DetectedPower, idleWatts: [String: Double], idleSeconds: Double, sampleIntervalSeconds: Double) {
        channels = found.sources.flatMap(\.channels)
        notes = found.problems.map(\.description) + found.absent.map { "\($0.method.rawValue): \($0.why)" }
        self.idleWatts = idleWatts
        self.idleSeconds = idleSeconds
        self.sampleIntervalSeconds = sampleIntervalSeconds
    }

    /// Lines for the text report.
    var lines: [String] {
        if channels.isEmpty && notes.isEmpty {
            return ["Power: not measured (--power none)."]
        }
        if channels.isEmpty {
            return ["Power: no source (" + notes.joined(separator: "; ") + "): no W figures. --power estimate --tdp WATTS gives a labelled estimate."]
        }
        var out = ["Power (energy over each case's timed region, sampled every \(Format.number(sampleIntervalSeconds)) s):"]
        for c in channels {
            let idle = idleWatts[c.id].map { ", idle \(Format.number($0)) W over \(Format.number(idleSeconds)) s" } ?? ""
            out.append("  \(c.id): \(c.method.rawValue) \(c.scope.rawValue), \(c.quality)\(c.method == .estimate ? " (ESTIMATED, not comparable)" : "")\(idle); \(c.detail)")
        }
        out += notes.map { "  not used: \($0)" }
        return out
    }
}

struct PowerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "power",
        abstract: "List the power sources found here: name, scope, method, resolution, counter or samples, current reading.")

    @Option(help: "table or json.")
    var format: TopologyCommand.Format = .table

    @OptionGroup var flags: PowerFlags

    struct Row: Codable {
        var channel: String
        var method: String
        var scope: String
        var quality: String
        var kind: String
        var resolution: Double
        var updateIntervalSeconds: Double?
        var reading: String
        var detail: String
    }

    func run() throws {
        let found = try flags.detect()
        let clock = MonotonicPowerClock()
        var rows: [Row] = []
        for source in found.sources {
            var now: [String: String] = [:]
            do {
                for r in try source.read(clock: clock) {
                    switch r.value {
                    case let .counter(raw, unit, _): now[r.channel] = String(format: "%.6f J (counter)", Double(raw) * unit)
                    case let .watts(w): now[r.channel] = "\(Format.number(w)) W"
                    case let .fault(message): now[r.channel] = "fault: \(message)"
                    }
                }
            } catch {
                for c in source.channels { now[c.id] = "error: \(error)" }
            }
            for c in source.channels {
                rows.append(Row(
                    channel: c.id, method: c.method.rawValue, scope: c.scope.rawValue, quality: c.quality.description,
                    kind: c.kind.rawValue, resolution: c.resolution, updateIntervalSeconds: c.updateIntervalSeconds,
                    reading: now[c.id] ?? "-", detail: c.detail))
            }
        }
        let notes = found.problems.map(\.description) + found.absent.map { "\($0.method.rawValue): \($0.why)" }
        switch format {
        case .json:
            struct Document: Codable { var channels: [Row]; var notes: [String] }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(Document(channels: rows, notes: notes)), as: UTF8.self))
        case .table:
            if rows.isEmpty {
                print(found.noSourceLine)
                return
            }
            var table = TextTable(header: ["channel", "method", "scope", "quality", "reads", "resolution", "update", "now"])
            for r in rows {
                table.append([r.channel, r.method, r.scope, r.quality, r.kind, Format.number(r.resolution),
                              r.updateIntervalSeconds.map { "\(Format.number($0)) s" } ?? "-", r.reading])
            }
            print(table.render(), terminator: "")
            for r in rows { print("\(r.channel): \(r.detail)") }
            for n in notes { print("not used: \(n)") }
        }
    }
}
