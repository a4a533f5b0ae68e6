import Testing
@testable import AccelBenchCore

/// A clock that only moves when the code under test says time passed.
final class FakeClock: MeasurementClock, @unchecked Sendable {
    // Tests are single-threaded: `time` is touched by one thread only.
    var time = 0.0
    func now() -> Double { time }
    func advance(_ seconds: Double) { time += seconds }
}

@Suite struct MeasurerTests {
    @Test func convergesWhenAllRulesHold() {
        let clock = FakeClock()
        let rule = StoppingRule(minSamples: 10, minSeconds: 0.5, maxNoise: 0.02, timeoutSeconds: 10, warmupSeconds: 0.125, minSampleSeconds: 0)
        let m = Measurer(clock: clock, rule: rule).measure { clock.advance(0.015625) }  // exact in binary
        #expect(m.stopReason == .converged)
        // 0.5 s of sampling at 1/64 s a call: the time rule, not the count rule, decides.
        #expect(m.secondsPerCall.count == 32)
        #expect(m.warmupCalls == 8)
        #expect(m.callsPerSample == 1)
        #expect(m.summary.median == 0.015625)
    }

    @Test func minSamplesHoldsForSlowCalls() {
        let clock = FakeClock()
        let rule = StoppingRule(minSamples: 10, minSeconds: 0.5, maxNoise: 0.02, timeoutSeconds: 100, warmupSeconds: 0, minSampleSeconds: 0)
        let m = Measurer(clock: clock, rule: rule).measure { clock.advance(1.0) }
        #expect(m.stopReason == .converged)
        #expect(m.secondsPerCall.count == 10)
        #expect(m.warmupCalls == 1)
    }

    @Test func timeoutWhenNoiseNeverSettles() {
        let clock = FakeClock()
        var i = 0
        let rule = StoppingRule(minSamples: 10, minSeconds: 0.5, maxNoise: 0.01, timeoutSeconds: 2, warmupSeconds: 0, minSampleSeconds: 0)
        let m = Measurer(clock: clock, rule: rule).measure {
            i += 1
            clock.advance(i % 2 == 0 ? 0.01 : 0.02)  // alternating: 33% robust spread
        }
        #expect(m.stopReason == .timeout)
        #expect(m.samplingSeconds >= 2)
    }

    /// Calls longer than the timeout still get five samples (fewer only when minSamples asks for fewer).
    @Test func timeoutKeepsAFloorOfSamples() {
        let clock = FakeClock()
        let rule = StoppingRule(minSamples: 10, minSeconds: 0, maxNoise: 0.02, timeoutSeconds: 5, warmupSeconds: 0, minSampleSeconds: 0)
        var i = 0
        let m = Measurer(clock: clock, rule: rule).measure {
            i += 1
            clock.advance(i % 2 == 0 ? 20 : 24)  // noisy and far longer than the timeout
        }
        #expect(m.stopReason == .timeout)
        #expect(m.secondsPerCall.count == StoppingRule.timeoutFloorSamples)
        let few = StoppingRule(minSamples: 2, minSeconds: 0, maxNoise: 0, timeoutSeconds: 5, warmupSeconds: 0, minSampleSeconds: 0)
        i = 0
        let m2 = Measurer(clock: clock, rule: few).measure {
            i += 1
            clock.advance(i % 2 == 0 ? 20 : 24)
        }
        #expect(m2.secondsPerCall.count == 2)
    }

    @Test func maxSamplesCap() {
        let clock = FakeClock()
        var i = 0
        let rule = StoppingRule(minSamples: 2, minSeconds: 0, maxNoise: 0.0001, timeoutSeconds: 1e9, maxSamples: 25, warmupSeconds: 0, minSampleSeconds: 0)
        let m = Measurer(clock: clock, rule: rule).measure {
            i += 1
            clock.advance(Double(i % 3 + 1))
        }
        #expect(m.stopReason == .maxSamples)
        #expect(m.secondsPerCall.count == 25)
    }

    @Test func shortCallsAreBatched() {
        let clock = FakeClock()
        var calls = 0
        let rule = StoppingRule(minSamples: 10, minSeconds: 0, maxNoise: 1, timeoutSeconds: 10, warmupSeconds: 0, minSampleSeconds: 0.001)
        let m = Measurer(clock: clock, rule: rule).measure {
            calls += 1
            clock.advance(0.0001)
        }
        #expect(m.callsPerSample == 10)
        #expect(m.secondsPerCall.count == 10)
        #expect(calls == 1 + 10 * 10)
        #expect(abs(m.summary.median - 0.0001) < 1e-12)
    }

    @Test func beforeSampleRunsOutsideTiming() {
        let clock = FakeClock()
        var before = 0
        let rule = StoppingRule(minSamples: 10, minSeconds: 0, maxNoise: 1, timeoutSeconds: 10, warmupSeconds: 0, minSampleSeconds: 0)
        let m = Measurer(clock: clock, rule: rule).measure(beforeSample: {
            before += 1
            clock.advance(5)  // untimed work must not show in the samples
        }) { clock.advance(0.01) }
        #expect(before == m.secondsPerCall.count)
        #expect(abs(m.summary.max - 0.01) < 1e-12)
    }
}

/// A meter whose window covers exactly what the fake clock says passed between begin and end, at a
/// constant power: energy = watts x seconds.
final class ConstantPowerMeter: EnergyMeter, @unchecked Sendable {
    // Single-threaded tests: the fields are touched by one thread.
    let clock: FakeClock
    let watts: Double
    let minimumWindowSeconds: Double
    var begins = 0, ends = 0
    var openedAt = 0.0
    init(clock: FakeClock, watts: Double, minimumWindowSeconds: Double) {
        self.clock = clock
        self.watts = watts
        self.minimumWindowSeconds = minimumWindowSeconds
    }
    func begin() { begins += 1; openedAt = clock.now() }
    func end() -> EnergyWindow {
        ends += 1
        let seconds = clock.now() - openedAt
        let channel = EnergyChannel(
            id: "test:package", method: "rapl", scope: "cpu_package", qualityLevel: 1, quality: "in-band counter",
            kind: "energy_counter", joules: watts * seconds, averageWatts: watts, seconds: seconds, readings: 2,
            sampleIntervalSeconds: 0.1, wraps: 0, gaps: [], notes: [], comparable: true, detail: "scripted")
        return EnergyWindow(seconds: seconds, channels: [channel], errors: [])
    }
}

@Suite struct EnergyWindowEngineTests {
    /// The window opens after the warm-up and closes after the last sample: its seconds are the
    /// sampling time, not the warm-up's; a meter needing 3 s stretches a 0.5 s rule to 3 s.
    @Test func windowCoversExactlyTheSamplesAndIsLongEnough() {
        let clock = FakeClock()
        let meter = ConstantPowerMeter(clock: clock, watts: 50, minimumWindowSeconds: 3)
        let rule = StoppingRule(minSamples: 10, minSeconds: 0.5, maxNoise: 0.02, timeoutSeconds: 1, warmupSeconds: 0.25, minSampleSeconds: 0)
        let m = Measurer(clock: clock, rule: rule, energy: meter).measure { clock.advance(0.0625) }
        #expect(meter.begins == 1 && meter.ends == 1)
        #expect(m.energy?.seconds == m.samplingSeconds)
        #expect(m.samplingSeconds >= 3)
        #expect(m.secondsPerCall.count == 48)  // 3 s / (1/16 s)
    }

    /// Efficiency = the window's work (every timed call) / its energy, in the case's unit per watt.
    @Test func efficiencyIsWorkOfTheWindowOverItsEnergy() {
        struct Fixed: Backend {
            let name = "fixed"
            let summary = "fixed"
            let capabilities: [Workload: [DType]] = [.matmul: [.fp32]]
            let clock: FakeClock
            func unsupportedReason(_ spec: CaseSpec) -> String? { nil }
            func prepare(_ spec: CaseSpec, context: CaseContext) throws -> any PreparedCase { Case(clock: clock) }
            final class Case: PreparedCase {
                let clock: FakeClock
                init(clock: FakeClock) { self.clock = clock }
                var kernelPath: String { "fixed" }
                func poisonOutputs() {}
                func run() { clock.advance(0.125) }
                func check() -> CorrectnessCheck {
                    CorrectnessCheck(metric: "exact", value: 0, toleranceName: "exact", tolerance: 0, elementsChecked: 1, nonFinite: 0)
                }
            }
        }
        let clock = FakeClock()
        let meter = ConstantPowerMeter(clock: clock, watts: 40, minimumWindowSeconds: 0)
        let rule = StoppingRule(minSamples: 10, minSeconds: 2, maxNoise: 0.02, timeoutSeconds: 10, warmupSeconds: 0, minSampleSeconds: 0)
        let runner = CaseRunner(measurer: Measurer(clock: clock, rule: rule, energy: meter), idleWatts: ["test:package": 10])
        let spec = CaseSpec(workload: .matmul, backend: "fixed", dtype: .fp32, shape: .matmul(m: 64, n: 64, k: 64), threads: 1)
        let result = runner.run(spec, on: Fixed(clock: clock), pool: WorkerPool(threadCount: 1))
        let channel = result.energy?.channels.first
        let calls = Double(result.measurement!.timedCalls)
        let joules: Double = 40 * result.measurement!.samplingSeconds
        let flops: Double = 2 * 64 * 64 * 64
        let expected: Double = flops * calls / 1e9 / joules
        #expect(channel?.efficiency == expected)
        #expect(channel?.efficiencyUnit == "GFLOPS/W")
        #expect(channel?.dynamicWatts == 30)
        #expect(result.energy?.headline?.id == "test:package")
    }
}
