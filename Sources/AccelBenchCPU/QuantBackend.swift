import AccelBenchCore
import AccelBenchKernels

/// Our quantized kernels (C, `kernels/cpu/quant.c` and `w8a8.c`): GGUF q8_0 / q4_0 weights times
/// activations quantized to q8_0 blocks inside the timed call, and w8a8 (per-channel int8 weights times
/// per-token int8 activations); `vpdpbusd` on AVX512-VNNI, AVX2 and portable paths chosen at run time.
public struct QuantBackend: Backend {
    public let name = "quant"
    public let capabilities: [Workload: [DType]] = [.qgemv: [.q8_0, .q4_0, .w8a8], .qgemm: [.q8_0, .q4_0, .w8a8]]
    /// Forces a kernel path (nil: the fastest this CPU runs).
    public let path: QuantizedGEMMPlan.Path?

    public init(path: QuantizedGEMMPlan.Path? = nil) {
        self.path = path
    }

    public var summary: String {
        "q8_0/q4_0 GEMV and GEMM in C on GGUF blocks (activations quantized to q8_0 per call) and w8a8 int8 GEMM (path here: \((path ?? .detect()).rawValue))"
    }

    public func unsupportedReason(_ spec: CaseSpec) -> String? {
        guard case let .quantized(_, _, k, _) = spec.shape, [.q8_0, .q4_0, .w8a8].contains(spec.dtype) else {
            return "quant implements qgemv and qgemm in q8_0, q4_0 and w8a8"
        }
        if spec.dtype == .w8a8 && k > W8A8Matrix.maxColumns {
            return "w8a8 takes K <= \(W8A8Matrix.maxColumns) (the int32 dot must not overflow)"
        }
        if let path, !path.isSupported { return "this CPU cannot run the \(path.rawValue) path" }
        return nil
    }

    public func prepare(_ spec: CaseSpec, context: CaseContext) throws -> any PreparedCase {
        guard case let .quantized(m, n, k, residency) = spec.shape else {
            throw AccelBenchError(.unsupportedCase, "quant: not a quantized shape")
        }
        let weightBytes = Int(Workload.weightBytes(m: m, k: k, dtype: spec.dtype))
        let copies = residency == .cold ? max(1, (4 * context.lastLevelCacheBytes + weightBytes - 1) / max(1, weightBytes)) : 1
        return QuantCase(
            dtype: spec.dtype, m: m, n: n, k: k, copies: copies, residency: residency, path: path ?? .detect(),
            pool: context.pool, seed: context.seed, checkSamples: context.checkSamples)
    }
}

final class QuantCase: PreparedCase {
    /// W (M x K) then X (N x K) in fp32 from one seeded stream: the values every quantized case (ours,
    /// a plugin's) quantizes and multiplies.
    static func seededOperands(m: Int, n: Int, k: Int, seed: UInt64) -> (w: AlignedBuffer<Float>, x: AlignedBuffer<Float>) {
        var rng = SeededGenerator(seed: seed)
        let w = AlignedBuffer<Float>(count: m * k)
        rng.fill(w.pointer, count: m * k)
        let x = AlignedBuffer<Float>(count: n * k)
        rng.fill(x.pointer, count: n * k)
        return (w, x)
    }

    let dtype: DType
    let m: Int, n: Int, k: Int
    let residency: WeightResidency
    let pool: WorkerPool
    /// One plan per copy of the weights; cold cases rotate through them, one per call.
    let plans: [any QuantizedProduct]
    let x: AlignedBuffer<Float>
    let y: AlignedBuffer<Float>
    let checker: QuantCheck
    private var next = 0

    init(
        dtype: DType, m: Int, n: Int, k: Int, copies: Int, residency: WeightResidency, path: QuantizedGEMMPlan.Path,
        pool: WorkerPool, seed: UInt64, checkSamples: Int
    ) {
        self.dtype = dtype
        self.m = m
        self.n = n
        self.k = k
        self.residency = residency
        self.pool = pool
        let w: AlignedBuffer<Float>
        (w, x) = QuantCase.seededOperands(m: m, n: n, k: k, seed: seed)
        y = AlignedBuffer(count: n * m)
        if dtype == .w8a8 {
            let first = W8A8Matrix(rows: m, columns: k, quantizing: w.pointer)
            // Copies quantize the same values, so the check holds for whichever ran last.
            let matrices = [first] + (1..<copies).map { _ in W8A8Matrix(rows: m, columns: k, quantizing: w.pointer) }
            let w8Path = W8A8GEMMPlan.Path(rawValue: path.rawValue) ?? .detect()
            plans = matrices.map { W8A8GEMMPlan(weights: $0, tokens: n, pool: pool, path: w8Path.isSupported ? w8Path : .detect()) }
            checker = QuantCheck(
                rows: m, columns: k, dequantizeRow: { first.dequantizeRow($0, into: $1) },
                activations: QuantCheck.w8a8Activations(x.pointer, n: n, k: k), n: n, sampleCount: checkSamples, seed: seed)
        } else {
            let format: QuantFormat = dtype == .q8_0 ? .q8_0 : .q4_0
            let first = QuantizedMatrix(format: format, rows: m, columns: k, quantizing: w.pointer)
            // Copies share the first matrix's GGUF bytes, so the check holds for whichever ran last.
            let matrices = [first] + (1..<copies).map { _ in
                QuantizedMatrix(format: format, rows: m, columns: k, ggufBlocks: UnsafeRawPointer(first.blocks))
            }
            plans = matrices.map { QuantizedGEMMPlan(weights: $0, tokens: n, pool: pool, path: path) }
            checker = QuantCheck(
                rows: m, columns: k, dequantizeRow: { first.dequantizeRow($0, into: $1) },
                activations: QuantCheck.q8_0Activations(x.pointer, n: n, k: k), n: n, sampleCount: checkSamples, seed: seed)
        }
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

    /// Cold cases: the read-only STREAM kernel over the very weight bytes the kernel's path reads, on
    /// the same workers (each reads an equal contiguous share) and in the same rotation of copies, so
    /// the GEMV is judged against the bandwidth a plain read got at the same moment from the same
    /// pages. Hot cases have none (they are not bound by DRAM).
    var pairedReference: PairedReference? {
        guard residency == .cold else { return nil }
        let reads = plans.map { WeightRead(buffers: $0.weightBuffers, pool: pool) }
        return PairedReference(
            label: "read-only sum (the STREAM read kernel) over the same weight bytes, \(pool.threadCount) thread(s), same rotation of \(plans.count) copies",
            work: Work(amount: Double(reads[0].bytes), kind: .bytes, rule: "weight bytes of the kernel's layout, read once per call"),
            kernelWork: Work(
                amount: Workload.weightBytes(m: m, k: k, dtype: dtype), kind: .bytes,
                rule: "weight bytes read once per call (\(dtype.rawValue), scales included; cold)"),
            run: { [self] in
                let read = reads[next]
                next = (next + 1) % reads.count
                read.run()
            })
    }
}

/// Correctness of a quantized product: every output scanned for NaN/Inf, sampled outputs compared with
/// float64 sums over the dequantized weights and the dequantized activations (the exact values the
/// kernel multiplies). Error: |y - ref| / Σ|w·x|. Tolerance `block fp32 accumulate (K/32+2)·u`: each
/// block's integer dot is exact and the kernel adds K/32 scaled block sums in fp32 (w8a8 has one
/// exact dot and one scaling, well inside the same bound).
struct QuantCheck {
    let rows: Int
    let columns: Int
    let dequantizeRow: (Int, UnsafeMutablePointer<Float>) -> Void
    let n: Int
    /// The activations as the kernel sees them (quantized X, dequantized), n x columns.
    let activations: [Float]
    let samples: [(Int, Int)]

    init(
        rows m: Int, columns k: Int, dequantizeRow: @escaping (Int, UnsafeMutablePointer<Float>) -> Void, activations: [Float],
        n: Int, sampleCount: Int, seed: UInt64
    ) {
        rows = m
        columns = k
        self.dequantizeRow = dequantizeRow
        self.n = n
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

    /// X quantized to q8_0 blocks (what the q8_0/q4_0 kernels multiply), dequantized.
    static func q8_0Activations(_ x: UnsafePointer<Float>, n: Int, k: Int) -> [Float] {
        var activations = [Float](repeating: 0, count: n * k)
        for t in 0..<n {
            let row = QuantFormat.q8_0.dequantize(QuantFormat.q8_0.quantize(Array(UnsafeBufferPointer(start: x + t * k, count: k))))
            activations.replaceSubrange(t * k..<(t + 1) * k, with: row)
        }
        return activations
    }

    /// X quantized per token to int8 with one scale (what the w8a8 kernels multiply), dequantized.
    static func w8a8Activations(_ x: UnsafePointer<Float>, n: Int, k: Int) -> [Float] {
        var values = [Int8](repeating: 0, count: n * k)
        var scales = [Float](repeating: 0, count: n)
        values.withUnsafeMutableBufferPointer { v in
            scales.withUnsafeMutableBufferPointer { s in
                W8A8Matrix.quantizeRows(x, rows: n, columns: k, ld: k, values: v.baseAddress!, scales: s.baseAddress!)
            }
        }
        return (0..<(n * k)).map { Float(values[$0]) * scales[$0 / k] }
    }

    static func tolerance(k: Int) -> (name: String, value: Double) {
        ("block fp32 accumulate (K/32+2)·u", Double(k / 32 + 2) * 0x1p-24)
    }

    func check(y: UnsafePointer<Float>) -> CorrectnessCheck {
        let k = columns, m = rows
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
                dequantizeRow(i, row)
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

/// A planned quantized product Y = X·Wᵀ, whatever the weight format.
protocol QuantizedProduct: AnyObject {
    var kernelPath: String { get }
    func run(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>)
    /// The weight buffers this plan's path reads (the repacked copy on the SIMD paths).
    var weightBuffers: [UnsafeRawBufferPointer] { get }
}

extension QuantizedGEMMPlan: QuantizedProduct {
    var weightBuffers: [UnsafeRawBufferPointer] { [weights.weightBuffer(path: path)] }
}

extension W8A8GEMMPlan: QuantizedProduct {
    var weightBuffers: [UnsafeRawBufferPointer] { weights.weightBuffers(path: path) }
}
