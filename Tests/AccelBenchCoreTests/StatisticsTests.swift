import Testing
@testable import AccelBenchCore

@Suite struct StatisticsTests {
    @Test func quantilesInterpolateLikeNumpy() {
        let s = Summary([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
        #expect(s.n == 10)
        #expect(s.median == 5.5)
        #expect(abs(s.p5 - 1.45) < 1e-12)
        #expect(abs(s.p95 - 9.55) < 1e-12)
        #expect(s.p25 == 3.25)
        #expect(s.p75 == 7.75)
        #expect(s.iqr == 4.5)
        #expect(s.min == 1 && s.max == 10)
        #expect(abs(s.mean - 5.5) < 1e-12)
    }

    @Test func spreadMeasures() {
        let s = Summary([10, 10, 10, 10])
        #expect(s.stddev == 0 && s.cv == 0 && s.robustCV == 0)
        // One outlier inflates cv but not the IQR-based robust spread.
        let noisy = Summary([100, 101, 99, 100, 102, 98, 100, 300])
        #expect(noisy.cv > 0.4)
        #expect(noisy.robustCV < 0.02)
        // Two clusters of timings are noise, even when one cluster holds the median.
        #expect(Summary([1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2]).robustCV > 0.5)
        let single = Summary([3])
        #expect(single.median == 3 && single.stddev == 0 && single.p5 == 3 && single.p95 == 3)
    }
}
