import Foundation
import Synchronization
import Testing
@testable import AccelBenchPower

/// A source driven by a load profile in time: a counter channel that integrates power(t) exactly (in
/// `unit`-joule steps, wrapping at `wrapsAt`) and a sampled channel that reports power(t) itself, the
/// way a RAPL counter and a BMC sensor would see the same load.
final class ProfileSource: PowerSource, @unchecked Sendable {
    let method = PowerMethod.hwmon
    let unit: Double
    let wrapsAt: UInt64?
    let origin: Double
    let power: @Sendable (Double) -> Double
    /// ∫ power from origin to t, in closed form.
    let energy: @Sendable (Double) -> Double
    let minimumSampleIntervalSeconds = 0.0

    init(origin: Double, unit: Double, wrapsAt: UInt64?, power: @escaping @Sendable (Double) -> Double,
         energy: @escaping @Sendable (Double) -> Double) {
        self.origin = origin
        self.unit = unit
        self.wrapsAt = wrapsAt
        self.power = power
        self.energy = energy
    }

    var channels: [PowerChannel] {
        [PowerChannel(id: "test:counter", method: .hwmon, scope: .cpuPackage, kind: .energyCounter, quality: .inBandCounter,
                      resolution: unit, updateIntervalSeconds: 0.001, detail: "profile counter"),
         PowerChannel(id: "test:samples", method: .hwmon, scope: .cpuPackage, kind: .sampledWatts, quality: .inBandCounter,
                      resolution: 0.001, updateIntervalSeconds: nil, detail: "profile samples")]
    }

    func read(clock: any PowerClock) throws -> [PowerReading] {
        let t = clock.now()
        var raw = UInt64(energy(t - origin) / unit)
        if let wrapsAt { raw %= wrapsAt }
        return [PowerReading(channel: "test:counter", time: t, value: .counter(raw: raw, joulesPerUnit: unit, wrapsAt: wrapsAt)),
                PowerReading(channel: "test:samples", time: t, value: .watts(power(t - origin)))]
    }
}

@Suite struct PowerWindowTests {
    static let counter = PowerChannel(
        id: "c", method: .rapl, scope: .cpuPackage, kind: .energyCounter, quality: .inBandCounter, resolution: 1e-6,
        updateIntervalSeconds: 0.001, detail: "")
    static let samples = PowerChannel(
        id: "s", method: .ipmi, scope: .node, kind: .sampledWatts, quality: .bmc, resolution: 1, updateIntervalSeconds: 1,
        detail: "")

    static func counter(_ raw: UInt64, at t: Double, wrapsAt: UInt64? = 1000) -> PowerReading {
        PowerReading(channel: "c", time: t, value: .counter(raw: raw, joulesPerUnit: 0.5, wrapsAt: wrapsAt))
    }

    @Test func counterWrapInsideTheWindow() {
        let r = PowerWindow.summarize(
            Self.counter, readings: [Self.counter(900, at: 0), Self.counter(990, at: 1), Self.counter(20, at: 2), Self.counter(50, at: 3)],
            start: 0, end: 3, sampleIntervalSeconds: 1)
        #expect(r.wraps == 1)
        #expect(r.joules == Double(90 + 30 + 30) * 0.5)
        #expect(r.averageWatts == 75.0 / 3)
        #expect(r.gaps.isEmpty)
    }

    @Test func thirtyTwoBitWrap() {
        let wrap: UInt64 = 1 << 32
        let r = PowerWindow.summarize(
            Self.counter, readings: [Self.counter(wrap - 10, at: 0, wrapsAt: wrap), Self.counter(5, at: 1, wrapsAt: wrap)],
            start: 0, end: 1, sampleIntervalSeconds: 1)
        #expect(r.joules == 15 * 0.5 && r.wraps == 1)
    }

    @Test func backwardsWithoutAWrapMakesTheEnergyUnknown() {
        // 500 -> 400 would be a forward step of 900 of a 1000 range: not a wrap.
        let r = PowerWindow.summarize(
            Self.counter, readings: [Self.counter(500, at: 0), Self.counter(400, at: 1)], start: 0, end: 1, sampleIntervalSeconds: 1)
        #expect(r.joules == nil && r.averageWatts == nil)
        #expect(r.gaps.contains { $0.contains("backwards") })
        // A counter without a declared range cannot wrap at all.
        let plain = PowerWindow.summarize(
            Self.counter, readings: [Self.counter(500, at: 0, wrapsAt: nil), Self.counter(499, at: 1, wrapsAt: nil)],
            start: 0, end: 1, sampleIntervalSeconds: 1)
        #expect(plain.joules == nil)
    }

    @Test func samplesIntegrateWithImplausibleOnesDropped() {
        let readings = [
            PowerReading(channel: "s", time: 1, value: .watts(100)),
            PowerReading(channel: "s", time: 2, value: .watts(.nan)),
            PowerReading(channel: "s", time: 3, value: .watts(200)),
            PowerReading(channel: "s", time: 3.5, value: .watts(-5)),
            PowerReading(channel: "s", time: 3.6, value: .fault("BMC busy")),
        ]
        let r = PowerWindow.summarize(Self.samples, readings: readings, start: 0, end: 4, sampleIntervalSeconds: 1)
        // 100 W held over [0, 1], trapezoid 150 W over [1, 3], 200 W held over [3, 4].
        #expect(abs(r.joules! - 600) < 1e-9, "\(r.joules!)")
        #expect(r.readings == 2)
        #expect(r.gaps.count == 3)
        #expect(r.comparable)
    }

    /// Samples from before the window (a meter's backlog) set the value at its start but add no energy.
    @Test func samplesBeforeTheWindowAreClipped() {
        let readings = [
            PowerReading(channel: "s", time: -5, value: .watts(1000)),
            PowerReading(channel: "s", time: 0, value: .watts(100)),
            PowerReading(channel: "s", time: 2, value: .watts(100)),
            PowerReading(channel: "s", time: 3, value: .watts(300)),
        ]
        let r = PowerWindow.summarize(Self.samples, readings: readings, start: 1, end: 4, sampleIntervalSeconds: 1)
        // 100 W over [1, 2], 200 W mean over [2, 3], 300 W held over [3, 4].
        #expect(abs(r.joules! - 600) < 1e-9, "\(r.joules!)")
        #expect(r.readings == 2)
    }

    @Test func shortWindowsAreFlagged() {
        let r = PowerWindow.summarize(
            Self.samples, readings: [PowerReading(channel: "s", time: 0.1, value: .watts(100))], start: 0, end: 0.5,
            sampleIntervalSeconds: 0.1)
        #expect(r.joules == 50)
        #expect(r.notes.contains { $0.contains("update interval") })
        let c = PowerWindow.summarize(
            Self.counter, readings: [Self.counter(0, at: 0), Self.counter(10, at: 1)], start: 0, end: 1, sampleIntervalSeconds: 1)
        #expect(c.notes.contains { $0.contains("resolution") } == false)  // 5 J over 1e-6 J steps
    }

    @Test func efficiencyIsWorkOverEnergyExactly() {
        #expect(PowerWindowResult.efficiency(work: 1234.5, joules: 2.5) == 1234.5 / 2.5)
        #expect(PowerWindowResult.efficiency(work: 1, joules: nil) == nil)
        #expect(PowerWindowResult.efficiency(work: 1, joules: 0) == nil)
    }

    /// A live window on a scripted load (70 W + 30 W·sin(10 t)): the counter's energy and the
    /// integrated samples agree, and both match the closed form, within the sampling error of a 5 ms
    /// sampler over ~0.3 s (1%).
    @Test func countersAndIntegratedSamplesAgree() {
        let clock = MonotonicPowerClock()
        let origin = clock.now()
        let source = ProfileSource(
            origin: origin, unit: 1e-6, wrapsAt: 1 << 22,  // wraps every ~4 J: several times in the window
            power: { t in 70 + 30 * sin(10 * t) },
            energy: { t in 70 * t + 3 * (1 - cos(10 * t)) })
        let window = PowerWindow(sources: [source], clock: clock, sampleIntervalSeconds: 0.005)
        window.begin()
        Thread.sleep(forTimeInterval: 0.3)
        let result = window.end()
        let exact = (70 * (result.endSeconds - origin) + 3 * (1 - cos(10 * (result.endSeconds - origin))))
            - (70 * (result.startSeconds - origin) + 3 * (1 - cos(10 * (result.startSeconds - origin))))
        let counted = result.channels.first { $0.channel.id == "test:counter" }!
        let sampled = result.channels.first { $0.channel.id == "test:samples" }!
        #expect(counted.wraps >= 2)
        #expect(abs(counted.joules! - exact) / exact < 0.01, "counter \(counted.joules!) vs \(exact)")
        #expect(abs(sampled.joules! - exact) / exact < 0.01, "samples \(sampled.joules!) vs \(exact)")
        #expect(result.errors.isEmpty)
    }

    /// A source that fails once mid-window leaves a gap and an error; the window is still computed.
    @Test func aFailingSourceLeavesAGap() {
        final class Flaky: PowerSource, @unchecked Sendable {
            let method = PowerMethod.redfish
            let minimumSampleIntervalSeconds = 0.0
            let calls = Mutex(0)
            var channels: [PowerChannel] {
                [PowerChannel(id: "redfish:node", method: .redfish, scope: .node, kind: .sampledWatts, quality: .bmc,
                              resolution: 1, updateIntervalSeconds: nil, detail: "")]
            }
            func read(clock: any PowerClock) throws -> [PowerReading] {
                let n = calls.withLock { $0 += 1; return $0 }
                if n == 2 { throw PowerError(.timeout, source: "redfish", "BMC did not answer within 0.5 s") }
                return [PowerReading(channel: "redfish:node", time: clock.now(), value: .watts(300))]
            }
        }
        let window = PowerWindow(sources: [Flaky()], sampleIntervalSeconds: 0.01)
        window.begin()
        Thread.sleep(forTimeInterval: 0.05)
        let result = window.end()
        #expect(result.errors.count == 1 && result.errors[0].contains("did not answer"))
        let node = result.channels[0]
        #expect(node.gaps.count == 1)
        #expect(abs(node.averageWatts! - 300) < 1e-9)
    }

    /// Side readings (clocks, throttle reasons) a source reports with its power land in the window, in
    /// time order and bounded.
    @Test func telemetryIsKeptAndBounded() {
        final class Clocked: PowerSource, @unchecked Sendable {
            let method = PowerMethod.nvml
            let minimumSampleIntervalSeconds = 0.0
            let count = Mutex(0)
            var channels: [PowerChannel] {
                [PowerChannel(id: "nvml:gpu0", method: .nvml, scope: .acceleratorBoard, kind: .sampledWatts,
                              quality: .inBandCounter, resolution: 0.001, updateIntervalSeconds: nil, detail: "")]
            }
            func read(clock: any PowerClock) throws -> [PowerReading] {
                [PowerReading(channel: "nvml:gpu0", time: clock.now(), value: .watts(250))]
            }
            func telemetry(clock: any PowerClock) -> [PowerTelemetry] {
                let n = count.withLock { $0 += 1; return $0 }
                return [PowerTelemetry(channel: "nvml:gpu0", time: clock.now(), values: ["sm_clock_mhz": "\(1000 + n)", "throttle_reasons": n > 3 ? "SwPowerCap" : "none"])]
            }
        }
        let window = PowerWindow(sources: [Clocked()], sampleIntervalSeconds: 0.001)
        window.begin()
        Thread.sleep(forTimeInterval: 0.5)
        let result = window.end()
        #expect(!result.telemetry.isEmpty && result.telemetry.count <= PowerWindow.telemetryLimit)
        #expect(result.telemetry.first?.values["sm_clock_mhz"] == "1001")
        #expect(result.telemetry.last?.values["throttle_reasons"] == "SwPowerCap")
        #expect(result.telemetry.map(\.time) == result.telemetry.map(\.time).sorted())
        let converted = PowerMeterSession.energyWindow(result)
        #expect(converted.telemetry.count == result.telemetry.count && converted.telemetry[0].seconds >= 0)
    }
}
