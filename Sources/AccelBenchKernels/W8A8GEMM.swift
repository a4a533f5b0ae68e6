import AccelBenchCore
import CKernels
import Foundation

/// An int8 weight matrix (`rows` output channels x `columns` inputs) with one fp32 scale per output
/// channel: symmetric per-channel absmax quantization (ckernels_w8a8.h):
/// s_w[i] = max_k |W[i][k]| / 127 (0 for an all-zero row), q = clamp(round-half-away-from-zero(W / s_w),
/// -127, 127). `columns` must be a multiple of 4 and at most 65536 (int32 exactness of the dots).
/// When this CPU has AVX2 (or better) the init also builds the packed copy the SIMD kernels read
/// (16-row groups x 4 k per 64-byte vector, stored + 128; see ckernels_w8a8.h); the plain rows stay the
/// source of truth (the portable path and the reference read them).
///
/// Sendable invariant (why `@unchecked` is sound): all buffers are written only by `init` and are
/// read-only afterwards; they are freed in `deinit`.
public final class W8A8Matrix: @unchecked Sendable {
    public let rows: Int
    public let columns: Int
    /// Plain int8 rows, `rows x columns`, row stride `columns`, 64-byte aligned.
    public let values: UnsafeMutablePointer<Int8>
    /// Per-row fp32 scales (`rows`).
    public let scales: UnsafeMutablePointer<Float>
    /// The packed copy for the AVX2 / AVX512-VNNI kernels (nil when the CPU has neither).
    public let packed: UnsafeMutableRawPointer?
    public let packedByteCount: Int

    /// Largest supported `columns`.
    public static let maxColumns = 65536

    /// Bytes of the plain layout (int8 values + scales).
    public var byteCount: Int { rows * columns + rows * MemoryLayout<Float>.size }

    /// Quantizes `values` (row-major, `rows x columns`, row stride `ld`, default `columns`; finite).
    public init(rows: Int, columns: Int, quantizing source: UnsafePointer<Float>, ld: Int? = nil) {
        precondition(rows >= 0 && columns >= 0, "W8A8Matrix: negative dimension")
        precondition(columns % 4 == 0, "W8A8Matrix: columns (\(columns)) must be a multiple of 4")
        precondition(columns <= W8A8Matrix.maxColumns, "W8A8Matrix: columns (\(columns)) above \(W8A8Matrix.maxColumns)")
        let ld = ld ?? columns
        precondition(ld >= columns, "W8A8Matrix: row stride smaller than the row")
        self.rows = rows
        self.columns = columns
        values = quantAllocateAligned(bytes: rows * columns).bindMemory(to: Int8.self, capacity: max(1, rows * columns))
        scales = quantAllocateAligned(bytes: rows * MemoryLayout<Float>.size).bindMemory(to: Float.self, capacity: max(1, rows))
        ckernels_w8a8_quantize_rows(rows, columns, source, ld, values, scales)
        if ckernels_w8a8_path_supported(Int32(CKERNELS_QPATH_AVX2)) != 0 {
            packedByteCount = ckernels_w8a8_packed_bytes(rows, columns)
            let dst = quantAllocateAligned(bytes: packedByteCount)
            ckernels_w8a8_pack(rows, columns, values, scales, dst)
            packed = dst
        } else {
            packed = nil
            packedByteCount = 0
        }
    }

    deinit {
        values.deallocate()
        scales.deallocate()
        packed?.deallocate()
    }

    /// The values row `row` stands for: `columns` floats q * s_w (one fp32 rounding each) into `y`.
    public func dequantizeRow(_ row: Int, into y: UnsafeMutablePointer<Float>) {
        precondition(row >= 0 && row < rows, "W8A8Matrix: row \(row) out of range")
        let s = scales[row], q = values + row * columns
        for j in 0..<columns { y[j] = Float(q[j]) * s }
    }

    /// The whole matrix dequantized, row-major.
    public func dequantized() -> [Float] {
        var y = [Float](repeating: 0, count: rows * columns)
        y.withUnsafeMutableBufferPointer { ys in
            for r in 0..<rows { dequantizeRow(r, into: ys.baseAddress! + r * columns) }
        }
        return y
    }

    /// Quantizes `count` rows of `columns` floats (row stride `ld`) with the same rule as the weights
    /// and the activations: int8 values (row stride `columns`) and one scale per row.
    public static func quantizeRows(_ x: UnsafePointer<Float>, rows count: Int, columns: Int, ld: Int,
                                    values: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>) {
        ckernels_w8a8_quantize_rows(count, columns, x, ld, values, scales)
    }

    /// The exact reference product (slow, single-threaded): X (`tokens x columns`, row stride
    /// `columns`) quantized per token, Y (`tokens x rows`, row stride `rows`) = (s_x * s_w) * Float(dot)
    /// (ckernels_w8a8_gemm_ref), which every kernel path reproduces bit for bit.
    public func referenceProduct(x: UnsafePointer<Float>, tokens: Int, y: UnsafeMutablePointer<Float>) {
        let qx = UnsafeMutablePointer<Int8>.allocate(capacity: max(1, tokens * columns))
        let sx = UnsafeMutablePointer<Float>.allocate(capacity: max(1, tokens))
        defer { qx.deallocate(); sx.deallocate() }
        ckernels_w8a8_quantize_rows(tokens, columns, x, columns, qx, sx)
        ckernels_w8a8_gemm_ref(rows, tokens, columns, values, scales, qx, sx, y, rows)
    }
}

/// Y = X · Wᵀ for an int8 per-channel weight matrix W (M x K) and `n` tokens of fp32 activations X
/// (N x K), giving Y (N x M, fp32); planned once per (weights, n, pool) and run many times. `run`
/// quantizes X per token to int8 (same rule as the weights) and then multiplies, both inside the call
/// (dynamic quantization, as onnxruntime's DynamicQuantizeLinear + MatMulInteger). Workers split the
/// output rows M in 32-row slices (two 16-row groups: the AVX512 kernel's register tile).
///
/// Every path returns the same bits: Y[t][i] = (s_x[t] * s_w[i]) * Float(dot), dot the exact int32
/// sum (ckernels_w8a8.h).
///
/// Sendable invariant (why `@unchecked` is sound): stored properties are immutable after `init`; the
/// activation buffers are written only inside `run`, which holds `runLock`, and each buffer by one
/// worker at a time (n <= gemvTokens: worker w writes and reads only its own; larger n: the workers write
/// disjoint token ranges of the shared one, and the multiply starts only after `pool.run` returned,
/// i.e. after every worker finished quantizing). The weights are read-only.
public final class W8A8GEMMPlan: @unchecked Sendable {
    public enum Path: String, Sendable, CaseIterable {
        /// vpdpbusd on 64-byte vectors of 16 rows x 4 k, register tile 32 rows x 12 tokens (AVX512
        /// F/BW/VL/DQ/VNNI).
        case avx512vnni
        /// vpsignb / vpmaddubsw (|w| x sign-applied x, cannot saturate) / vpmaddwd on the same layout (AVX2).
        case avx2
        /// Plain C over the int8 rows; runs anywhere.
        case portable

        var cPath: Int32 {
            switch self {
            case .avx512vnni: Int32(CKERNELS_QPATH_AVX512VNNI)
            case .avx2: Int32(CKERNELS_QPATH_AVX2)
            case .portable: Int32(CKERNELS_QPATH_PORTABLE)
            }
        }

        public var isSupported: Bool { ckernels_w8a8_path_supported(cPath) != 0 }
        /// The fastest path this CPU runs.
        public static func detect() -> Path { allCases.first { $0.isSupported } ?? .portable }
        /// Every path this CPU runs, fastest first.
        public static var supported: [Path] { allCases.filter { $0.isSupported } }
    }

    public let weights: W8A8Matrix
    /// Tokens per call (rows of X and Y).
    public let n: Int
    public let path: Path
    public let pool: WorkerPool
    /// `rowSlices[w]`: the output rows worker w computes (whole 32-row slices; possibly empty).
    public let rowSlices: [Range<Int>]
    /// Quantized activations (ckernels_w8a8.h "act" layout): one per worker when n <= gemvTokens, else one shared.
    private let activations: [UnsafeMutableRawPointer]
    private let runLock = NSLock()

    /// Tokens up to which every worker quantizes all of X itself (no second dispatch): one activation tile.
    public static let gemvTokens = Int(CKERNELS_W8A8_TILE)

    /// - Parameters:
    ///   - path: the kernel path; nil picks `Path.detect()`. Must be supported by this CPU.
    public init(weights: W8A8Matrix, tokens n: Int, pool: WorkerPool, path: Path? = nil) {
        precondition(n >= 0, "W8A8GEMMPlan: negative token count")
        let path = path ?? Path.detect()
        precondition(path.isSupported, "W8A8GEMMPlan: this CPU cannot run the \(path.rawValue) path")
        precondition(path == .portable || weights.packed != nil, "W8A8GEMMPlan: the weights have no packed copy")
        self.weights = weights
        self.n = n
        self.path = path
        self.pool = pool
        rowSlices = quantRowSlices(rows: weights.rows, groupRows: 2 * Int(CKERNELS_W8A8_ROWS), workers: pool.threadCount)
        activations = quantActivationBuffers(
            bytes: ckernels_w8a8_act_bytes(n, weights.columns), perWorker: n <= W8A8GEMMPlan.gemvTokens, pool: pool)
    }

    deinit {
        for a in activations { a.deallocate() }
    }

    /// The ISA path and schedule, e.g. "w8a8 avx512vnni: packed 16-row groups x 4 k (vpdpbusd), tile 32
    /// rows x 12 tokens, 2 thread(s)".
    public var kernelPath: String {
        let threads = "\(pool.threadCount) thread(s)"
        let layout = "packed 16-row groups x 4 k, k chunks of \(Int(CKERNELS_W8A8_CHUNK))"
        switch path {
        case .avx512vnni:
            let tile = n <= 6 ? "GEMV 16 rows x \(max(1, n)) token(s) per chunk" : "tile 32 rows x 12 tokens"
            return "w8a8 avx512vnni: \(layout) (vpdpbusd), \(tile), \(threads)"
        case .avx2:
            return "w8a8 avx2: \(layout) (vpsignb/vpmaddubsw/vpmaddwd), tile 16 rows x 4 tokens, \(threads)"
        case .portable:
            return "w8a8 portable: int8 rows (scalar int32 dots), \(threads)"
        }
    }

    /// Y (n x M, row stride ldy >= M) = X (n x K, row stride ldx >= K) · Wᵀ; X must be finite.
    public func run(x: UnsafePointer<Float>, ldx: Int, y: UnsafeMutablePointer<Float>, ldy: Int) {
        let (m, k, n) = (weights.rows, weights.columns, self.n)
        precondition(ldx >= k && ldy >= m, "W8A8GEMMPlan.run: leading dimension smaller than the matrix")
        if n == 0 || m == 0 { return }
        runLock.lock()
        defer { runLock.unlock() }
        let acts = activations, slices = rowSlices, cPath = path.cPath, path = self.path
        let qw = UnsafePointer(weights.values), sw = UnsafePointer(weights.scales)
        let packed = weights.packed.map { UnsafeRawPointer($0) }
        let multiply = { (w: Int, act: UnsafeRawPointer) in
            let rows = slices[w]
            if rows.isEmpty { return }
            let (m0, m1) = (rows.lowerBound, rows.upperBound)
            switch path {
            case .avx512vnni: ckernels_w8a8_gemm_avx512vnni(m, n, k, packed, act, y, ldy, m0, m1)
            case .avx2: ckernels_w8a8_gemm_avx2(m, n, k, packed, act, y, ldy, m0, m1)
            case .portable: ckernels_w8a8_gemm_portable(m, n, k, qw, sw, act, y, ldy, m0, m1)
            }
        }
        if n <= W8A8GEMMPlan.gemvTokens {
            // GEMV: each worker quantizes all n tokens into its own buffer, then multiplies its rows.
            pool.run { w in
                if slices[w].isEmpty { return }
                ckernels_w8a8_act_quantize(cPath, 0, n, n, k, x, ldx, acts[w])
                multiply(w, UnsafeRawPointer(acts[w]))
            }
        } else {
            let workers = pool.threadCount
            pool.run { w in
                let tokens = WorkerPool.chunk(w, of: workers, count: n)
                if !tokens.isEmpty {
                    ckernels_w8a8_act_quantize(cPath, tokens.lowerBound, tokens.upperBound, n, k, x, ldx, acts[0])
                }
            }
            pool.run { w in multiply(w, UnsafeRawPointer(acts[0])) }
        }
    }

    /// Y (n x M, contiguous) = X (n x K, contiguous) · Wᵀ.
    public func run(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        run(x: x, ldx: weights.columns, y: y, ldy: weights.rows)
    }
}
