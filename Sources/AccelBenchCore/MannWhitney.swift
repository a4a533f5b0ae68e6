import Foundation

/// The outcome of a two-sided Mann-Whitney U test (Wilcoxon rank-sum test) between two samples,
/// e.g. the per-sample timings of one benchmark case in two runs.
public struct MannWhitneyResult: Sendable, Equatable, Codable {
    public var n1: Int
    public var n2: Int
    /// U statistic of the first sample: the number of pairs (a_i, b_j) with a_i > b_j, ties counting 1/2.
    /// This is what scipy.stats.mannwhitneyu returns as `statistic`.
    public var u1: Double
    /// min(U1, U2), where U2 = n1 n2 - U1.
    public var u: Double
    /// Two-sided p-value.
    public var pValue: Double
    /// "exact" (no ties and n1, n2 <= `MannWhitney.exactLimit`: exact null distribution of U by dynamic
    /// programming), or "normal" (normal approximation with tie correction and continuity correction, as
    /// scipy.stats.mannwhitneyu(method="asymptotic", use_continuity=True)).
    public var method: String
    /// Common-language effect size U1 / (n1 n2): probability that a value from the first sample exceeds one
    /// from the second (0...1, 0.5 = no shift; ties count 1/2).
    public var effectSize: Double
    /// Hodges-Lehmann estimate of the shift: median of all pairwise differences a_i - b_j (the mean of the two
    /// middle differences when n1 n2 is even, as numpy.median). Negative when the first sample is lower (e.g. faster timings).
    public var hodgesLehmannShift: Double

    public init(
        n1: Int, n2: Int, u1: Double, u: Double, pValue: Double, method: String, effectSize: Double,
        hodgesLehmannShift: Double
    ) {
        self.n1 = n1
        self.n2 = n2
        self.u1 = u1
        self.u = u
        self.pValue = pValue
        self.method = method
        self.effectSize = effectSize
        self.hodgesLehmannShift = hodgesLehmannShift
    }
}

/// The Mann-Whitney U test (Wilcoxon rank-sum test), two-sided, as scipy.stats.mannwhitneyu computes it.
///
/// Method choice: the exact null distribution of U is used when the pooled sample has no ties and both
/// n1, n2 <= `exactLimit` (50). scipy's `method="auto"` uses it only up to n = 8 (for speed); the exact
/// counting below costs at most n1 n2 min(U1, U2) <= 50 x 50 x 1250 additions, so we prefer it wherever it is
/// valid: at the 9-20 samples a benchmark records the normal approximation is far off in the tail (two separated
/// sets of 9: p = 4.1e-4 asymptotic, 4.1e-5 exact). With ties, or with more samples, the normal approximation
/// with tie and continuity correction is used, which is what scipy's "auto" does in those cases too.
///
/// Cost: O((n1 + n2) log(n1 + n2)) time and O(n1 + n2) memory for any n (sorting; no rank or difference
/// matrix is built), plus the exact distribution's O(min(n1, n2) x min(U1, U2)) table when it applies, plus
/// at most 2 x 64 linear passes for the exact Hodges-Lehmann median (see `hodgesLehmann`; no subsampling).
public enum MannWhitney {
    /// The least samples per side the comparison accepts (9, as DESIGN.md / the issue say: a rank test needs
    /// >= 9 repetitions). `test` itself accepts any non-empty samples; callers check this.
    public static let minimumSamples = 9

    /// The largest sample size (per side) for which the exact null distribution is used (when there are no ties).
    public static let exactLimit = 50

    /// The two-sided test of `a` against `b`.
    ///
    /// Returns nil when either side is empty or any value is NaN (or infinite: a timing never is, and
    /// differences of infinities have no median). Callers check `minimumSamples` themselves.
    public static func test(_ a: [Double], _ b: [Double]) -> MannWhitneyResult? {
        guard !a.isEmpty, !b.isEmpty, a.allSatisfy({ $0.isFinite }), b.allSatisfy({ $0.isFinite }) else {
            return nil
        }
        let x = a.sorted()
        let y = b.sorted()
        let n1 = x.count
        let n2 = y.count
        let pairs = Double(n1) * Double(n2)

        // One merge over both sorted samples gives U1 (as an exact integer 2 U1) and the tie groups.
        var twiceU1 = 0
        var tieTerm = 0.0  // sum over tie groups of t^3 - t
        var i = 0
        var j = 0
        while i < n1 || j < n2 {
            let value = j == n2 || (i < n1 && x[i] <= y[j]) ? x[i] : y[j]
            let i0 = i
            while i < n1 && x[i] == value { i += 1 }
            let j0 = j
            while j < n2 && y[j] == value { j += 1 }
            // Every a equal to `value` beats the j0 smaller b's and ties with the (j - j0) equal ones.
            twiceU1 += (i - i0) * (2 * j0 + (j - j0))
            let t = Double(i - i0 + j - j0)
            tieTerm += t * t * t - t
        }
        let u1 = Double(twiceU1) / 2
        let u2 = pairs - u1
        let uMin = Swift.min(u1, u2)
        let hasTies = tieTerm > 0

        let pValue: Double
        let method: String
        if !hasTies && n1 <= exactLimit && n2 <= exactLimit {
            method = "exact"
            pValue = Swift.min(1, 2 * exactCDF(Int(uMin), n1, n2))
        } else {
            method = "normal"
            pValue = normalPValue(uMax: Swift.max(u1, u2), n1, n2, tieTerm: tieTerm)
        }
        return MannWhitneyResult(
            n1: n1, n2: n2, u1: u1, u: uMin, pValue: pValue, method: method, effectSize: u1 / pairs,
            hodgesLehmannShift: hodgesLehmann(sortedA: x, sortedB: y))
    }

    /// P(U <= u) under the null hypothesis with no ties, by the counting recurrence
    /// N(u; m, n) = N(u - n; m - 1, n) + N(u; m, n - 1) (the largest of the m + n values is either an a, which
    /// beats all n b's, or a b), over C(m + n, m) equally likely arrangements. Only u' <= u is tabulated, rows
    /// m' = 0...m, and the n dimension is advanced in place; frequencies are Doubles (C(100, 50) ~ 1e29), and
    /// the recurrence only adds, so there is no cancellation.
    static func exactCDF(_ u: Int, _ n1: Int, _ n2: Int) -> Double {
        guard u >= 0 else { return 0 }
        let m = Swift.min(n1, n2)  // the distribution of U is the same with the samples swapped
        let n = Swift.max(n1, n2)
        if u >= m * n { return 1 }
        let width = u + 1
        // table[m' * width + v] = N(v; m', n') for the current n'; n' = 0: only U = 0.
        var table = [Double](repeating: 0, count: (m + 1) * width)
        for row in 0...m { table[row * width] = 1 }
        if n > 0 && m > 0 {
            for step in 1...n {  // n' - 1 -> n' = step
                guard step <= u else { break }  // shifts beyond u change nothing tabulated
                for row in 1...m {
                    let current = row * width
                    let previous = (row - 1) * width  // already at n' = step
                    for v in step...u {
                        table[current + v] += table[previous + v - step]
                    }
                }
            }
        }
        var count = 0.0
        for v in 0...u { count += table[m * width + v] }
        return Swift.min(1, count / binomial(m + n, m))
    }

    /// C(n, k) as a Double (multiplicative formula; relative error a few ulps).
    static func binomial(_ n: Int, _ k: Int) -> Double {
        let k = Swift.min(k, n - k)
        guard k > 0 else { return k == 0 ? 1 : 0 }
        var result = 1.0
        for i in 1...k {
            result = result * Double(n - k + i) / Double(i)
        }
        return result.rounded()
    }

    /// scipy's asymptotic two-sided p-value: z = (max(U1, U2) - n1 n2 / 2 - 1/2) / sigma with the tie-corrected
    /// sigma^2 = n1 n2 / 12 ((n + 1) - sum(t^3 - t) / (n (n - 1))), and p = 2 (1 - Phi(z)) = erfc(z / sqrt 2),
    /// clipped to 1 (z < 0 when U1 = U2 because of the continuity correction). No spread (all values equal)
    /// gives p = 1.
    static func normalPValue(uMax: Double, _ n1: Int, _ n2: Int, tieTerm: Double) -> Double {
        let pairs = Double(n1) * Double(n2)
        let n = Double(n1 + n2)
        let variance = pairs / 12 * ((n + 1) - tieTerm / (n * (n - 1)))
        guard variance > 0 else { return 1 }
        let z = (uMax - pairs / 2 - 0.5) / variance.squareRoot()
        return Swift.min(1, Swift.max(0, erfc(z / 2.0.squareRoot())))
    }

    /// The Hodges-Lehmann shift: the median of the n1 n2 differences a_i - b_j, found exactly for any size
    /// in O((n1 + n2) x 64) time and O(1) extra memory, without forming the differences: the k-th smallest
    /// difference is the least double d with #{(i, j): a_i - b_j <= d} >= k, found by bisection over the
    /// doubles in their bit order (at most 64 steps), each count a two-pointer walk over the sorted samples.
    /// (Rounding is monotone, so the computed differences fl(a_i - b_j) keep the order this walk needs, and
    /// the result is exactly the median of the differences as computed in Double.)
    static func hodgesLehmann(sortedA x: [Double], sortedB y: [Double]) -> Double {
        let total = x.count * y.count
        if total % 2 == 1 {
            return kthDifference(x, y, (total + 1) / 2)
        }
        let lower = kthDifference(x, y, total / 2)
        let upper = kthDifference(x, y, total / 2 + 1)
        let mean = (lower + upper) / 2  // exactly antisymmetric: swapping the samples negates it
        return mean.isFinite ? mean : lower / 2 + upper / 2
    }

    /// The k-th smallest (1-based) of the differences x_i - y_j of two ascending, finite samples.
    static func kthDifference(_ x: [Double], _ y: [Double], _ k: Int) -> Double {
        var lo = orderKey(x.first! - y.last!)  // the smallest difference
        var hi = orderKey(x.last! - y.first!)  // the largest
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if countDifferences(x, y, atMost: fromOrderKey(mid)) >= k {
                hi = mid
            } else {
                lo = mid + 1
            }
        }
        return fromOrderKey(lo) + 0  // + 0 turns -0 into 0
    }

    /// #{(i, j): x_i - y_j <= d}. For ascending x, the first j with x_i - y_j <= d never moves down as i grows.
    static func countDifferences(_ x: [Double], _ y: [Double], atMost d: Double) -> Int {
        var count = 0
        var j = 0
        for value in x {
            while j < y.count && !(value - y[j] <= d) { j += 1 }
            if j == y.count { break }
            count += y.count - j
        }
        return count
    }

    /// A UInt64 whose unsigned order is the numeric order of non-NaN doubles (-0 just below +0).
    static func orderKey(_ d: Double) -> UInt64 {
        let bits = d.bitPattern
        return bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
    }

    static func fromOrderKey(_ key: UInt64) -> Double {
        Double(bitPattern: key & (1 << 63) != 0 ? key & ~(1 << 63) : ~key)
    }
}
