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
