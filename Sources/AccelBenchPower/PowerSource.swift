import AccelBenchCore
import Foundation

// The power-source abstraction: every way accelbench can learn how much power something drew (RAPL,
// hwmon, NVML, IPMI DCMI, Redfish, an external meter, or an estimate that says it is one) is a
// `PowerSource` with named `PowerChannel`s. A source only reads; `PowerWindow` (PowerWindow.swift)
// turns readings taken across a timed region into energy, with wrap handling, gaps and a quality
// level. One file per source: RAPLSource.swift, HwmonSource.swift, NVMLSource.swift, IPMISource.swift,
// RedfishSource.swift, MeterSource.swift, EstimateSource.swift.

/// How a figure was obtained; part of every efficiency figure (`method` in records and tables).
public enum PowerMethod: String, Sendable, Codable, CaseIterable {
    case rapl, hwmon, nvml, ipmi, redfish, meter, estimate
    /// A device plugin's own telemetry (AccelBenchPlugins' PluginPowerSource).
    case plugin
}

/// What a channel measures. Figures of different scopes are never summed into one number.
public enum PowerScope: String, Sendable, Codable, CaseIterable {
    /// A CPU package (socket), RAPL "package-N".
    case cpuPackage = "cpu_package"
    /// The cores of a package only (RAPL "core", PP0).
    case cpuCores = "cpu_cores"
    /// The uncore / integrated graphics of a package (RAPL "uncore", PP1).
    case cpuUncore = "cpu_uncore"
    /// DRAM attached to a package (RAPL "dram").
    case dram
    /// The whole SoC/platform as the CPU sees it (RAPL "psys").
    case platform
    /// An accelerator card as its driver reports it (NVML, hwmon of a GPU/NPU driver).
    case acceleratorBoard = "accelerator_board"
    /// Node input power as the BMC reports it (IPMI DCMI, Redfish PowerControl).
    case node
    /// A chassis or enclosure (Redfish Chassis Power of a multi-node chassis).
    case chassis
    /// At the wall socket, measured by an external meter.
    case nodeWall = "node_wall"
    /// Something else; the channel's `detail` says what.
    case other
}

/// How trustworthy a channel is, lowest first, in the spirit of the Green500/EEHPC power measurement
/// levels: an estimate is not a measurement; in-band counters (RAPL, hwmon, NVML) are modelled or
/// sensed by the chip itself; a BMC senses the node's supply; a calibrated external meter measures at
/// the wall with a declared accuracy class.
public enum PowerQuality: Int, Sendable, Codable, Comparable, CaseIterable, CustomStringConvertible {
    case estimate = 0
    case inBandCounter = 1
    case bmc = 2
    case calibratedMeter = 3

    public static func < (a: PowerQuality, b: PowerQuality) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        switch self {
        case .estimate: "estimate"
        case .inBandCounter: "in-band counter"
        case .bmc: "BMC"
        case .calibratedMeter: "calibrated meter"
        }
    }
}

/// Whether a channel is read as a cumulative energy counter (differences give energy exactly, however
/// coarse the polling) or as instantaneous power samples (energy is their integral over time, only as
/// good as the sampling interval and the sensor's own averaging).
public enum PowerReadingKind: String, Sendable, Codable {
    case energyCounter = "energy_counter"
    case sampledWatts = "sampled_watts"
}

/// One thing a source can read: e.g. RAPL package-0, hwmon power1 of amdgpu, NVML GPU 0, DCMI node power.
public struct PowerChannel: Sendable, Codable, Hashable {
    /// Stable id, unique across sources: "METHOD:NAME", e.g. "rapl:package-0", "nvml:gpu0", "ipmi:node".
    public var id: String
    public var method: PowerMethod
    public var scope: PowerScope
    public var kind: PowerReadingKind
    public var quality: PowerQuality
    /// Smallest step of a reading: joules per counter unit, or watts per sample step.
    public var resolution: Double
    /// How often the underlying sensor updates or averages, seconds (RAPL ~0.001, NVML power ~0.02-1,
    /// a BMC 1-30), or nil when unknown.
    public var updateIntervalSeconds: Double?
    /// Human-readable what/where: device path, BMC averaging, meter accuracy class, estimate basis.
    public var detail: String

    public init(
        id: String, method: PowerMethod, scope: PowerScope, kind: PowerReadingKind, quality: PowerQuality,
        resolution: Double, updateIntervalSeconds: Double?, detail: String
    ) {
        self.id = id
        self.method = method
        self.scope = scope
        self.kind = kind
        self.quality = quality
        self.resolution = resolution
        self.updateIntervalSeconds = updateIntervalSeconds
        self.detail = detail
    }
}

/// One channel's value at one instant.
public struct PowerReading: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        /// A raw cumulative counter: energy = raw · joulesPerUnit, wrapping to 0 after `wrapsAt - 1`
        /// (RAPL's max_energy_range_uj; 2^32 or 2^64 for plain integer counters; nil: never wraps).
        case counter(raw: UInt64, joulesPerUnit: Double, wrapsAt: UInt64?)
        /// Instantaneous (or sensor-averaged) power in watts.
        case watts(Double)
        /// This channel could not be read this time (the source stays usable): the message says why.
        case fault(String)
    }

    public var channel: String
    /// Seconds on the clock the window runs on (`PowerClock`).
    public var time: Double
    public var value: Value

    public init(channel: String, time: Double, value: Value) {
        self.channel = channel
        self.time = time
        self.value = value
    }
}

/// Extra evidence a source can record alongside power (NVML: clocks, temperature, throttle reasons).
public struct PowerTelemetry: Sendable, Codable, Equatable {
    public var channel: String
    public var time: Double
    /// Named values with their unit in the name: "sm_clock_mhz", "temperature_c", "throttle_reasons".
    public var values: [String: String]

    public init(channel: String, time: Double, values: [String: String]) {
        self.channel = channel
        self.time = time
        self.values = values
    }
}

/// The time base of readings: the measurement engine's monotonic seconds, so power windows and timed
/// samples share one clock. Tests pass a scripted clock.
public typealias PowerClock = MeasurementClock

/// CLOCK_MONOTONIC seconds.
public typealias MonotonicPowerClock = MonotonicClock

/// A way to learn power draw. Sources are detected at start-up (`PowerSources.detect`), listed by
/// `accelbench power`, and read by `PowerWindow` at the edges of each timed region (counters) and on a
/// sampling thread in between (samples; counters too, so a wrap between two reads is never missed).
/// `read` must be safe to call from any thread, one call at a time.
public protocol PowerSource: AnyObject, Sendable {
    var method: PowerMethod { get }
    /// What this source reads; fixed after detection.
    var channels: [PowerChannel] { get }
    /// Shortest polling interval that makes sense for sampled channels, seconds (e.g. a BMC's 1 s).
    var minimumSampleIntervalSeconds: Double { get }
    /// Reads every channel now, stamping readings with `clock`. Throws `PowerError` only when the
    /// whole source failed (a BMC timed out, a meter connection dropped); per-channel problems are
    /// `.fault` readings.
    func read(clock: any PowerClock) throws -> [PowerReading]
    /// Extra evidence read with the power (may be empty).
    func telemetry(clock: any PowerClock) -> [PowerTelemetry]
}

extension PowerSource {
    public func telemetry(clock: any PowerClock) -> [PowerTelemetry] { [] }
}

/// Why a source or a reading could not be used; `message` says what to do.
public struct PowerError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Code: String, Sendable, Codable {
        /// Not present on this machine (no powercap tree, no libnvidia-ml, no ipmitool).
        case unavailable
        /// Present but not readable by this user (RAPL energy_uj is root-only since CVE-2020-8694).
        case permissionDenied = "permission_denied"
        /// A file, command output or HTTP body that does not parse as the source's format.
        case malformed
        /// A counter that went backwards without a plausible wrap, NaN or negative watts.
        case implausible
        /// A BMC or meter that did not answer in time, or a dropped connection.
        case timeout
        /// Wrong credentials (HTTP 401/403, ipmitool authentication).
        case unauthorized
        /// Bad configuration: flags, URLs, meter specs.
        case invalidConfiguration = "invalid_configuration"
    }

    public var code: Code
    public var source: String
    public var message: String

    public init(_ code: Code, source: String, _ message: String) {
        self.code = code
        self.source = source
        self.message = message
    }

    public var description: String { "\(source): \(message)" }
}
