import Foundation

/// Which power sources a run uses and where they live. The CLI fills it from `--power` and its
/// companions; tests point the roots at fake trees.
public struct PowerOptions: Sendable {
    public enum Selection: Sendable, Equatable {
        /// Every in-band source found here (rapl, hwmon, nvml) plus the BMC and meter sources that are
        /// configured; never an estimate.
        case auto
        /// No power measurement.
        case none
        /// Exactly these methods; each must be available (an explicit request that cannot be met is an
        /// error, not a silent omission).
        case methods([PowerMethod])
    }

    public var selection: Selection = .auto
    public var powercapRoot = "/sys/class/powercap"
    public var hwmonRoot = "/sys/class/hwmon"
    public var nvmlLibrary = "libnvidia-ml.so.1"
    /// ipmitool's command and arguments (e.g. `-I lanplus -H bmc -U admin -E`); nil: IPMI not
    /// configured (auto does not run ipmitool unless asked: it needs root or a BMC address).
    public var ipmiCommand = "ipmitool"
    public var ipmiArguments: [String]?
    public var redfish: RedfishConfiguration?
    /// `tcp://HOST:PORT` or `cmd:PROGRAM ARGS`.
    public var meter: String?
    /// The TDP an estimate scales, watts, and where it comes from.
    public var estimateTDPWatts: Double?
    public var estimateBasis = "--tdp"
    /// Share of TDP drawn at idle, for the estimate.
    public var estimateIdleFraction = 0.3
    public var procRoot = "/proc"
    public var environment: [String: String] = ProcessInfo.processInfo.environment

    public init() {}

    /// Parses `--power`: auto, none, or a comma-separated list of methods.
    public static func selection(_ text: String) throws -> Selection {
        switch text {
        case "auto": return .auto
        case "none", "off": return .none
        default:
            var methods: [PowerMethod] = []
            for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                guard let method = PowerMethod(rawValue: item) else {
                    throw PowerError(.invalidConfiguration, source: "power",
                                     "unknown power source '\(item)': use auto, none, or a list of \(PowerMethod.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                if !methods.contains(method) { methods.append(method) }
            }
            guard !methods.isEmpty else {
                throw PowerError(.invalidConfiguration, source: "power", "--power needs auto, none, or a list of sources")
            }
            return .methods(methods)
        }
    }
}

/// What detection found: the usable sources, the problems of sources that exist but cannot be used
/// (permission, BMC errors), and the requested methods that are simply absent here.
public struct DetectedPower: Sendable {
    public var sources: [any PowerSource]
    public var problems: [PowerError]
    /// Methods tried and not present on this machine, with why.
    public var absent: [(method: PowerMethod, why: String)]

    /// One line for a run with no source at all: what was looked for and how to get a figure anyway.
    public var noSourceLine: String {
        let looked = absent.map { "\($0.method.rawValue): \($0.why)" } + problems.map(\.description)
        return "power: no power source here (\(looked.joined(separator: "; "))); no W figures are reported. "
            + "--power estimate --tdp WATTS gives a labelled estimate."
    }
}

public enum PowerSources {
    /// Detects the sources `options` select. Never throws for an absent source under `.auto`; under
    /// `.methods` an absent or unusable requested source is a problem the caller must refuse.
    public static func detect(_ options: PowerOptions) -> DetectedPower {
        var found = DetectedPower(sources: [], problems: [], absent: [])
        let wanted: [PowerMethod]
        let explicit: Bool
        switch options.selection {
        case .none: return found
        case .auto:
            wanted = [.rapl, .hwmon, .nvml] + (options.ipmiArguments != nil ? [.ipmi] : [])
                + (options.redfish != nil ? [.redfish] : []) + (options.meter != nil ? [.meter] : [])
            explicit = false
        case let .methods(list):
            wanted = list
            explicit = true
        }
        for method in wanted {
            do {
                let source: (any PowerSource)?
                var why = ""
                switch method {
                case .rapl:
                    source = try RAPLSource.detect(root: options.powercapRoot)
                    why = "no RAPL zones under \(options.powercapRoot)"
                case .hwmon:
                    source = try HwmonSource.detect(root: options.hwmonRoot)
                    why = "no power or energy sensors under \(options.hwmonRoot)"
                case .nvml:
                    source = try NVMLSource.detect(libraryPath: options.nvmlLibrary)
                    why = "\(options.nvmlLibrary) not found (no NVIDIA driver)"
                case .ipmi:
                    source = try IPMISource.detect(
                        commandPath: options.ipmiCommand, arguments: options.ipmiArguments ?? [], environment: options.environment)
                    why = "\(options.ipmiCommand) not installed or no local BMC (give --ipmi '-I lanplus -H HOST -U USER -E')"
                case .redfish:
                    source = try RedfishSource.detect(configuration: options.redfish)
                    why = "no Redfish BMC configured (--redfish URL or \(RedfishConfiguration.urlVariable))"
                case .meter:
                    source = try MeterSource.detect(spec: options.meter, environment: options.environment)
                    why = "no meter configured (--meter tcp://HOST:PORT or cmd:PROGRAM)"
                case .estimate:
                    guard let tdp = options.estimateTDPWatts else {
                        throw PowerError(.invalidConfiguration, source: "estimate",
                                         "--power estimate needs --tdp WATTS (the TDP the estimate scales by utilization)")
                    }
                    source = try EstimateSource.cpu(
                        tdpWatts: tdp, idleFraction: options.estimateIdleFraction, basis: options.estimateBasis, procRoot: options.procRoot)
                case .plugin:
                    // A plugin device's telemetry is read by its own cases (in their worker process).
                    source = nil
                    why = "plugin devices report their own power in their cases (backend plugin:NAME)"
                }
                if let source {
                    found.sources.append(source)
                } else if explicit {
                    found.problems.append(PowerError(.unavailable, source: method.rawValue, "requested, but \(why)"))
                } else {
                    found.absent.append((method, why))
                }
            } catch let error as PowerError {
                found.problems.append(error)
            } catch {
                found.problems.append(PowerError(.unavailable, source: method.rawValue, "\(error)"))
            }
        }
        return found
    }
}
