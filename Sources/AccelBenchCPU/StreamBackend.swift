import AccelBenchCore
import CKernels

/// STREAM (McCalpin) kernels on fp64 arrays, split evenly across the case's workers.
///
/// Arrays are first touched by the worker that later streams them (so pages land on its NUMA node),
/// on transparent huge pages where the kernel grants them (as the quantized kernels' weights are).
/// Arrays should be at least 4x the last-level cache so the figures are DRAM bandwidth; smaller
/// shapes rotate through enough copies of their arrays to exceed that, one copy per call.
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
        let bytesPerCopy = kernel.arrays * elements * 8
        let copies = max(1, (4 * context.lastLevelCacheBytes + bytesPerCopy - 1) / bytesPerCopy)
        return StreamCase(kernel: kernel, elements: elements, copies: copies, pool: context.pool, seed: context.seed)
    }
}

final class StreamCase: PreparedCase {
    static let scalar = 3.0
    let kernel: StreamKernel
    let elements: Int
    /// Copies of the arrays the calls rotate through (1 when the arrays exceed the cache by themselves).
    let copies: Int
    /// Elements between copies (rounded up to a cache line).
    let stride: Int
    let pool: WorkerPool
    /// One buffer per role, `x = y (op) z`, each holding `copies` copies.
    let arrays: [AlignedBuffer<Double>]
    /// Per-worker partial sums of the read kernel (a cache line apart).
    let partialSums: AlignedBuffer<Double>
    /// The copy the next call uses, and the one the last call used.
    private var nextCopy = 0
    private var lastCopy = 0

    var kernelPath: String {
        "ckernels_stream_\(kernel.rawValue), \(pool.threadCount) thread(s)" + (copies > 1 ? ", rotating \(copies) copies" : "")
    }

    init(kernel: StreamKernel, elements: Int, copies: Int, pool: WorkerPool, seed: UInt64) {
        self.kernel = kernel
        self.elements = elements
        self.copies = copies
        stride = (elements + 7) / 8 * 8
        self.pool = pool
        arrays = (0..<kernel.arrays).map { _ in AlignedBuffer<Double>(count: copies * ((elements + 7) / 8 * 8), hugePages: true) }
        partialSums = AlignedBuffer(count: pool.threadCount * 8)
        // First touch by the streaming worker, with seeded values per chunk.
        let addresses = arrays.map { UInt(bitPattern: $0.pointer) }
        let (count, stride, copies) = (elements, self.stride, copies)
        pool.run { worker in
            let range = WorkerPool.chunk(worker, of: pool.threadCount, count: count)
            for copy in 0..<copies {
                for (index, address) in addresses.enumerated() {
                    let base = UnsafeMutablePointer<Double>(bitPattern: address)! + copy * stride + range.lowerBound
                    var rng = SeededGenerator(seed: seed &+ UInt64(index) &* 0x9E37 &+ UInt64(range.lowerBound))
                    rng.fill(base, count: range.count)
                }
            }
        }
    }

    func poisonOutputs() {
        if kernel != .read { arrays[0].pointer.update(repeating: .nan, count: arrays[0].count) }
        partialSums.pointer.update(repeating: .nan, count: partialSums.count)
    }

    func run() {
        let offset = nextCopy * stride
        lastCopy = nextCopy
        nextCopy = (nextCopy + 1) % copies
        let p = arrays.map { UInt(bitPattern: $0.pointer + offset) }
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

    /// Checks the copy the last call used. Element-wise kernels: |x - expected| / (sum of the operands'
    /// magnitudes) <= 2u, which holds whether or not the compiler fused the triad's multiply-add; the
    /// read-only sum is compared with a compensated float64 sum within n·u relative to the sum of magnitudes.
    func check() -> CorrectnessCheck {
        let offset = lastCopy * stride
        if kernel == .read {
            var exact = 0.0, magnitude = 0.0, compensation = 0.0
            let a = arrays[0].pointer + offset
            for i in 0..<elements {  // Kahan-compensated reference sum
                let y = a[i] - compensation
                let t = exact + y
                compensation = (t - exact) - y
                exact = t
                magnitude += abs(a[i])
            }
            var got = 0.0, nonFinite = 0
            for w in 0..<pool.threadCount where !WorkerPool.chunk(w, of: pool.threadCount, count: elements).isEmpty {
                let s = partialSums[w * 8]
                if s.isFinite { got += s } else { nonFinite += 1 }
            }
            let tolerance = Double(elements) * 0x1p-53
            return CorrectnessCheck(
                metric: "rel_err_sum", value: magnitude > 0 ? abs(got - exact) / magnitude : abs(got - exact),
                toleranceName: "fp64-sum n·u", tolerance: tolerance, elementsChecked: pool.threadCount,
                nonFinite: nonFinite)
        }
        let x = arrays[0].pointer + offset
        let y = arrays.count > 1 ? arrays[1].pointer + offset : x
        let z = arrays.count > 2 ? arrays[2].pointer + offset : x
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
