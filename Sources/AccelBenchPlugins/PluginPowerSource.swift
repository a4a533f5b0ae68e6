import AccelBenchCore
import AccelBenchPower
import Foundation

/// A device plugin's telemetry as a power source, so a plugin case's energy window reads the device's
/// own counter (or power) like any other source: channel "plugin:NAME:DEVICE", scope accelerator
/// board, quality in-band counter, with clocks, temperature and throttle state as telemetry.
///
/// The ABI lets accelbench call a device from one thread at a time, so this source is read only at the
/// window's edges (right before the first timed sample and right after the last, when no run is in
/// flight), never by the sampler thread while the device runs: an energy counter gives the window's
/// energy exactly; power samples give the mean of the two edge readings, which the window's detail says.
public final class PluginPowerSource: PowerSource, @unchecked Sendable {
    // Sendable: immutable after init; the plugin's entries for this device are called from one
    // thread at a time (the window's begin and end, on the case's thread).
    public let method = PowerMethod.plugin
    public let channels: [PowerChannel]
    /// Longer than any window: the sampler never reads this source between the edges.
    public let minimumSampleIntervalSeconds = 1e9
    private let plugin: Plugin
    private let device: Int
    private let counter: Bool

    /// The source for `backend`'s device, or nil when its plugin reports neither energy nor power.
    public static func detect(_ backend: PluginBackend) -> PluginPowerSource? {
        guard let first = try? backend.plugin.telemetry(device: backend.device) else { return nil }
        guard first.energyJoules != nil || first.powerWatts != nil else { return nil }
        return PluginPowerSource(backend: backend, counter: first.energyJoules != nil, averaging: first.powerAverageSeconds)
    }

    private init(backend: PluginBackend, counter: Bool, averaging: Double?) {
        plugin = backend.plugin
        device = backend.device
        self.counter = counter
        let info = backend.deviceInfo
        let what = counter ? "the device's energy counter, read at the window's edges"
            : "the device's power at the window's edges (mean of two readings\(averaging.map { "; the device averages over \($0) s" } ?? ""))"
        channels = [PowerChannel(
            id: backend.name, method: .plugin, scope: .acceleratorBoard, kind: counter ? .energyCounter : .sampledWatts,
            quality: .inBandCounter, resolution: counter ? 1e-6 : 0.001, updateIntervalSeconds: averaging,
            detail: "\(info.name) via plugin \(plugin.name) \(plugin.version): \(what)")]
    }

    public func read(clock: any PowerClock) throws -> [PowerReading] {
        let id = channels[0].id
        let now = clock.now()
        let t: PluginTelemetry
        do {
            t = try plugin.telemetry(device: device)
        } catch {
            return [PowerReading(channel: id, time: now, value: .fault("plugin telemetry failed: \(error)"))]
        }
        if counter {
            guard let joules = t.energyJoules, joules.isFinite, joules >= 0 else {
                return [PowerReading(channel: id, time: now, value: .fault("plugin reported no energy this time"))]
            }
            let wrap = t.energyWrapJoules.map { UInt64(($0 * 1e6).rounded()) }
            return [PowerReading(channel: id, time: now, value: .counter(raw: UInt64((joules * 1e6).rounded()), joulesPerUnit: 1e-6, wrapsAt: wrap))]
        }
        guard let watts = t.powerWatts else {
            return [PowerReading(channel: id, time: now, value: .fault("plugin reported no power this time"))]
        }
        return [PowerReading(channel: id, time: now, value: .watts(watts))]
    }

    public func telemetry(clock: any PowerClock) -> [PowerTelemetry] {
        guard let t = try? plugin.telemetry(device: device) else { return [] }
        var values: [String: String] = [:]
        if let v = t.coreClockMHz { values["core_clock_mhz"] = "\(v)" }
        if let v = t.memoryClockMHz { values["mem_clock_mhz"] = "\(v)" }
        if let v = t.temperatureCelsius { values["temperature_c"] = "\(v)" }
        if let v = t.throttleReasons { values["throttle_reasons"] = v }
        if let v = t.throttleMask { values["throttle_reasons_mask"] = String(v, radix: 16) }
        return values.isEmpty ? [] : [PowerTelemetry(channel: channels[0].id, time: clock.now(), values: values)]
    }
}
