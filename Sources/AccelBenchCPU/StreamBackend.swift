import AccelBenchCore
import CKernels

/// STREAM (McCalpin) kernels on fp64 arrays, split evenly across the case's workers.
///
/// Arrays are first touched by the worker that later streams them (so pages land on its NUMA node),
/// and each should be at least 4x the last-level cache so the figures are DRAM bandwidth, not cache.
public struct StreamBackend: Backend {
    public let name = "c"
    public let summary = "C STREAM kernels (copy, scale, add, triad, read-only sum), fp64, split across threads"
    public let capabilities: [Workload: [DType]] = [.stream: [.fp64]]

    public init() {}

    public func unsupportedReason(_ spec: CaseSpec) -> String? {
        spec.workload == .stream && spec.dtype == .fp64 ? nil : "backend c implements the fp64 stream workload only"
    }

    public func prepare(_ spec: CaseSpec, context: CaseContext) throws -> any PreparedCase {
        guard case let .stream(kernel, elements) = spec.shape else {
            throw AccelBenchError(.unsupportedCase, "c: not a stream shape")
        }
        return StreamCase(kernel: kernel, elements: elements, pool: context.pool, seed: context.seed)
    }
}

final class StreamCase: PreparedCase {
    static let scalar = 3.0
    let kernel: StreamKernel
    let elements: Int
    let pool: WorkerPool
    /// Inputs and outputs by role: `x = y (op) z`.
    let arrays: [AlignedBuffer<Double>]
    /// Per-worker partial sums of the read kernel.
    let partialSums: AlignedBuffer<Double>
    var kernelPath: String { "ckernels_stream_\(kernel.rawValue), \(pool.threadCount) thread(s)" }

    init(kernel: StreamKernel, elements: Int, pool: WorkerPool, seed: UInt64) {
        self.kernel = kernel
        self.elements = elements
        self.pool = pool
        arrays = (0..<kernel.arrays).map { _ in AlignedBuffer<Double>(count: elements) }
        partialSums = AlignedBuffer(count: pool.threadCount * 8)
        // First touch by the streaming worker, with seeded values per chunk.
        let addresses = arrays.map { UInt(bitPattern: $0.pointer) }
        let count = elements
        pool.run { worker in
            let range = WorkerPool.chunk(worker, of: pool.threadCount, count: count)
            for (index, address) in addresses.enumerated() {
                let base = UnsafeMutablePointer<Double>(bitPattern: address)! + range.lowerBound
                var rng = SeededGenerator(seed: seed &+ UInt64(index) &* 0x9E37 &+ UInt64(range.lowerBound))
                rng.fill(base, count: range.count)
            }
        }
    }

    /// The output array (nil for the read kernel, whose output is a sum).
    private var output: AlignedBuffer<Double>? { kernel == .read ? nil : arrays[0] }

    func poisonOutputs() {
        if let output { output.pointer.update(repeating: .nan, count: elements) }
        partialSums.pointer.update(repeating: .nan, count: partialSums.count)
    }

    func run() {
        let p = arrays.map { UInt(bitPattern: $0.pointer) }
        let sums = UInt(bitPattern: partialSums.pointer)
        let kernel = self.kernel, count = elements, threads = pool.threadCount, q = StreamCase.scalar
        pool.run { worker in
            let range = WorkerPool.chunk(worker, of: threads, count: count)
            let n = range.count
            func at(_ i: Int) -> UnsafeMutablePointer<Double> {
                UnsafeMutablePointer<Double>(bitPattern: p[i])! + range.lowerBound
            }
            switch kernel {
            case .copy: ckernels_stream_copy(at(0), at(1), n)
            case .scale: ckernels_stream_scale(at(0), at(1), q, n)
            case .add: ckernels_stream_add(at(0), at(1), at(2), n)
            case .triad: ckernels_stream_triad(at(0), at(1), at(2), q, n)
            case .read:
                UnsafeMutablePointer<Double>(bitPattern: sums)![worker * 8] = ckernels_stream_read(at(0), n)
            }
        }
    }

    /// Element-wise kernels: |x - expected| / (sum of the operands' magnitudes) <= 2u, which holds
    /// whether or not the compiler fused the triad's multiply-add; the
    /// read-only sum is compared with a float64 sum within n·u relative to the sum of magnitudes.
    func check() -> CorrectnessCheck {
        if kernel == .read {
            var exact = 0.0, magnitude = 0.0, compensation = 0.0
            let a = arrays[0].pointer
            for i in 0..<elements {  // Kahan-compensated reference sum
                let y = a[i] - compensation
                let t = exact + y
                compensation = (t - exact) - y
                exact = t
                magnitude += abs(a[i])
            }
            var got = 0.0, nonFinite = 0
            for w in 0..<pool.threadCount {
                let s = partialSums[w * 8]
                if s.isFinite { got += s } else { nonFinite += 1 }
            }
            let tolerance = Double(elements) * 0x1p-53
            return CorrectnessCheck(
                metric: "rel_err_sum", value: magnitude > 0 ? abs(got - exact) / magnitude : abs(got - exact),
                toleranceName: "fp64-sum n·u", tolerance: tolerance, elementsChecked: pool.threadCount,
                nonFinite: nonFinite)
        }
        let x = arrays[0].pointer
        let y = arrays.count > 1 ? arrays[1].pointer : x
        let z = arrays.count > 2 ? arrays[2].pointer : x
        let q = StreamCase.scalar
        var worst = 0.0, nonFinite = 0
        for i in 0..<elements {
            let (expected, magnitude): (Double, Double) =
                switch kernel {
                case .copy: (y[i], abs(y[i]))
                case .scale: (q * y[i], abs(q * y[i]))
                case .add: (y[i] + z[i], abs(y[i]) + abs(z[i]))
                case .triad: (y[i] + q * z[i], abs(y[i]) + abs(q * z[i]))
                case .read: (0, 0)
                }
            let got = x[i]
            if !got.isFinite { nonFinite += 1; continue }
            worst = max(worst, abs(got - expected) / max(magnitude, .leastNormalMagnitude))
        }
        return CorrectnessCheck(
            metric: "max_rel_err", value: worst, toleranceName: "fp64 one rounding (u = 2^-53)", tolerance: 0x1p-52,
            elementsChecked: elements, nonFinite: nonFinite)
    }
}
