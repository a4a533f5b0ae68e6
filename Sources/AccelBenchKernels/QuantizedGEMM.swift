import AccelBenchCore
import CKernels
import Foundation

/// GGUF block quantization formats (byte-compatible with ggml's `block_q8_0` / `block_q4_0`): blocks of
/// 32 consecutive elements of a row sharing one IEEE binary16 scale `d`.
public enum QuantFormat: String, Sendable, CaseIterable {
    /// 34-byte blocks: `d`, then 32 int8 values; x ~= q * d with d = max|x| / 127.
    case q8_0
    /// 18-byte blocks: `d`, then 16 bytes of nibbles (low nibble = element j, high = element j + 16);
    /// x ~= (nibble - 8) * d with d = -(the element of largest magnitude) / 8.
    case q4_0

    /// Elements per block (both formats).
    public static let blockElements = Int(CKERNELS_QK)

    public var blockBytes: Int {
        switch self {
        case .q8_0: Int(CKERNELS_Q8_0_BLOCK_BYTES)
        case .q4_0: Int(CKERNELS_Q4_0_BLOCK_BYTES)
        }
    }

    /// Bits per weight including the scale: 8.5 (q8_0), 4.5 (q4_0).
    public var bitsPerElement: Double { Double(blockBytes * 8) / Double(QuantFormat.blockElements) }

    /// Bytes of one row of `columns` elements (`columns` a multiple of 32).
    public func rowBytes(columns: Int) -> Int {
        precondition(columns % QuantFormat.blockElements == 0, "QuantFormat: row length \(columns) is not a multiple of 32")
        return columns / QuantFormat.blockElements * blockBytes
    }

    var cFormat: Int32 {
        switch self {
        case .q8_0: Int32(CKERNELS_QFORMAT_Q8_0)
        case .q4_0: Int32(CKERNELS_QFORMAT_Q4_0)
        }
    }

    // MARK: Rows

    /// Quantizes `count` floats (a multiple of 32, finite) into `count / 32` blocks at `blocks`, bit-exact
    /// with ggml's `quantize_row_q8_0_ref` / `quantize_row_q4_0_ref`.
    public func quantizeRow(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer) {
        precondition(count % QuantFormat.blockElements == 0, "quantizeRow: count \(count) is not a multiple of 32")
        switch self {
        case .q8_0: ckernels_quantize_row_q8_0(x, blocks.assumingMemoryBound(to: ckernels_block_q8_0.self), count)
        case .q4_0: ckernels_quantize_row_q4_0(x, blocks.assumingMemoryBound(to: ckernels_block_q4_0.self), count)
        }
    }

    /// Writes the `count` values that `count / 32` blocks stand for (q * d in fp32, one rounding).
    public func dequantizeRow(_ blocks: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        precondition(count % QuantFormat.blockElements == 0, "dequantizeRow: count \(count) is not a multiple of 32")
        switch self {
        case .q8_0: ckernels_dequantize_row_q8_0(blocks.assumingMemoryBound(to: ckernels_block_q8_0.self), y, count)
        case .q4_0: ckernels_dequantize_row_q4_0(blocks.assumingMemoryBound(to: ckernels_block_q4_0.self), y, count)
        }
    }

    /// The GGUF bytes of `x` (whose length is a multiple of 32).
    public func quantize(_ x: [Float]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: rowBytes(columns: x.count))
        x.withUnsafeBufferPointer { xs in
            bytes.withUnsafeMutableBytes { quantizeRow(xs.baseAddress!, count: x.count, into: $0.baseAddress!) }
        }
        return bytes
    }

    /// The values GGUF bytes (a whole number of blocks) stand for.
    public func dequantize(_ bytes: [UInt8]) -> [Float] {
        precondition(bytes.count % blockBytes == 0, "dequantize: \(bytes.count) bytes is not a whole number of blocks")
        let count = bytes.count / blockBytes * QuantFormat.blockElements
        var y = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { b in
            y.withUnsafeMutableBufferPointer { dequantizeRow(b.baseAddress!, count: count, into: $0.baseAddress!) }
        }
        return y
    }

    /// IEEE binary16 (bit pattern) -> Float, exact.
    public static func float(fp16 h: UInt16) -> Float { ckernels_fp16_to_fp32(h) }
    /// Float -> IEEE binary16 bit pattern, round to nearest even (the conversion the quantizers use).
    public static func fp16(_ x: Float) -> UInt16 { ckernels_fp32_to_fp16(x) }
}

/// A weight matrix (`rows` output features x `columns` input features) in a GGUF block format: each
/// row is `columns / 32` consecutive blocks, exactly as a GGUF file stores it. When this CPU has AVX2
/// (or better), the init also builds the repacked copy the SIMD kernels read (16-row groups, see
/// ckernels_quant.h); the GGUF bytes stay the source of truth (the portable path and the reference
/// read them).
///
/// Sendable invariant (why `@unchecked` is sound): both buffers are written only by `init` and are
/// read-only afterwards; they are freed in `deinit`.
public final class QuantizedMatrix: @unchecked Sendable {
    public let format: QuantFormat
    public let rows: Int
    public let columns: Int
    /// GGUF layout: `rows * format.rowBytes(columns:)` bytes, 64-byte aligned.
    public let blocks: UnsafeMutableRawPointer
    /// The 16-row interleaved copy for the AVX2 / AVX512-VNNI kernels (nil when the CPU has neither).
    public let repacked: UnsafeMutableRawPointer?
    public let repackedByteCount: Int

    /// Bytes of the GGUF layout.
    public var byteCount: Int { rows * format.rowBytes(columns: columns) }

    /// Quantizes `values` (row-major, `rows x columns`, row stride `columns`) with ggml's reference rule.
    public convenience init(format: QuantFormat, rows: Int, columns: Int, quantizing values: UnsafePointer<Float>) {
        self.init(format: format, rows: rows, columns: columns) { blocks in
            format.quantizeRow(values, count: rows * columns, into: blocks)
        }
    }

    /// Copies `rows * format.rowBytes(columns:)` bytes of GGUF blocks (e.g. a tensor of a GGUF file).
    public convenience init(format: QuantFormat, rows: Int, columns: Int, ggufBlocks: UnsafeRawPointer) {
        self.init(format: format, rows: rows, columns: columns) { blocks in
            blocks.copyMemory(from: ggufBlocks, byteCount: rows * format.rowBytes(columns: columns))
        }
    }

    private init(format: QuantFormat, rows: Int, columns: Int, fill: (UnsafeMutableRawPointer) -> Void) {
        precondition(rows >= 0 && columns >= 0, "QuantizedMatrix: negative dimension")
        precondition(columns % QuantFormat.blockElements == 0, "QuantizedMatrix: columns (\(columns)) must be a multiple of 32")
        self.format = format
        self.rows = rows
        self.columns = columns
        blocks = quantAllocateAligned(bytes: rows * format.rowBytes(columns: columns))
        fill(blocks)
        if ckernels_qpath_supported(Int32(CKERNELS_QPATH_AVX2)) != 0 {
            switch format {
            case .q8_0:
                repackedByteCount = ckernels_q8_0_repacked_bytes(rows, columns)
                let dst = quantAllocateAligned(bytes: repackedByteCount)
                ckernels_q8_0_repack(rows, columns, blocks.assumingMemoryBound(to: ckernels_block_q8_0.self), dst)
                repacked = dst
            case .q4_0:
                repackedByteCount = ckernels_q4_0_repacked_bytes(rows, columns)
                let dst = quantAllocateAligned(bytes: repackedByteCount)
                ckernels_q4_0_repack(rows, columns, blocks.assumingMemoryBound(to: ckernels_block_q4_0.self), dst)
                repacked = dst
            }
        } else {
            repacked = nil
            repackedByteCount = 0
        }
    }

    deinit {
        blocks.deallocate()
        repacked?.deallocate()
    }

    /// Row `row`'s GGUF blocks.
    public func rowBlocks(_ row: Int) -> UnsafeRawPointer {
        precondition(row >= 0 && row < rows, "QuantizedMatrix: row \(row) out of range")
        return UnsafeRawPointer(blocks + row * format.rowBytes(columns: columns))
    }

    /// The values row `row` stands for (`columns` floats into `y`).
    public func dequantizeRow(_ row: Int, into y: UnsafeMutablePointer<Float>) {
        format.dequantizeRow(rowBlocks(row), count: columns, into: y)
    }

    /// The whole matrix dequantized, row-major.
    public func dequantized() -> [Float] {
        var y = [Float](repeating: 0, count: rows * columns)
        y.withUnsafeMutableBufferPointer { ys in
            if rows * columns > 0 { format.dequantizeRow(blocks, count: rows * columns, into: ys.baseAddress!) }
        }
        return y
    }

    /// The exact reference product (slow, single-threaded): X (`tokens x columns`, row stride
    /// `columns`) is quantized to q8_0 with ggml's rule and Y (`tokens x rows`, row stride `rows`) is
    /// the per-block sum every kernel path reproduces bit for bit (ckernels_q*_gemm_ref).
    public func referenceProduct(x: UnsafePointer<Float>, tokens: Int, y: UnsafeMutablePointer<Float>) {
        let nb = columns / QuantFormat.blockElements
        let xq = UnsafeMutablePointer<ckernels_block_q8_0>.allocate(capacity: max(1, tokens * nb))
        defer { xq.deallocate() }
        ckernels_quantize_row_q8_0(x, xq, tokens * columns)
        switch format {
        case .q8_0:
            ckernels_q8_0_gemm_ref(rows, tokens, columns, blocks.assumingMemoryBound(to: ckernels_block_q8_0.self), xq, y, rows)
        case .q4_0:
            ckernels_q4_0_gemm_ref(rows, tokens, columns, blocks.assumingMemoryBound(to: ckernels_block_q4_0.self), xq, y, rows)
        }
    }
}

/// Y = X · Wᵀ for a quantized weight matrix W (M x K, q8_0 or q4_0) and `n` tokens of fp32
/// activations X (N x K), giving Y (N x M, fp32), planned once per (weights, n, pool) and run many
/// times. `run` quantizes X to q8_0 blocks (ggml's rule) and then multiplies, all inside the call, as
/// llama.cpp's `ggml_mul_mat` does; the workers split the output rows M in 16-row groups.
///
/// Every path returns the same bits (see ckernels_quant.h "Numerics"): the exact int32 block dots,
/// scaled by d_w * d_x and summed block by block with fused multiply-adds in order.
///
/// Sendable invariant (why `@unchecked` is sound): stored properties are immutable after `init`; the
/// activation buffers are written only inside `run`, which holds `runLock`, and each buffer by one
/// worker at a time (n <= 8: worker w writes and reads only its own; n > 8: the workers write disjoint
/// token ranges of the shared one, and the multiply starts only after `pool.run` returned, i.e. after
/// every worker finished quantizing). The weights are read-only.
public final class QuantizedGEMMPlan: @unchecked Sendable {
    public enum Path: String, Sendable, CaseIterable {
        /// vpdpbusd on 64-byte vectors of 16 rows x 4 k (AVX512 F/BW/VL/DQ/VNNI, F16C, FMA).
        case avx512vnni
        /// vpmaddubsw / vpmaddwd on 32-byte halves of the same layout (AVX2, FMA, F16C).
        case avx2
        /// Plain C over the GGUF rows; runs anywhere.
        case portable

        var cPath: Int32 {
            switch self {
            case .avx512vnni: Int32(CKERNELS_QPATH_AVX512VNNI)
            case .avx2: Int32(CKERNELS_QPATH_AVX2)
            case .portable: Int32(CKERNELS_QPATH_PORTABLE)
            }
        }

        public var isSupported: Bool { ckernels_qpath_supported(cPath) != 0 }
        /// The fastest path this CPU runs.
        public static func detect() -> Path { allCases.first { $0.isSupported } ?? .portable }
        /// Every path this CPU runs, fastest first.
        public static var supported: [Path] { allCases.filter { $0.isSupported } }

        /// The path of an instruction-set choice (`--isa`): AVX-512 means the VNNI path.
        public init(isa: CPUISA) {
            switch isa {
            case .avx512: self = .avx512vnni
            case .avx2: self = .avx2
            case .portable: self = .portable
            }
        }
    }

    public let weights: QuantizedMatrix
    /// Tokens per call (rows of X and Y).
    public let n: Int
    public let path: Path
    public let pool: WorkerPool
    /// `rowSlices[w]`: the output rows worker w computes (whole 16-row groups; possibly empty).
    public let rowSlices: [Range<Int>]
    /// Quantized activations (the "qact" layout): one per worker when n <= 8, else one shared.
    private let activations: [UnsafeMutableRawPointer]
    private let runLock = NSLock()

    /// Tokens up to which every worker quantizes all of X itself (no second dispatch): one activation
    /// tile, the GEMV case, where quantizing is ~1% of the call.
    public static let gemvTokens = Int(CKERNELS_QACT_TILE)

    /// - Parameters:
    ///   - path: the kernel path; nil picks `Path.detect()`. Must be supported by this CPU.
    public init(weights: QuantizedMatrix, tokens n: Int, pool: WorkerPool, path: Path? = nil) {
        precondition(n >= 0, "QuantizedGEMMPlan: negative token count")
        let path = path ?? Path.detect()
        precondition(path.isSupported, "QuantizedGEMMPlan: this CPU cannot run the \(path.rawValue) path")
        precondition(path == .portable || weights.repacked != nil, "QuantizedGEMMPlan: the weights have no repacked copy")
        self.weights = weights
        self.n = n
        self.path = path
        self.pool = pool
        rowSlices = quantRowSlices(rows: weights.rows, groupRows: Int(CKERNELS_QREPACK_ROWS), workers: pool.threadCount)
        activations = quantActivationBuffers(
            bytes: ckernels_qact_bytes(n, weights.columns), perWorker: n <= QuantizedGEMMPlan.gemvTokens, pool: pool)
    }

    deinit {
        for a in activations { a.deallocate() }
    }

    /// The ISA path and schedule, e.g. "q4_0 avx512vnni: repacked 16-row groups x 4 k, k chunks of 1024
    /// (vpdpbusd + gfni), GEMV 1 token(s) per pass, 2 thread(s)".
    public var kernelPath: String {
        let format = weights.format.rawValue
        let schedule = n <= QuantizedGEMMPlan.gemvTokens
            ? "GEMV \(n) token(s) per pass"
            : "GEMM 16 rows x \(CKERNELS_QACT_TILE) tokens per pass"
        let threads = "\(pool.threadCount) thread(s)"
        let layout = "repacked 16-row groups x 4 k, k chunks of \(Int(CKERNELS_QREPACK_CHUNK_BLOCKS) * Int(CKERNELS_QK))"
        switch path {
        case .avx512vnni:
            let gfni = weights.format == .q4_0 && n <= 2 && ckernels_q4_0_avx512vnni_uses_gfni() != 0 ? " + gfni" : ""
            return "\(format) avx512vnni: \(layout) (vpdpbusd\(gfni)), \(schedule), \(threads)"
        case .avx2:
            return "\(format) avx2: \(layout) (vpmaddubsw/vpmaddwd), \(schedule), \(threads)"
        case .portable:
            return "\(format) portable: GGUF rows (scalar int32 dots), \(threads)"
        }
    }

    /// Worker w's share: its rows of Y from quantized activations `act`.
    private func multiply(_ w: Int, _ act: UnsafeRawPointer, y: UnsafeMutablePointer<Float>, ldy: Int) {
        let rows = rowSlices[w]
        if rows.isEmpty { return }
        let (m, k, n) = (weights.rows, weights.columns, self.n)
        let (m0, m1) = (rows.lowerBound, rows.upperBound)
        let gguf = UnsafeRawPointer(weights.blocks), repacked = weights.repacked.map { UnsafeRawPointer($0) }
        switch (path, weights.format) {
        case (.avx512vnni, .q8_0): ckernels_q8_0_gemm_avx512vnni(m, n, k, repacked, act, y, ldy, m0, m1)
        case (.avx512vnni, .q4_0): ckernels_q4_0_gemm_avx512vnni(m, n, k, repacked, act, y, ldy, m0, m1)
        case (.avx2, .q8_0): ckernels_q8_0_gemm_avx2(m, n, k, repacked, act, y, ldy, m0, m1)
        case (.avx2, .q4_0): ckernels_q4_0_gemm_avx2(m, n, k, repacked, act, y, ldy, m0, m1)
        case (.portable, .q8_0):
            ckernels_q8_0_gemm_portable(m, n, k, gguf.assumingMemoryBound(to: ckernels_block_q8_0.self), act, y, ldy, m0, m1)
        case (.portable, .q4_0):
            ckernels_q4_0_gemm_portable(m, n, k, gguf.assumingMemoryBound(to: ckernels_block_q4_0.self), act, y, ldy, m0, m1)
        }
    }

    /// Y (n x M, row stride ldy >= M) = X (n x K, row stride ldx >= K) · Wᵀ; X must be finite.
    public func run(x: UnsafePointer<Float>, ldx: Int, y: UnsafeMutablePointer<Float>, ldy: Int) {
        let (m, k, n) = (weights.rows, weights.columns, self.n)
        precondition(ldx >= k && ldy >= m, "QuantizedGEMMPlan.run: leading dimension smaller than the matrix")
        if n == 0 || m == 0 { return }
        runLock.lock()
        defer { runLock.unlock() }
        let acts = activations, slices = rowSlices
        let cPath = path.cPath, cFormat = weights.format.cFormat
        if n <= QuantizedGEMMPlan.gemvTokens {
            // GEMV: each worker quantizes all n tokens into its own buffer, then multiplies its rows.
            pool.run { w in
                if slices[w].isEmpty { return }
                ckernels_qact_quantize(cPath, cFormat, 0, n, n, k, x, ldx, acts[w])
                multiply(w, UnsafeRawPointer(acts[w]), y: y, ldy: ldy)
            }
        } else {
            let workers = pool.threadCount
            pool.run { w in
                let tokens = WorkerPool.chunk(w, of: workers, count: n)
                if !tokens.isEmpty {
                    ckernels_qact_quantize(cPath, cFormat, tokens.lowerBound, tokens.upperBound, n, k, x, ldx, acts[0])
                }
            }
            pool.run { w in multiply(w, UnsafeRawPointer(acts[0]), y: y, ldy: ldy) }
        }
    }

    /// Several products of one X, Y_i = X · W_iᵀ (each Y_i n x M_i, contiguous), e.g. a layer's Q, K
    /// and V projections: for GEMV token counts (n <= gemvTokens) in ONE pool job, where each worker
    /// quantizes X once and then computes its rows of every matrix, so the small matrices (K and V
    /// are a quarter of Q in GQA models) stream back to back instead of each paying a job's start,
    /// ramp-up and join. Larger n runs the plans one after another. The plans must share the pool,
    /// n, K, format and path.
    public static func run(_ plans: [QuantizedGEMMPlan], x: UnsafePointer<Float>, outputs: [UnsafeMutablePointer<Float>]) {
        precondition(plans.count == outputs.count, "QuantizedGEMMPlan.run: one output per plan")
        guard let first = plans.first else { return }
        precondition(plans.allSatisfy {
            $0.pool === first.pool && $0.n == first.n && $0.weights.columns == first.weights.columns
                && $0.weights.format == first.weights.format && $0.path == first.path
        }, "QuantizedGEMMPlan.run: the plans differ in pool, tokens, K, format or path")
        let (n, k) = (first.n, first.weights.columns)
        if n > gemvTokens || plans.count == 1 {
            for (plan, y) in zip(plans, outputs) { plan.run(x: x, y: y) }
            return
        }
        if n == 0 { return }
        for plan in plans { plan.runLock.lock() }
        defer { for plan in plans { plan.runLock.unlock() } }
        let acts = first.activations
        let cPath = first.path.cPath, cFormat = first.weights.format.cFormat
        first.pool.run { w in
            guard plans.contains(where: { !$0.rowSlices[w].isEmpty }) else { return }
            ckernels_qact_quantize(cPath, cFormat, 0, n, n, k, x, k, acts[w])
            for (plan, y) in zip(plans, outputs) {
                plan.multiply(w, UnsafeRawPointer(acts[w]), y: y, ldy: plan.weights.rows)
            }
        }
    }

    /// Y (n x M, contiguous) = X (n x K, contiguous) · Wᵀ.
    public func run(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        run(x: x, ldx: weights.columns, y: y, ldy: weights.rows)
    }
}
