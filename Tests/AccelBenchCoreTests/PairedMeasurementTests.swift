import Foundation
import Testing
@testable import AccelBenchCore

@Suite struct PairedMeasurementTests {
    /// Pairs swap their order each time (kernel first, then reference first) and each side is timed
    /// on its own batch.
    @Test func pairsAlternateOrderAndTimeEachSide() {
        let clock = FakeClock()
        var order: [Character] = []
        let rule = StoppingRule(minSamples: 4, minSeconds: 0.5, maxNoise: 0.02, timeoutSeconds: 10, warmupSeconds: 0, minSampleSeconds: 0)
        let m = Measurer(clock: clock, rule: rule).measurePaired(
            callsPerSample: 2,
            kernel: {
                order.append("k")
                clock.advance(0.015625)
            },
            reference: {
                order.append("r")
                clock.advance(0.0078125)
            })
        #expect(m.stopReason == .converged)
        // At least 10 pairs even when the rule asks for fewer samples; 0.5 s at 3/64 s a pair needs 11.
        #expect(m.kernelSecondsPerCall.count == 11)
        #expect(m.kernelSecondsPerCall.allSatisfy { $0 == 0.015625 })
        #expect(m.referenceSecondsPerCall.allSatisfy { $0 == 0.0078125 })
        #expect(m.callsPerSample == 2)
        // One warm-up reference call, then batches of 2: k k r r, r r k k, k k r r...
        #expect(String(order.prefix(13)) == "rkkrrrrkkkkrr")
    }

    /// The point of pairing: a machine whose speed drifts 3x during the pass gives a kernel-alone
    /// spread of tens of percent, while the per-pair ratio of a kernel 10% slower than the reference
    /// stays at 1/1.1.
    @Test func ratioCancelsDrift() throws {
        let clock = FakeClock()
        var calls = 0  // the warm-up reference call is call 0; pair i makes calls 2i+1 and 2i+2
        var slowdown: Double { 1 + Double((calls - 1) / 2) * 0.2 }  // changes between pairs, not within one
        let rule = StoppingRule(minSamples: 10, minSeconds: 0, maxNoise: 0.001, timeoutSeconds: 100, maxSamples: 20, warmupSeconds: 0, minSampleSeconds: 0)
        let m = Measurer(clock: clock, rule: rule).measurePaired(
            callsPerSample: 1,
            kernel: {
                clock.advance(0.011 * slowdown)
                calls += 1
            },
            reference: {
                clock.advance(0.010 * slowdown)
                calls += 1
            })
        let bytes = Work(amount: 1e8, kind: .bytes, rule: "test bytes")
        let paired = try #require(PairedComparison(label: "read", kernelWork: bytes, referenceWork: bytes, measurement: m))
        #expect(paired.kernel.robustCV > 0.2)
        #expect(abs(paired.ratio.median - 1 / 1.1) < 1e-3)
        #expect(paired.ratio.robustCV < 1e-2)
        #expect(paired.unit == .gbytesPerSecond)
        let low = try #require(paired.ratioLow95), high = try #require(paired.ratioHigh95)
        #expect(low <= paired.ratio.median && paired.ratio.median <= high)
    }

    @Test func ratioScalesByTheWorkOfEachSide() throws {
        let m = PairedMeasurement(
            kernelSecondsPerCall: [1, 1, 1], referenceSecondsPerCall: [1, 1, 1], callsPerSample: 1, stopReason: .timeout, samplingSeconds: 6)
        let paired = try #require(
            PairedComparison(
                label: "read", kernelWork: Work(amount: 9e9, kind: .bytes, rule: "k"),
                referenceWork: Work(amount: 1e10, kind: .bytes, rule: "r"), measurement: m))
        #expect(abs(paired.ratio.median - 0.9) < 1e-12)
        #expect(paired.reference.median == 10)
        #expect(paired.ratioLow95 == nil)  // 3 pairs: no 95% interval exists
        #expect(PairedComparison(
            label: "none", kernelWork: Work(amount: 1, kind: .bytes, rule: ""), referenceWork: Work(amount: 1, kind: .bytes, rule: ""),
            measurement: PairedMeasurement(kernelSecondsPerCall: [], referenceSecondsPerCall: [], callsPerSample: 1, stopReason: .timeout, samplingSeconds: 0)) == nil)
    }

    /// A case with a paired reference gets its comparison in the result, measured after the main
    /// samples; a case without one gets none.
    @Test func runnerMeasuresThePairAfterTheSamples() throws {
        struct Paired: Backend {
            let name = "paired"
            let summary = "paired"
            let capabilities: [Workload: [DType]] = [.qgemv: [.q4_0]]
            let clock: FakeClock
            let withReference: Bool
            func unsupportedReason(_ spec: CaseSpec) -> String? { nil }
            func prepare(_ spec: CaseSpec, context: CaseContext) throws -> any PreparedCase {
                Case(clock: clock, withReference: withReference)
            }
            final class Case: PreparedCase {
                let clock: FakeClock
                let withReference: Bool
                var references = 0
                init(clock: FakeClock, withReference: Bool) {
                    self.clock = clock
                    self.withReference = withReference
                }
                var kernelPath: String { "paired" }
                func poisonOutputs() {}
                func run() { clock.advance(0.25) }
                func check() -> CorrectnessCheck {
                    CorrectnessCheck(metric: "exact", value: 0, toleranceName: "exact", tolerance: 0, elementsChecked: 1, nonFinite: 0)
                }
                var pairedReference: PairedReference? {
                    guard withReference else { return nil }
                    return PairedReference(
                        label: "plain read", work: Work(amount: 1e9, kind: .bytes, rule: "r"),
                        kernelWork: Work(amount: 1e9, kind: .bytes, rule: "k"),
                        run: { [self] in
                            references += 1
                            clock.advance(0.2)
                        })
                }
            }
        }
        let rule = StoppingRule(minSamples: 10, minSeconds: 1, maxNoise: 0.02, timeoutSeconds: 10, warmupSeconds: 0, minSampleSeconds: 0)
        let spec = CaseSpec(workload: .qgemv, backend: "paired", dtype: .q4_0, shape: .quantized(m: 64, n: 1, k: 64, residency: .cold), threads: 1)
        let clock = FakeClock()
        let result = CaseRunner(measurer: Measurer(clock: clock, rule: rule))
            .run(spec, on: Paired(clock: clock, withReference: true), pool: WorkerPool(threadCount: 1))
        let paired = try #require(result.paired)
        #expect(paired.label == "plain read")
        #expect(abs(paired.ratio.median - 0.8) < 1e-12)
        #expect(abs(paired.reference.median - 5) < 1e-12)
        #expect(paired.measurement.kernelSecondsPerCall.count == 10)
        #expect(result.measurement?.secondsPerCall.count == 10)  // the main samples stay the kernel's alone

        let plain = CaseRunner(measurer: Measurer(clock: clock, rule: rule))
            .run(spec, on: Paired(clock: clock, withReference: false), pool: WorkerPool(threadCount: 1))
        #expect(plain.status == .passed && plain.paired == nil)
    }
}

@Suite struct PairedUnitTests {
    /// A case that pairs a smaller unit than its call: the pairs time the unit, the batch size comes
    /// from a warm-up of the unit, at least 6 pairs are taken past the timeout, and one whole call
    /// follows the pairs so that the final check sees a whole call's outputs.
    @Test func unitPairsThenAWholeCallBeforeTheCheck() throws {
        struct Unit: Backend {
            let name = "unit"
            let summary = "unit"
            let capabilities: [Workload: [DType]] = [.llm: [.q4_0]]
            let clock: FakeClock
            func unsupportedReason(_ spec: CaseSpec) -> String? { nil }
            func prepare(_ spec: CaseSpec, context: CaseContext) throws -> any PreparedCase { Case(clock: clock) }
            final class Case: PreparedCase {
                let clock: FakeClock
                var state = "none"
                var units = 0
                init(clock: FakeClock) { self.clock = clock }
                var kernelPath: String { "unit" }
                func poisonOutputs() { state = "poisoned" }
                func run() {
                    clock.advance(8)  // a whole call: 8 units
                    state = "whole"
                }
                func check() -> CorrectnessCheck {
                    CorrectnessCheck(
                        metric: "exact", value: state == "whole" ? 0 : 1, toleranceName: "exact", tolerance: 0, elementsChecked: 1, nonFinite: 0)
                }
                var pairedReference: PairedReference? {
                    PairedReference(
                        label: "unit vs read", work: Work(amount: 2.5e9, kind: .bytes, rule: "r"),
                        kernelWork: Work(amount: 1e9, kind: .bytes, rule: "k"),
                        kernel: { [self] in
                            units += 1
                            clock.advance(0x1p-11)
                            state = "unit"
                        },
                        run: { [self] in clock.advance(0x1p-10) })
                }
            }
        }
        // A timeout shorter than one pair: the minimum of 6 pairs still holds.
        let rule = StoppingRule(minSamples: 1, minSeconds: 0, maxNoise: 0, timeoutSeconds: 0.001, warmupSeconds: 0, minSampleSeconds: 0x1p-9)
        let spec = CaseSpec(workload: .llm, backend: "unit", dtype: .q4_0, shape: .matmul(m: 1, n: 1, k: 1), threads: 1)
        let clock = FakeClock()
        let result = CaseRunner(measurer: Measurer(clock: clock, rule: rule)).run(spec, on: Unit(clock: clock), pool: WorkerPool(threadCount: 1))
        #expect(result.status == .passed, "\(result.reason ?? "")")
        let paired = try #require(result.paired)
        #expect(paired.measurement.kernelSecondsPerCall.count == PairedMeasurement.minimumPairs)
        #expect(paired.measurement.stopReason == .timeout)
        // Batches sized from the faster warm-up call: 2^-9 s / 2^-11 s = 4 units.
        #expect(paired.measurement.callsPerSample == 4)
        #expect(abs(paired.kernel.median - 2048) < 1e-6)  // 1e9 B / 2^-11 s
        #expect(abs(paired.reference.median - 2560) < 1e-6)  // 2.5e9 B / 2^-10 s
        #expect(abs(paired.ratio.median - 0.8) < 1e-9)
    }
}

@Suite struct MedianIntervalTests {
    /// The ranks of the published tables (e.g. n = 100: the 40th and 61st values).
    @Test func ranksMatchTheBinomialTables() throws {
        #expect(Summary.medianInterval(sorted: (1...5).map(Double.init)) == nil)
        for (n, low, high) in [(6, 1, 6), (10, 2, 9), (20, 6, 15), (100, 40, 61)] {
            let interval = try #require(Summary.medianInterval(sorted: (1...n).map(Double.init)))
            #expect(interval.low == Double(low) && interval.high == Double(high), "n = \(n)")
        }
        #expect(Summary.medianInterval(sorted: []) == nil)
    }

    /// For every n, the interval covers the median with probability >= 95%, and one rank narrower
    /// would not (exact binomial sums in Double, fine for n <= 60).
    @Test func coverageIsAtLeastTheLevelAndTight() throws {
        func coverage(_ n: Int, _ l: Int) -> Double {
            // P(l <= B <= n - l) for B ~ Binomial(n, 1/2): the interval [x(l), x(n+1-l)] holds the median.
            var total = 0.0
            var c = 1.0  // C(n, i)
            for i in 0...n {
                if i > 0 { c = c * Double(n - i + 1) / Double(i) }
                if i >= l && i <= n - l { total += c }
            }
            return total / pow(2, Double(n))
        }
        for n in 6...60 {
            let sorted = (1...n).map(Double.init)
            let interval = try #require(Summary.medianInterval(sorted: sorted))
            let l = Int(interval.low)
            #expect(Int(interval.high) == n + 1 - l)
            #expect(coverage(n, l) >= 0.95, "n = \(n)")
            #expect(coverage(n, l + 1) < 0.95, "n = \(n)")
        }
        // Large n stays finite (2^-n underflows a direct sum).
        let big = try #require(Summary.medianInterval(sorted: (1...5000).map(Double.init)))
        #expect(big.low > 2400 && big.high < 2601 && big.low < 2500.5 && big.high > 2500.5)
    }
}
