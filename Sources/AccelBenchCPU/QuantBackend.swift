import AccelBenchCore
import AccelBenchKernels

/// Our quantized kernels (C, `kernels/cpu/quant.c`): GGUF q8_0 / q4_0 weights times activations
/// quantized to q8_0 blocks inside the timed call; `vpdpbusd` on AVX512-VNNI, AVX2 and portable paths
/// chosen at run time.
public struct QuantBackend: Backend {
    public let name = "quant"
    public let capabilities: [Workload: [DType]] = [.qgemv: [.q8_0, .q4_0], .qgemm: [.q8_0, .q4_0]]
    /// Forces a kernel path (nil: the fastest this CPU runs).
    public let path: QuantizedGEMMPlan.Path?

    public init(path: QuantizedGEMMPlan.Path? = nil) {
        self.path = path
    }

    public var summary: String {
        "q8_0/q4_0 GEMV and GEMM in C on GGUF blocks, activations quantized to q8_0 per call (path here: \((path ?? .detect()).rawValue))"
    }

    public func unsupportedReason(_ spec: CaseSpec) -> String? {
        guard case .quantized = spec.shape, spec.dtype == .q8_0 || spec.dtype == .q4_0 else {
            return "quant implements qgemv and qgemm in q8_0 and q4_0"
        }
        if let path, !path.isSupported { return "this CPU cannot run the \(path.rawValue) path" }
        return nil
    }

    public func prepare(_ spec: CaseSpec, context: CaseContext) throws -> any PreparedCase {
        guard case let .quantized(m, n, k, residency) = spec.shape else {
            throw AccelBenchError(.unsupportedCase, "quant: not a quantized shape")
        }
        let format: QuantFormat = spec.dtype == .q8_0 ? .q8_0 : .q4_0
        let weightBytes = Int(Workload.weightBytes(m: m, k: k, dtype: spec.dtype))
        let copies = residency == .cold ? max(1, (4 * context.lastLevelCacheBytes + weightBytes - 1) / max(1, weightBytes)) : 1
        return QuantCase(
            format: format, m: m, n: n, k: k, copies: copies, residency: residency, path: path ?? .detect(),
            pool: context.pool, seed: context.seed, checkSamples: context.checkSamples)
    }
}

final class QuantCase: PreparedCase {
    let m: Int, n: Int, k: Int
    let residency: WeightResidency
    /// One plan per copy of the weights; cold cases rotate through them, one per call.
    let plans: [QuantizedGEMMPlan]
    let x: AlignedBuffer<Float>
    let y: AlignedBuffer<Float>
    let checker: QuantCheck
    private var next = 0

    init(
        format: QuantFormat, m: Int, n: Int, k: Int, copies: Int, residency: WeightResidency, path: QuantizedGEMMPlan.Path,
        pool: WorkerPool, seed: UInt64, checkSamples: Int
    ) {
        self.m = m
        self.n = n
        self.k = k
        self.residency = residency
        var rng = SeededGenerator(seed: seed)
        let w = AlignedBuffer<Float>(count: m * k)
        rng.fill(w.pointer, count: m * k)
        let first = QuantizedMatrix(format: format, rows: m, columns: k, quantizing: w.pointer)
        // Copies share the first matrix's GGUF bytes, so the check holds for whichever ran last.
        let matrices = [first] + (1..<copies).map { _ in
            QuantizedMatrix(format: format, rows: m, columns: k, ggufBlocks: UnsafeRawPointer(first.blocks))
        }
        plans = matrices.map { QuantizedGEMMPlan(weights: $0, tokens: n, pool: pool, path: path) }
        x = AlignedBuffer(count: n * k)
        y = AlignedBuffer(count: n * m)
        rng.fill(x.pointer, count: n * k)
        checker = QuantCheck(weights: first, x: x.pointer, n: n, sampleCount: checkSamples, seed: seed)
    }

    var kernelPath: String {
        plans[0].kernelPath + (plans.count > 1 ? ", rotating \(plans.count) weight copies (cold)" : "")
    }

    func poisonOutputs() { y.pointer.update(repeating: .nan, count: n * m) }

    func run() {
        let plan = plans[next]
        next = (next + 1) % plans.count
        plan.run(x: x.pointer, y: y.pointer)
    }

    func check() -> CorrectnessCheck { checker.check(y: y.pointer) }
}

/// Correctness of a quantized product: every output scanned for NaN/Inf, sampled outputs compared with
/// float64 sums over the dequantized weights and the dequantized q8_0 activations (the exact values the
/// kernel multiplies). Error: |y - ref| / Σ|w·x|. Tolerance `block fp32 accumulate (K/32+2)·u`: each
/// block's integer dot is exact, and the kernel adds K/32 scaled block sums in fp32.
struct QuantCheck {
    let weights: QuantizedMatrix
    let n: Int
    /// The activations as the kernel sees them: q8_0-quantized X, dequantized.
    let activations: [Float]
    let samples: [(Int, Int)]

    init(weights: QuantizedMatrix, x: UnsafePointer<Float>, n: Int, sampleCount: Int, seed: UInt64) {
        self.weights = weights
        self.n = n
        let k = weights.columns, m = weights.rows
        var activations = [Float](repeating: 0, count: n * k)
        for t in 0..<n {
            let row = QuantFormat.q8_0.dequantize(QuantFormat.q8_0.quantize(Array(UnsafeBufferPointer(start: x + t * k, count: k))))
            activations.replaceSubrange(t * k..<(t + 1) * k, with: row)
        }
        self.activations = activations
        var picked: [(Int, Int)] = []
        if n * m <= sampleCount {
            for t in 0..<n { for i in 0..<m { picked.append((t, i)) } }
        } else {
            picked = [(0, 0), (0, m - 1), (n - 1, 0), (n - 1, m - 1)]
            var rng = SeededGenerator(seed: seed ^ 0x0B10C)
            while picked.count < sampleCount { picked.append((Int(rng.next() % UInt64(n)), Int(rng.next() % UInt64(m)))) }
        }
        samples = picked
    }

    static func tolerance(k: Int) -> (name: String, value: Double) {
        ("block fp32 accumulate (K/32+2)·u", Double(k / 32 + 2) * 0x1p-24)
    }

    func check(y: UnsafePointer<Float>) -> CorrectnessCheck {
        let k = weights.columns, m = weights.rows
        var nonFinite = 0
        for i in 0..<(n * m) where !y[i].isFinite { nonFinite += 1 }
        var rowCache: [Int: [Float]] = [:]
        var worst = 0.0
        let row = UnsafeMutablePointer<Float>.allocate(capacity: k)
        defer { row.deallocate() }
        for (t, i) in samples {
            let w: [Float]
            if let cached = rowCache[i] {
                w = cached
            } else {
                weights.dequantizeRow(i, into: row)
                w = Array(UnsafeBufferPointer(start: row, count: k))
                rowCache[i] = w
            }
            var exact = 0.0, magnitude = 0.0
            for c in 0..<k {
                let product = Double(w[c]) * Double(activations[t * k + c])
                exact += product
                magnitude += abs(product)
            }
            let got = Double(y[t * m + i])
            guard got.isFinite else { continue }
            worst = max(worst, magnitude > 0 ? abs(got - exact) / magnitude : abs(got - exact))
        }
        let tolerance = QuantCheck.tolerance(k: k)
        return CorrectnessCheck(
            metric: "max_rel_err", value: worst, toleranceName: tolerance.name, tolerance: tolerance.value,
            elementsChecked: n * m, nonFinite: nonFinite)
    }
}
