import AccelBenchCore
import Foundation
import Synchronization

/// Energy drawn over one timed region, per channel, from the readings of a set of sources.
///
/// `begin()` reads every source (the counters' start values) and starts a sampling thread that reads
/// them all every `sampleIntervalSeconds`; `end()` stops it, reads every source once more and turns the
/// readings into a `PowerWindowResult`. The engine calls them right before the first timed sample and
/// right after the last, so set-up and checking never count (MLPerf's power_begin/power_end).
///
/// - Counters: energy is the sum of the differences of successive raw values times the unit. A value
///   below the previous one is a wrap when the forward step through `wrapsAt` is under half the range
///   (the sampler reads much more often than any counter wraps); otherwise the counter went backwards,
///   the window's energy for that channel is unknown, and the result says so.
/// - Samples: energy is the integral over exactly [begin, end] of the line through the samples (held
///   flat before the first and after the last; samples from before the window, such as a meter's
///   backlog, only set the value at its start). NaN, infinite or negative watts are dropped and
///   counted as gaps.
/// - A source that throws (a BMC timeout, a dropped meter connection) leaves a gap for its channels:
///   the readings before and after still count, and the result lists the error.
public final class PowerWindow: @unchecked Sendable {
    // Sendable: `readings`, `errors` and `stopping` are only touched under `lock`; the sources are
    // Sendable and read one call at a time (the sampler thread and begin/end never overlap a read,
    // since begin starts the sampler after its own read and end stops it before its own).
    public let sources: [any PowerSource]
    public let clock: any PowerClock
    public let sampleIntervalSeconds: Double
    private let lock = NSLock()
    private var readings: [String: [PowerReading]] = [:]
    private var telemetry: [PowerTelemetry] = []
    private var errors: [String] = []
    /// Telemetry entries kept per window (clocks, temperatures, throttle reasons at every poll would
    /// otherwise grow with the window): the first ones and the last ones.
    public static let telemetryLimit = 256
    private var stopping = false
    private var sampler: Thread?
    private let samplerDone = NSCondition()
    private var samplerRunning = false
    private var startTime = 0.0

    /// - Parameter sampleIntervalSeconds: polling period of the sampler thread; raised to the slowest
    ///   source's `minimumSampleIntervalSeconds` for that source only (it is read every k-th tick).
    public init(sources: [any PowerSource], clock: any PowerClock = MonotonicPowerClock(), sampleIntervalSeconds: Double = 0.1) {
        precondition(sampleIntervalSeconds > 0, "PowerWindow: the sampling interval must be > 0")
        self.sources = sources
        self.clock = clock
        self.sampleIntervalSeconds = sampleIntervalSeconds
    }

    /// Reads every source and starts the sampler.
    public func begin() {
        lock.lock()
        readings = [:]
        telemetry = []
        errors = []
        stopping = false
        lock.unlock()
        startTime = clock.now()
        readAll(sources)
        guard !sources.isEmpty else { return }
        samplerRunning = true
        let thread = Thread { [self] in samplerLoop() }
        thread.name = "accelbench-power-sampler"
        sampler = thread
        thread.start()
    }

    /// Stops the sampler, reads every source once more and computes the window.
    public func end() -> PowerWindowResult {
        lock.lock()
        stopping = true
        lock.unlock()
        samplerDone.lock()
        while samplerRunning { samplerDone.wait() }
        samplerDone.unlock()
        sampler = nil
        readAll(sources)
        let endTime = clock.now()
        lock.lock()
        let taken = readings, failures = errors, evidence = telemetry
        lock.unlock()
        let channels = sources.flatMap(\.channels).map { channel in
            PowerWindow.summarize(channel, readings: taken[channel.id] ?? [], start: startTime, end: endTime,
                                  sampleIntervalSeconds: sampleIntervalSeconds)
        }
        return PowerWindowResult(startSeconds: startTime, endSeconds: endTime, channels: channels, errors: failures,
                                 telemetry: evidence)
    }

    private func readAll(_ list: [any PowerSource]) {
        for source in list {
            do {
                let values = try source.read(clock: clock)
                let extra = source.telemetry(clock: clock)
                lock.lock()
                for reading in values { readings[reading.channel, default: []].append(reading) }
                for entry in extra {
                    // Keep the first half of the limit and a sliding last half.
                    if telemetry.count >= PowerWindow.telemetryLimit { telemetry.remove(at: PowerWindow.telemetryLimit / 2) }
                    telemetry.append(entry)
                }
                lock.unlock()
            } catch {
                let time = clock.now() - startTime
                lock.lock()
                errors.append(String(format: "%@ at +%.3f s: %@", source.method.rawValue, time, "\(error)"))
                for channel in source.channels {
                    readings[channel.id, default: []].append(PowerReading(channel: channel.id, time: time + startTime, value: .fault("\(error)")))
                }
                lock.unlock()
            }
        }
    }

    private func samplerLoop() {
        var tick = 0
        while true {
            Thread.sleep(forTimeInterval: sampleIntervalSeconds)
            lock.lock()
            let stop = stopping
            lock.unlock()
            if stop { break }
            tick += 1
            let due = sources.filter { source in
                let every = max(1, Int((source.minimumSampleIntervalSeconds / sampleIntervalSeconds).rounded(.up)))
                return tick % every == 0
            }
            readAll(due)
        }
        samplerDone.lock()
        samplerRunning = false
        samplerDone.broadcast()
        samplerDone.unlock()
    }

    /// ∫ of the piecewise-linear function through `points` (time-sorted (t, W)), held flat before the
    /// first and after the last, over exactly [start, end]: samples taken before the window (a meter's
    /// backlog) only shape the value at its edge, they do not add energy.
    static func integrate(_ points: [(Double, Double)], from start: Double, to end: Double) -> Double {
        guard end > start, let first = points.first, let last = points.last else { return 0 }
        func value(_ t: Double) -> Double {
            if t <= first.0 { return first.1 }
            if t >= last.0 { return last.1 }
            var low = 0, high = points.count - 1  // points[low].0 < t <= points[high].0
            while high - low > 1 {
                let mid = (low + high) / 2
                if points[mid].0 < t { low = mid } else { high = mid }
            }
            let (t0, w0) = points[low], (t1, w1) = points[high]
            return t1 > t0 ? w0 + (w1 - w0) * (t - t0) / (t1 - t0) : w1
        }
        var times = [start]
        times += points.map(\.0).filter { $0 > start && $0 < end }
        times.append(end)
        var joules = 0.0
        for i in 1..<times.count {
            joules += 0.5 * (value(times[i - 1]) + value(times[i])) * (times[i] - times[i - 1])
        }
        return joules
    }

    /// The energy of one channel over [start, end] from its readings (any order).
    static func summarize(
        _ channel: PowerChannel, readings unsorted: [PowerReading], start: Double, end: Double, sampleIntervalSeconds: Double
    ) -> PowerWindowResult.Channel {
        let list = unsorted.sorted { $0.time < $1.time }
        var gaps: [String: Int] = [:]
        func gap(_ message: String) { gaps[message, default: 0] += 1 }
        var joules = 0.0
        var valid = true
        var used = 0
        var wraps = 0
        switch channel.kind {
        case .energyCounter:
            var last: UInt64?
            for reading in list {
                switch reading.value {
                case let .counter(raw, unit, wrapsAt):
                    used += 1
                    defer { last = raw }
                    guard let previous = last else { continue }
                    if raw >= previous {
                        joules += Double(raw - previous) * unit
                    } else if let range = wrapsAt, previous < range, range - previous + raw < range / 2 {
                        joules += Double(range - previous + raw) * unit
                        wraps += 1
                    } else {
                        gap("counter went backwards without a wrap (\(previous) -> \(raw)); this window's energy is unknown")
                        valid = false
                    }
                case .watts:
                    gap("a sample where a counter was expected")
                case let .fault(message):
                    gap(message)
                }
            }
            if used < 2 {
                valid = false
                gap("fewer than two counter readings in the window")
            }
        case .sampledWatts:
            var points: [(Double, Double)] = []
            for reading in list {
                switch reading.value {
                case let .watts(w):
                    if w.isFinite && w >= 0 {
                        points.append((reading.time, w))
                    } else {
                        gap("implausible power sample (\(w) W) dropped")
                    }
                case .counter:
                    gap("a counter where a sample was expected")
                case let .fault(message):
                    gap(message)
                }
            }
            used = points.filter { $0.0 >= start && $0.0 <= end }.count
            if points.isEmpty {
                valid = false
                gap("no usable power sample in the window")
            } else {
                joules = PowerWindow.integrate(points, from: start, to: end)
            }
        }
        let seconds = max(0, end - start)
        var notes: [String] = []
        if valid && channel.kind == .energyCounter && joules < 100 * channel.resolution {
            notes.append(String(format: "window holds only %.0f counter steps: ±%.1f%% from the counter's resolution", joules / channel.resolution, 100 * channel.resolution / max(joules, channel.resolution)))
        }
        if valid, channel.kind == .sampledWatts, let update = channel.updateIntervalSeconds, seconds < 2 * update {
            notes.append(String(format: "window (%.3f s) shorter than twice the sensor's update interval (%.3f s): the figure mostly reflects power outside it", seconds, update))
        }
        return PowerWindowResult.Channel(
            channel: channel, joules: valid ? joules : nil, seconds: seconds,
            averageWatts: valid && seconds > 0 ? joules / seconds : nil, readings: used,
            sampleIntervalSeconds: sampleIntervalSeconds, wraps: wraps,
            gaps: gaps.keys.sorted().map { gaps[$0]! > 1 ? "\($0) (x\(gaps[$0]!))" : $0 }, notes: notes)
    }
}

/// One window's energy, per channel; the raw material of every efficiency figure.
public struct PowerWindowResult: Sendable, Codable, Equatable {
    public struct Channel: Sendable, Codable, Equatable {
        public var channel: PowerChannel
        /// Energy over the window, joules; nil when it is unknown (see `gaps`).
        public var joules: Double?
        public var seconds: Double
        public var averageWatts: Double?
        /// Readings (counter values or good samples) the figure comes from.
        public var readings: Int
        public var sampleIntervalSeconds: Double
        /// Counter wrap-arounds handled inside the window.
        public var wraps: Int
        /// Faults, dropped samples, backwards counters, source errors (with counts).
        public var gaps: [String]
        /// Caveats on a valid figure (resolution, sensor averaging).
        public var notes: [String]

        /// False for estimates: an estimate is never comparable with a measurement.
        public var comparable: Bool { channel.method != .estimate }
    }

    public var startSeconds: Double
    public var endSeconds: Double
    public var channels: [Channel]
    /// Whole-source failures during the window.
    public var errors: [String]
    /// What the sources recorded alongside power (NVML clocks, temperature, throttle reasons; a BMC's
    /// min/max/average), in time order, at most `PowerWindow.telemetryLimit` entries.
    public var telemetry: [PowerTelemetry] = []

    /// work / joules for one channel (e.g. GFLOP per joule = GFLOPS/W), nil without a valid energy.
    public static func efficiency(work: Double, joules: Double?) -> Double? {
        guard let joules, joules > 0 else { return nil }
        return work / joules
    }
}
