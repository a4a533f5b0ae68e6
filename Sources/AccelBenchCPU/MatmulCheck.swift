import AccelBenchCore
import AccelBenchKernels

/// Correctness of a matmul output against a float64 reference, on a sample of elements.
///
/// Error measure (`max_rel_err`): for each sampled element, |c_ij - ref_ij| / Σ_k |a_ik·b_kj|, the
/// componentwise relative error normalised by the absolute product sum, so it is meaningful for
/// elements whose exact value is near zero. Every output element is also scanned for NaN/Inf (outputs
/// are poisoned with NaN before the run, so an unwritten element fails).
///
/// Tolerance `fp32-accumulate 4·u·√K` (u = 2^-24): measured against the absolute product sum, fp32
/// accumulation of K random-signed products (any blocking order) stays near u; u·√K is the usual
/// probabilistic bound and 4 the margin. A dropped product (a real bug) costs about 1/K, at least twice
/// the tolerance for every K up to 16384.
struct MatmulCheck {
    let m: Int, n: Int, k: Int
    /// Row-major inputs as Float (for bf16 cases: the bf16 values widened exactly).
    let a: UnsafePointer<Float>
    let b: UnsafePointer<Float>
    let samples: [(Int, Int)]

    init(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, sampleCount: Int, seed: UInt64) {
        self.m = m
        self.n = n
        self.k = k
        self.a = a
        self.b = b
        var positions: [(Int, Int)] = []
        if m * n <= sampleCount {
            for i in 0..<m { for j in 0..<n { positions.append((i, j)) } }
        } else {
            // Corners and edges always (edge tiles are where blocked kernels go wrong), then random.
            positions = [(0, 0), (0, n - 1), (m - 1, 0), (m - 1, n - 1), (m / 2, n / 2)]
            var rng = SeededGenerator(seed: seed ^ 0xC0FFEE)
            while positions.count < sampleCount {
                positions.append((Int(rng.next() % UInt64(m)), Int(rng.next() % UInt64(n))))
            }
        }
        samples = positions
    }

    static func tolerance(k: Int) -> (name: String, value: Double) {
        ("fp32-accumulate 4·u·√K", 4 * 0x1p-24 * Double(k).squareRoot())
    }

    func check(c: UnsafePointer<Float>, ldc: Int) -> CorrectnessCheck {
        var nonFinite = 0
        for i in 0..<m {
            let row = c + i * ldc
            for j in 0..<n where !row[j].isFinite { nonFinite += 1 }
        }
        var worst = 0.0
        for (i, j) in samples {
            let (exact, magnitude) = ReferenceGEMM.element(i: i, j: j, k: k, a: a, lda: k, b: b, ldb: n)
            let got = Double(c[i * ldc + j])
            guard got.isFinite else { continue }
            let error = magnitude > 0 ? abs(got - exact) / magnitude : abs(got - exact)
            worst = max(worst, error)
        }
        let tolerance = MatmulCheck.tolerance(k: k)
        return CorrectnessCheck(
            metric: "max_rel_err", value: worst, toleranceName: tolerance.name, tolerance: tolerance.value,
            elementsChecked: m * n, nonFinite: nonFinite)
    }
}

/// The buffers of one matmul case: seeded random A (MxK) and B (KxN) in [-1, 1), output C (MxN).
final class MatmulBuffers {
    let m: Int, n: Int, k: Int
    let a: AlignedBuffer<Float>
    let b: AlignedBuffer<Float>
    let c: AlignedBuffer<Float>
    let checker: MatmulCheck

    /// - Parameter roundToBF16: rounds the inputs to bf16 values first, so the fp32 copies equal what a
    ///   bf16 kernel sees.
    init(m: Int, n: Int, k: Int, seed: UInt64, checkSamples: Int, roundToBF16: Bool = false) {
        self.m = m
        self.n = n
        self.k = k
        a = AlignedBuffer(count: m * k)
        b = AlignedBuffer(count: k * n)
        c = AlignedBuffer(count: m * n)
        var rng = SeededGenerator(seed: seed)
        rng.fill(a.pointer, count: m * k)
        rng.fill(b.pointer, count: k * n)
        if roundToBF16 {
            for i in 0..<(m * k) { a[i] = BFloat16.rounded(a[i]) }
            for i in 0..<(k * n) { b[i] = BFloat16.rounded(b[i]) }
        }
        checker = MatmulCheck(m: m, n: n, k: k, a: a.pointer, b: b.pointer, sampleCount: checkSamples, seed: seed)
    }

    func poison() {
        c.pointer.update(repeating: .nan, count: m * n)
    }

    func check() -> CorrectnessCheck {
        checker.check(c: c.pointer, ldc: n)
    }

    /// A and B as bf16 bit patterns (exact when the buffers were made with `roundToBF16`).
    func bf16Inputs() -> (a: AlignedBuffer<UInt16>, b: AlignedBuffer<UInt16>) {
        let a16 = AlignedBuffer<UInt16>(count: m * k), b16 = AlignedBuffer<UInt16>(count: k * n)
        for i in 0..<a16.count { a16[i] = BFloat16.bits(a[i]) }
        for i in 0..<b16.count { b16[i] = BFloat16.bits(b[i]) }
        return (a16, b16)
    }
}

/// bf16 conversions used to build inputs (round to nearest even, as hardware converts).
enum BFloat16 {
    static func bits(_ value: Float) -> UInt16 {
        let x = value.bitPattern
        if value.isNaN { return UInt16(x >> 16) | 0x40 }
        let rounding = 0x7FFF + ((x >> 16) & 1)
        return UInt16((x &+ rounding) >> 16)
    }

    static func float(_ bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    static func rounded(_ value: Float) -> Float {
        float(bits(value))
    }
}
