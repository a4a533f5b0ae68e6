import AccelBenchCore
import Foundation

/// The measurement engine's energy meter (`EnergyMeter`) over a set of power sources: one
/// `PowerWindow` per timed region, converted to the engine's `EnergyWindow`.
public final class PowerMeterSession: EnergyMeter, @unchecked Sendable {
    // Sendable: `window` is created in init and only used by begin/end, which the engine calls from
    // one thread, one case at a time.
    public let sources: [any PowerSource]
    public let sampleIntervalSeconds: Double
    private let window: PowerWindow

    public init(sources: [any PowerSource], sampleIntervalSeconds: Double = 0.1, clock: any PowerClock = MonotonicPowerClock()) {
        self.sources = sources
        self.sampleIntervalSeconds = sampleIntervalSeconds
        window = PowerWindow(sources: sources, clock: clock, sampleIntervalSeconds: sampleIntervalSeconds)
    }

    /// Long enough for every channel: sampled channels need two of their sensor's update (or
    /// averaging) periods and two polls; counters a few polls.
    public var minimumWindowSeconds: Double {
        var seconds = 0.0
        for source in sources {
            for channel in source.channels {
                switch channel.kind {
                case .sampledWatts:
                    let period = max(channel.updateIntervalSeconds ?? 0, source.minimumSampleIntervalSeconds, sampleIntervalSeconds)
                    seconds = max(seconds, 2 * period)
                case .energyCounter:
                    seconds = max(seconds, 3 * sampleIntervalSeconds)
                }
            }
        }
        return seconds
    }

    public func begin() { window.begin() }

    public func end() -> EnergyWindow {
        PowerMeterSession.energyWindow(window.end())
    }

    /// Average power of every channel over `seconds` with nothing of ours running (the idle figure
    /// dynamic power is derived from), watts by channel id; channels without a valid figure are left out.
    public func measureIdle(seconds: Double) -> [String: Double] {
        window.begin()
        Thread.sleep(forTimeInterval: seconds)
        let result = window.end()
        var idle: [String: Double] = [:]
        for channel in result.channels { if let w = channel.averageWatts { idle[channel.channel.id] = w } }
        return idle
    }

    static func energyWindow(_ r: PowerWindowResult) -> EnergyWindow {
        EnergyWindow(
            seconds: r.endSeconds - r.startSeconds,
            channels: r.channels.map { c in
                EnergyChannel(
                    id: c.channel.id, method: c.channel.method.rawValue, scope: c.channel.scope.rawValue,
                    qualityLevel: c.channel.quality.rawValue, quality: c.channel.quality.description,
                    kind: c.channel.kind.rawValue, joules: c.joules, averageWatts: c.averageWatts, seconds: c.seconds,
                    readings: c.readings, sampleIntervalSeconds: c.sampleIntervalSeconds, wraps: c.wraps, gaps: c.gaps,
                    notes: c.notes, comparable: c.comparable, detail: c.channel.detail)
            },
            errors: r.errors,
            telemetry: r.telemetry.map { EnergyTelemetry(channel: $0.channel, seconds: $0.time - r.startSeconds, values: $0.values) })
    }
}
