import Foundation
import Testing
@testable import AccelBenchCore

/// Reference values from scipy 1.17.1 (numpy 2.4.6):
///   scipy.stats.mannwhitneyu(a, b, alternative="two-sided", method="exact")       -> "exact" cases
///   scipy.stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic")  -> "normal" cases
///     (use_continuity=True, the default)
/// `statistic` is U1; Hodges-Lehmann references are numpy.median(numpy.subtract.outer(a, b)).
@Suite struct MannWhitneyTests {
    /// The same data in Python: x = (1103515245 * x + 12345) % 2**31; value = (x % 100000) / 1000.0 + offset.
    static func lcg(seed: Int, count: Int, offset: Double) -> [Double] {
        var x = seed
        var out: [Double] = []
        for _ in 0..<count {
            x = (1_103_515_245 * x + 12345) % (1 << 31)
            out.append(Double(x % 100_000) / 1000.0 + offset)
        }
        return out
    }

    static func close(_ actual: Double, _ expected: Double, relative: Double = 1e-9) -> Bool {
        if actual == expected { return true }
        return abs(actual - expected) <= relative * Swift.max(abs(actual), abs(expected))
    }

    func check(
        _ a: [Double], _ b: [Double], u1: Double, p: Double, method: String, hl: Double? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let r = MannWhitney.test(a, b) else {
            Issue.record("no result", sourceLocation: sourceLocation)
            return
        }
        #expect(r.n1 == a.count && r.n2 == b.count, sourceLocation: sourceLocation)
        #expect(r.u1 == u1, sourceLocation: sourceLocation)
        #expect(r.u == Swift.min(u1, Double(a.count * b.count) - u1), sourceLocation: sourceLocation)
        #expect(r.method == method, sourceLocation: sourceLocation)
        #expect(Self.close(r.pValue, p), "p = \(r.pValue), scipy \(p)", sourceLocation: sourceLocation)
        #expect(r.effectSize == u1 / Double(a.count * b.count), sourceLocation: sourceLocation)
        if let hl {
            #expect(Self.close(r.hodgesLehmannShift, hl, relative: 1e-12), "HL = \(r.hodgesLehmannShift), numpy \(hl)",
                    sourceLocation: sourceLocation)
        }
    }

    // MARK: scipy references, exact method (no ties, n <= 50)

    @Test func exactSeparated() {
        // a = 11...19, b = 1...9: U1 = 81, p = 2 / C(18, 9)
        check((11...19).map(Double.init), (1...9).map(Double.init), u1: 81, p: 4.113533525298231e-05, method: "exact", hl: 10)
        #expect(Self.close(MannWhitney.test((11...19).map(Double.init), (1...9).map(Double.init))!.pValue, 2.0 / 48620))
    }

    @Test func exactInterleaved() {
        // a = 1, 3, ..., 17; b = 2, 4, ..., 18
        check(stride(from: 1.0, through: 17, by: 2).map { $0 }, stride(from: 2.0, through: 18, by: 2).map { $0 },
              u1: 36, p: 0.7304401480872068, method: "exact", hl: -1)
    }

    @Test func exactShifted() {
        let a = [1.2, 2.9, 3.4, 4.8, 5.1, 6.6, 7.7, 8.3, 9.5]
        let b = a.map { $0 + 2.05 }
        check(a, b, u1: 23, p: 0.13591114767585355, method: "exact", hl: -2.05)
    }

    @Test func exactUnequalSizes() {
        // a = lcg(1, 9, 0.5), b = lcg(2, 20, 0.0): 9 vs 20, no ties
        check(Self.lcg(seed: 1, count: 9, offset: 0.5), Self.lcg(seed: 2, count: 20, offset: 0),
              u1: 21, p: 0.000576734609718118, method: "exact", hl: -40.6245)
    }

    @Test func exactAtTheLimit() {
        // a = lcg(5, 50, 3.0), b = lcg(6, 50, 0.0): 50 vs 50, no ties. (Exact rational arithmetic in Python gives
        // 0.32741266657932355; scipy's float recurrence 0.32741266657932055.)
        check(Self.lcg(seed: 5, count: 50, offset: 3), Self.lcg(seed: 6, count: 50, offset: 0),
              u1: 1107, p: 0.32741266657932055, method: "exact", hl: -5.995999999999999)
    }

    @Test func exactAtTheCentreIsOne() {
        // U1 = U2 = 8 = n1 n2 / 2: 2 P(U <= 8) > 1, clipped as scipy does
        check([1, 4, 5, 8], [2, 3, 6, 7], u1: 8, p: 1.0, method: "exact", hl: 0)
    }

    // MARK: scipy references, normal approximation

    @Test func normalWithTies() {
        check([1, 2, 2, 3, 3, 3, 4, 5, 6], [2, 3, 4, 4, 5, 5, 6, 7, 8], u1: 20, p: 0.073875603282921, method: "normal", hl: -2)
    }

    @Test func normalAllEqual() {
        check([Double](repeating: 5, count: 9), [Double](repeating: 5, count: 9), u1: 40.5, p: 1.0, method: "normal", hl: 0)
    }

    @Test func normalOneSampleContainsTheOther() {
        // a = 1...20, b = 5...13
        check((1...20).map(Double.init), (5...13).map(Double.init), u1: 103.5, p: 0.5395416521774945, method: "normal", hl: 1.5)
    }

    @Test func normalLarge() {
        // a = lcg(3, 200, 0.0), b = lcg(4, 200, 5.0) (has ties)
        check(Self.lcg(seed: 3, count: 200, offset: 0), Self.lcg(seed: 4, count: 200, offset: 5),
              u1: 18929, p: 0.35448568589662044, method: "normal", hl: -2.7470000000000034)
        // a = lcg(9, 200, 0.0), b = lcg(10, 200, 20.0)
        check(Self.lcg(seed: 9, count: 200, offset: 0), Self.lcg(seed: 10, count: 200, offset: 20),
              u1: 12665, p: 2.2396404797227327e-10, method: "normal", hl: -20.72)
        // a = lcg(11, 200, 0.0), b = lcg(12, 200, 200.0): no ties but n > 50, far tail of the normal
        check(Self.lcg(seed: 11, count: 200, offset: 0), Self.lcg(seed: 12, count: 200, offset: 200),
              u1: 0, p: 4.830856390397399e-67, method: "normal", hl: -202.13400000000001)
    }

    @Test func normalTenThousandPerSide() {
        // a = lcg(7, 10000, 0.2), b = lcg(8, 10000, 0.0)
        let a = Self.lcg(seed: 7, count: 10_000, offset: 0.2)
        let b = Self.lcg(seed: 8, count: 10_000, offset: 0)
        // 10^8 pairwise differences: the Hodges-Lehmann shift comes from exact selection, not a subsample.
        check(a, b, u1: 50_332_338, p: 0.4156237851323794, method: "normal", hl: 0.3329999999999984)
        // It is the median by counting, too: at least half the differences are <= it, and fewer lie below it.
        let x = a.sorted(), y = b.sorted()
        let hl = MannWhitney.test(a, b)!.hodgesLehmannShift
        #expect(MannWhitney.countDifferences(x, y, atMost: hl) >= 50_000_000)
        #expect(MannWhitney.countDifferences(x, y, atMost: hl.nextDown) < 50_000_001)
    }

    // MARK: properties

    @Test func rejectsEmptyAndNaN() {
        #expect(MannWhitney.test([], [1, 2]) == nil)
        #expect(MannWhitney.test([1, 2], []) == nil)
        #expect(MannWhitney.test([1, .nan, 3], [1, 2]) == nil)
        #expect(MannWhitney.test([1, 2], [.nan]) == nil)
        #expect(MannWhitney.test([1, 2], [.infinity]) == nil)
        #expect(MannWhitney.test([1], [2]) != nil)
        #expect(MannWhitney.minimumSamples == 9)
    }

    @Test func symmetryAndRanges() {
        var rng = SeededGenerator(seed: 42)
        for trial in 0..<60 {
            let n1 = Int.random(in: 1...70, using: &rng)
            let n2 = Int.random(in: 1...70, using: &rng)
            // Every third trial rounds to produce ties.
            let grid = trial % 3 == 0 ? 4.0 : 1e6
            let shift = Double.random(in: -1...1, using: &rng)
            let a = (0..<n1).map { _ in (Double.random(in: 0...1, using: &rng) * grid).rounded() / grid + shift }
            let b = (0..<n2).map { _ in (Double.random(in: 0...1, using: &rng) * grid).rounded() / grid }
            let ab = MannWhitney.test(a, b)!
            let ba = MannWhitney.test(b, a)!
            #expect(ab.u1 + ba.u1 == Double(n1 * n2))
            #expect(ab.u == ba.u)
            #expect(ab.pValue == ba.pValue)
            #expect(ab.method == ba.method)
            #expect((0...1).contains(ab.pValue))
            #expect((0...1).contains(ab.effectSize))
            #expect(ab.hodgesLehmannShift == -ba.hodgesLehmannShift)
            // U1 by its definition
            var twice = 0
            for x in a { for y in b { twice += x > y ? 2 : (x == y ? 1 : 0) } }
            #expect(ab.u1 == Double(twice) / 2)
            // Hodges-Lehmann by brute force
            let d = a.flatMap { x in b.map { y in x - y } }.sorted()
            let median = d.count % 2 == 1 ? d[d.count / 2] : (d[d.count / 2 - 1] + d[d.count / 2]) / 2
            #expect(ab.hodgesLehmannShift == median + 0)
        }
    }

    @Test func exactDistributionMatchesEnumeration() {
        // P(U <= u) against all C(m + n, m) arrangements, for every m, n <= 6.
        for m in 1...6 {
            for n in 1...6 {
                var counts = [Int](repeating: 0, count: m * n + 1)
                for mask in 0..<(1 << (m + n)) where mask.nonzeroBitCount == m {
                    // bit k set: the k-th smallest value belongs to the first sample; U = sum over a's of b's below.
                    var u = 0, bsBelow = 0
                    for k in 0..<(m + n) {
                        if mask & (1 << k) != 0 { u += bsBelow } else { bsBelow += 1 }
                    }
                    counts[u] += 1
                }
                let total = Double(counts.reduce(0, +))
                var cumulative = 0
                for u in 0...(m * n) {
                    cumulative += counts[u]
                    #expect(Self.close(MannWhitney.exactCDF(u, m, n), Double(cumulative) / total, relative: 1e-14),
                            "m \(m) n \(n) u \(u)")
                }
            }
        }
        #expect(MannWhitney.binomial(18, 9) == 48620)
        #expect(MannWhitney.binomial(100, 50) > 1e29)
    }

    @Test func clearShiftIsSignificant() {
        let base: [Double] = [10.1, 10.3, 9.9, 10.0, 10.2, 10.4, 9.8, 10.05, 10.15]
        let slower = base.map { $0 * 1.05 }
        let r = MannWhitney.test(base, slower)!
        #expect(r.pValue < 0.01)
        #expect(r.effectSize < 0.2)
        #expect(r.hodgesLehmannShift < 0)
        let same = MannWhitney.test(base, base)!
        #expect(same.pValue == 1 && same.effectSize == 0.5 && same.hodgesLehmannShift == 0)
    }

    @Test func hodgesLehmannOfAShiftedCopy() {
        let b: [Double] = [1.5, 2.25, 3.75, 4.0, 5.5, 6.125, 7.0, 8.5, 9.25]
        let a = b.map { $0 + 3 }
        let r = MannWhitney.test(a, b)!
        #expect(r.hodgesLehmannShift == 3)
        var rng = SeededGenerator(seed: 7)
        let c = (0..<40).map { _ in Double.random(in: 0.001...0.002, using: &rng) }
        #expect(abs(MannWhitney.test(c.map { $0 + 3 }, c)!.hodgesLehmannShift - 3) < 1e-12)
        #expect(abs(MannWhitney.test(c, c.map { $0 + 3 })!.hodgesLehmannShift + 3) < 1e-12)
    }

    @Test func codableRoundTrip() throws {
        let r = MannWhitney.test([1, 2, 3, 4, 5, 6, 7, 8, 9], [2, 3, 4, 5, 6, 7, 8, 9, 10.5])!
        let data = try JSONEncoder().encode(r)
        #expect(try JSONDecoder().decode(MannWhitneyResult.self, from: data) == r)
    }
}
