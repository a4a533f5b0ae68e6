/// What the measurement engine needs from a power meter: a window opened right before the first timed
/// sample and closed right after the last (MLPerf's power_begin/power_end), and how long a window must
/// be for its sources to say anything. AccelBenchPower implements it over its sources; Core knows only
/// this protocol and the report it returns, so tests drive the engine with a scripted meter.
public protocol EnergyMeter: AnyObject, Sendable {
    /// The shortest timed region that gives this meter's sources a usable figure, seconds (e.g. twice a
    /// BMC's averaging period, or enough counter steps): the engine keeps sampling until it is reached.
    var minimumWindowSeconds: Double { get }
    func begin()
    func end() -> EnergyWindow
}

/// One power channel's energy over a case's timed region, with what it is and how good it is.
public struct EnergyChannel: Codable, Sendable, Equatable {
    /// "METHOD:NAME", e.g. "rapl:package-0".
    public var id: String
    /// rapl, hwmon, nvml, ipmi, redfish, meter or estimate.
    public var method: String
    /// cpu_package, cpu_cores, dram, accelerator_board, node, node_wall, ...
    public var scope: String
    /// estimate < in-band counter < BMC < calibrated meter (0...3).
    public var qualityLevel: Int
    public var quality: String
    /// energy_counter or sampled_watts.
    public var kind: String
    public var joules: Double?
    public var averageWatts: Double?
    public var seconds: Double
    /// Readings the figure comes from, and the sampler's period.
    public var readings: Int
    public var sampleIntervalSeconds: Double
    public var wraps: Int
    public var gaps: [String]
    public var notes: [String]
    /// False for estimates: never comparable with a measurement.
    public var comparable: Bool
    /// The channel's own description (device, BMC averaging, meter accuracy, estimate basis).
    public var detail: String
    /// Idle power of this channel measured before the suite, watts, when it was measured.
    public var idleWatts: Double?
    /// Throughput per watt: the window's work / joules, in the case's unit per watt (GFLOPS/W,
    /// GB/s per W, tokens/J); nil without a valid energy.
    public var efficiency: Double?
    public var efficiencyUnit: String?

    public init(
        id: String, method: String, scope: String, qualityLevel: Int, quality: String, kind: String, joules: Double?,
        averageWatts: Double?, seconds: Double, readings: Int, sampleIntervalSeconds: Double, wraps: Int, gaps: [String],
        notes: [String], comparable: Bool, detail: String
    ) {
        self.id = id
        self.method = method
        self.scope = scope
        self.qualityLevel = qualityLevel
        self.quality = quality
        self.kind = kind
        self.joules = joules
        self.averageWatts = averageWatts
        self.seconds = seconds
        self.readings = readings
        self.sampleIntervalSeconds = sampleIntervalSeconds
        self.wraps = wraps
        self.gaps = gaps
        self.notes = notes
        self.comparable = comparable
        self.detail = detail
    }

    /// Dynamic power: average minus idle, watts.
    public var dynamicWatts: Double? {
        guard let averageWatts, let idleWatts else { return nil }
        return averageWatts - idleWatts
    }
}

/// One source's side readings at one instant of a window (e.g. "sm_clock_mhz", "throttle_reasons").
public struct EnergyTelemetry: Codable, Sendable, Equatable {
    public var channel: String
    /// Seconds from the window's start.
    public var seconds: Double
    public var values: [String: String]

    public init(channel: String, seconds: Double, values: [String: String]) {
        self.channel = channel
        self.seconds = seconds
        self.values = values
    }
}

/// The energy of one timed region: every channel, never summed across scopes.
public struct EnergyWindow: Codable, Sendable, Equatable {
    public var seconds: Double
    public var channels: [EnergyChannel]
    /// Whole-source failures during the window (the benchmark result itself is kept).
    public var errors: [String]
    /// Evidence recorded with the power: clocks, temperatures, throttle reasons, a BMC's min/max.
    public var telemetry: [EnergyTelemetry]

    public init(seconds: Double, channels: [EnergyChannel], errors: [String], telemetry: [EnergyTelemetry] = []) {
        self.seconds = seconds
        self.channels = channels
        self.errors = errors
        self.telemetry = telemetry
    }

    /// The channel an efficiency column shows: the highest quality level, then the widest scope
    /// (node/wall before board before package), among channels with a valid energy.
    public var headline: EnergyChannel? {
        let order = ["node_wall", "node", "chassis", "accelerator_board", "platform", "cpu_package", "cpu_cores", "dram"]
        return channels.filter { $0.joules != nil }.min { a, b in
            if a.qualityLevel != b.qualityLevel { return a.qualityLevel > b.qualityLevel }
            return (order.firstIndex(of: a.scope) ?? order.count) < (order.firstIndex(of: b.scope) ?? order.count)
        }
    }
}
