import Foundation

/// Order statistics and spread of a set of samples (e.g. seconds per call, or GFLOPS per sample).
public struct Summary: Codable, Sendable, Equatable {
    public let n: Int
    public let median: Double
    public let mean: Double
    public let min: Double
    public let max: Double
    public let p5: Double
    public let p25: Double
    public let p75: Double
    public let p95: Double
    /// Sample standard deviation (n - 1).
    public let stddev: Double
    /// Coefficient of variation, stddev / mean (0...; a fraction, not a percentage).
    public let cv: Double
    /// Robust relative spread: IQR / (1.349 x median), which equals the CV for normally distributed
    /// samples but is not inflated by the few slow outliers a shared machine produces, and (unlike a
    /// MAD) still sees two clusters of timings.
    public let robustCV: Double

    public var iqr: Double { p75 - p25 }

    public init(_ samples: [Double]) {
        precondition(!samples.isEmpty, "Summary of no samples")
        let sorted = samples.sorted()
        n = sorted.count
        median = Summary.quantile(sorted, 0.5)
        mean = sorted.reduce(0, +) / Double(n)
        min = sorted.first!
        max = sorted.last!
        p5 = Summary.quantile(sorted, 0.05)
        p25 = Summary.quantile(sorted, 0.25)
        p75 = Summary.quantile(sorted, 0.75)
        p95 = Summary.quantile(sorted, 0.95)
        if n > 1 {
            let m = mean
            let variance = sorted.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n - 1)
            stddev = variance.squareRoot()
        } else {
            stddev = 0
        }
        cv = mean != 0 ? stddev / abs(mean) : 0
        robustCV = Summary.robustCV(sorted: sorted)
    }

    /// IQR / (1.349 x median) of already sorted samples (see `robustCV`).
    public static func robustCV(sorted: [Double]) -> Double {
        let median = quantile(sorted, 0.5)
        return median != 0 ? (quantile(sorted, 0.75) - quantile(sorted, 0.25)) / (1.349 * abs(median)) : 0
    }

    /// A distribution-free confidence interval for the median of the population the samples come
    /// from: the order statistics x(l) and x(n+1-l) with the largest l such that a Binomial(n, 1/2)
    /// count falls below l with probability at most (1 - level)/2, so the interval covers the median
    /// with probability >= `level` whatever the distribution. Nil when no such l exists (n < 6 at 95%).
    public static func medianInterval(sorted: [Double], level: Double = 0.95) -> (low: Double, high: Double)? {
        let n = sorted.count
        guard n > 0, level > 0, level < 1 else { return nil }
        let tail = (1 - level) / 2
        // P(B <= i), each term in log space (n can be in the thousands, where 2^-n underflows):
        // log P(B = i+1) = log P(B = i) + log((n - i) / (i + 1)).
        var logPMF = Double(n) * log(0.5)
        var cdf = 0.0
        var l = 0  // the count of order statistics left out on each side
        for i in 0..<n {
            if i > 0 { logPMF += log(Double(n - i + 1) / Double(i)) }
            cdf += exp(logPMF)
            if cdf > tail { break }
            l = i + 1
        }
        guard l >= 1, l <= n - l else { return nil }
        return (sorted[l - 1], sorted[n - l])
    }

    /// Linear interpolation between closest ranks (type 7, as numpy's default and R's default).
    public static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        precondition(!sorted.isEmpty && (0...1).contains(q))
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = Swift.min(lower + 1, sorted.count - 1)
        let fraction = position - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }
}
