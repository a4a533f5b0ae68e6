import AccelBenchCore

/// Float64 reference for the fp32 GEMM, and the error measure the tests and the benchmark's
/// correctness check use.
///
/// Error measure: for each checked element, `|c - ref| / (u * sum_p |a_ip * b_pj|)`, with u = 2^-24 the
/// fp32 unit roundoff and `ref` the product computed in Float64 from the same Float inputs. Any fp32
/// GEMM that forms each element as a sum of k products in some order, rounding each step to fp32
/// (with or without fused multiply-adds), satisfies `|c - ref| <= gamma(k+1) * sum |a||b|`, so this
/// scaled error is at most about k + 1 (`errorBound(k:)`) whatever the blocking; typical values are
/// near sqrt(k). A wrong or missing term costs about 1/(k u) = 2^24 / k, far above the bound for the
/// sizes the tests use, and NaN (an element never written) fails every comparison.
public enum ReferenceGEMM {
    /// fp32 unit roundoff, 2^-24.
    public static let unitRoundoff: Double = 0x1p-24

    /// The largest scaled error (see the type's documentation) a correct fp32 GEMM with inner dimension
    /// k may show: k + 2 (gamma(k+1) with one unit of slack).
    public static func errorBound(k: Int) -> Double { Double(k + 2) }

    /// C (m x n, row stride ldc) = A x B computed in Float64 from Float inputs (i-p-j loop order).
    public static func dgemm(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        for i in 0..<m {
            let row = c + i * ldc
            row.update(repeating: 0, count: n)
            for p in 0..<k {
                let aip = Double(a[i * lda + p])
                let bRow = b + p * ldb
                for j in 0..<n { row[j] += aip * Double(bRow[j]) }
            }
        }
    }

    /// Element (i, j) of A x B in Float64 and `sum_p |a_ip * b_pj|`.
    public static func element(
        i: Int, j: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int
    ) -> (value: Double, magnitude: Double) {
        var value = 0.0, magnitude = 0.0
        for p in 0..<k {
            let product = Double(a[i * lda + p]) * Double(b[p * ldb + j])
            value += product
            magnitude += abs(product)
        }
        return (value, magnitude)
    }

    /// The scaled error of one computed element against its reference.
    public static func scaledError(computed: Float, value: Double, magnitude: Double) -> Double {
        let error = abs(Double(computed) - value)
        if magnitude == 0 { return error == 0 ? 0 : .infinity }  // NaN stays NaN through abs and ==
        return error / (unitRoundoff * magnitude)
    }

    /// The largest scaled error of C against A x B, over every element (`samples` nil) or over
    /// `samples` elements picked by a fixed-seed generator (for large shapes). NaN if any checked
    /// element is NaN.
    public static func maxScaledError(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafePointer<Float>, ldc: Int, samples: Int? = nil, seed: UInt64 = 0x5EED
    ) -> Double {
        guard m > 0, n > 0 else { return 0 }
        var worst = 0.0
        func check(_ i: Int, _ j: Int) {
            let (value, magnitude) = element(i: i, j: j, k: k, a: a, lda: lda, b: b, ldb: ldb)
            let error = scaledError(computed: c[i * ldc + j], value: value, magnitude: magnitude)
            if error.isNaN || error > worst { worst = error.isNaN ? .nan : max(worst, error) }
        }
        if let samples {
            var rng = SeededGenerator(seed: seed)
            for _ in 0..<samples {
                let z = rng.next()
                check(Int(z % UInt64(m)), Int((z >> 32) % UInt64(n)))
                if worst.isNaN { return worst }
            }
        } else {
            for i in 0..<m {
                for j in 0..<n {
                    check(i, j)
                    if worst.isNaN { return worst }
                }
            }
        }
        return worst
    }
}
