import AccelBenchCore
import AccelBenchKernels

// Seeded inputs and float64 checks of the built-in cases, public for backends outside this module
// (device plugins, AccelBenchPlugins): the same values from the same seed and the same named
// tolerances as the CPU backends use, so a device's results compare side by side with theirs. Each
// wraps this module's internal buffers; the host output is where a device's result is downloaded to.

/// A matmul case (C = A x B, row-major): A (MxK) and B (KxN) seeded in [-1, 1), C (MxN, fp32). For
/// bf16 the inputs are rounded to bf16 first (as `BF16Backend` does), so the fp32 copies are exactly
/// what a bf16 kernel multiplies and the fp32-accumulate check holds.
public final class MatmulCaseInputs {
    let buffers: MatmulBuffers
    /// A and B as bf16 bit patterns (bf16 cases only).
    let bf16: (a: AlignedBuffer<UInt16>, b: AlignedBuffer<UInt16>)?
    public var m: Int { buffers.m }
    public var n: Int { buffers.n }
    public var k: Int { buffers.k }

    /// - Parameter dtype: `.fp32` or `.bf16`.
    public init(m: Int, n: Int, k: Int, dtype: DType = .fp32, seed: UInt64, checkSamples: Int) {
        precondition(dtype == .fp32 || dtype == .bf16, "MatmulCaseInputs: fp32 or bf16")
        buffers = MatmulBuffers(m: m, n: n, k: k, seed: seed, checkSamples: checkSamples, roundToBF16: dtype == .bf16)
        bf16 = dtype == .bf16 ? buffers.bf16Inputs() : nil
    }

    /// A and B in the case's dtype: fp32 values or bf16 bit patterns, with their byte counts.
    public var aBytes: (pointer: UnsafeRawPointer, bytes: Int) {
        bf16.map { (UnsafeRawPointer($0.a.pointer), m * k * 2) } ?? (UnsafeRawPointer(buffers.a.pointer), m * k * 4)
    }
    public var bBytes: (pointer: UnsafeRawPointer, bytes: Int) {
        bf16.map { (UnsafeRawPointer($0.b.pointer), k * n * 2) } ?? (UnsafeRawPointer(buffers.b.pointer), k * n * 4)
    }

    /// A and B as fp32 (for bf16 cases: the bf16 values widened exactly).
    public var a: UnsafePointer<Float> { UnsafePointer(buffers.a.pointer) }
    public var b: UnsafePointer<Float> { UnsafePointer(buffers.b.pointer) }
    /// Host copy of C: the check reads it.
    public var c: UnsafeMutablePointer<Float> { buffers.c.pointer }

    /// Fills the host C with NaN.
    public func poisonOutput() { buffers.poison() }
    /// Checks the host C against float64 (`MatmulCheck`).
    public func check() -> CorrectnessCheck { buffers.check() }
}

/// An attention case: Q (fp32), K and V (fp32 or fp16 bit patterns, per `dtype`) seeded as the CPU
/// backends seed them, O (fp32). Layouts: [batch][heads][query][headDim] and [batch][kvHeads][kv][headDim].
public final class AttentionCaseInputs {
    let buffers: AttentionBuffers

    public init(shape: AttentionShape, dtype: DType, seed: UInt64, checkSamples: Int) {
        buffers = AttentionBuffers(geometry: AttentionGeometry(shape, dtype: dtype), seed: seed, checkSamples: checkSamples)
    }

    public var q: UnsafePointer<Float> { UnsafePointer(buffers.q.pointer) }
    public var k: UnsafeRawPointer { buffers.kRaw }
    public var v: UnsafeRawPointer { buffers.vRaw }
    public var o: UnsafeMutablePointer<Float> { buffers.o.pointer }
    public var queryBytes: Int { buffers.geometry.queryElements * 4 }
    public var kvBytes: Int { buffers.geometry.kvElements * buffers.geometry.kvType.bytes }

    public func poisonOutput() { buffers.poison() }
    public func check() -> CorrectnessCheck { buffers.check() }
}

/// A quantized product Y (N x M) = X (N x K) · Wᵀ with W in q8_0 or q4_0 (GGUF blocks), seeded as
/// `QuantBackend` seeds it; the check uses X quantized to q8_0 by ggml's rule, as the kernels must.
public final class QuantCaseInputs {
    public let m: Int, n: Int, k: Int
    let weights: QuantizedMatrix
    let x: AlignedBuffer<Float>
    let y: AlignedBuffer<Float>
    let checker: QuantCheck

    /// - Parameter dtype: `.q8_0` or `.q4_0`.
    public init(dtype: DType, m: Int, n: Int, k: Int, seed: UInt64, checkSamples: Int) {
        precondition(dtype == .q8_0 || dtype == .q4_0, "QuantCaseInputs: q8_0 or q4_0")
        self.m = m
        self.n = n
        self.k = k
        let w: AlignedBuffer<Float>
        (w, x) = QuantCase.seededOperands(m: m, n: n, k: k, seed: seed)
        y = AlignedBuffer(count: n * m)
        let matrix = QuantizedMatrix(format: dtype == .q8_0 ? .q8_0 : .q4_0, rows: m, columns: k, quantizing: w.pointer)
        weights = matrix
        checker = QuantCheck(
            rows: m, columns: k, dequantizeRow: { matrix.dequantizeRow($0, into: $1) },
            activations: QuantCheck.q8_0Activations(x.pointer, n: n, k: k), n: n, sampleCount: checkSamples, seed: seed)
    }

    /// W in GGUF layout (M rows of K/32 blocks), `weightBytes` long.
    public var weightBlocks: UnsafeRawPointer { UnsafeRawPointer(weights.blocks) }
    public var weightBytes: Int { weights.byteCount }
    public var activations: UnsafePointer<Float> { UnsafePointer(x.pointer) }
    public var output: UnsafeMutablePointer<Float> { y.pointer }

    public func poisonOutput() { y.pointer.update(repeating: .nan, count: n * m) }
    public func check() -> CorrectnessCheck { checker.check(y: y.pointer) }
}
