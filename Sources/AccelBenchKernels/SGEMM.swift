import AccelBenchCore
import Foundation
import KernelsAVX2
import KernelsAVX512
import KernelsPortable

/// One fp32 GEMM shape, planned once and run many times: C (m x n) = A (m x k) x B (k x n), row-major
/// with leading dimensions, overwriting C.
///
/// `init` checks the ISA, splits C between the pool's workers and allocates (and pre-faults) one
/// 64-byte-aligned workspace per worker; `run` is the timed call. Each worker computes its own slice
/// of C with the single-threaded kernel of the chosen ISA and packs its own panels, so workers never
/// wait for each other inside a call.
///
/// Sendable invariant (why `@unchecked` is sound): every stored property is immutable after `init`
/// except the contents of the workspaces, which are written only inside `run`, by the worker that
/// owns them, while `runLock` is held, so two threads calling `run` on one plan take turns. The
/// workspaces are freed in `deinit`, when no `run` can be in progress.
public final class SGEMMPlan: @unchecked Sendable {
    /// How C is divided between workers.
    public enum Split: String, Sendable, CaseIterable {
        /// Each worker gets a range of rows (whole panels of the tile height) and packs all of B.
        case rows
        /// Each worker gets a range of columns (whole panels of the tile width) and packs all of A.
        case columns
    }

    /// The part of C one worker computes.
    public struct Slice: Sendable, Equatable {
        public let rows: Range<Int>
        public let columns: Range<Int>
        public var isEmpty: Bool { rows.isEmpty || columns.isEmpty }
    }

    public let m: Int
    public let n: Int
    public let k: Int
    public let isa: CPUISA
    public let pool: WorkerPool
    public let split: Split
    /// `slices[w]` is worker w's part of C (possibly empty).
    public let slices: [Slice]
    private let workspaces: [UnsafeMutablePointer<Float>]
    private let runLock = NSLock()

    /// - Parameters:
    ///   - isa: the kernel module to run; must be supported by this CPU (`isa.isSupported`).
    ///   - split: how to divide C between workers; nil picks the cheaper one by `costEstimate`.
    public init(m: Int, n: Int, k: Int, isa: CPUISA, pool: WorkerPool, split: Split? = nil) {
        precondition(m >= 0 && n >= 0 && k >= 0, "SGEMMPlan: negative dimension")
        precondition(isa.isSupported, "SGEMMPlan: this CPU cannot run the \(isa.rawValue) kernels")
        self.m = m
        self.n = n
        self.k = k
        self.isa = isa
        self.pool = pool
        let workers = pool.threadCount
        let chosen = split ?? SGEMMPlan.cheaperSplit(m: m, n: n, k: k, isa: isa, workers: workers)
        self.split = chosen
        let slices = SGEMMPlan.slices(m: m, n: n, isa: isa, workers: workers, split: chosen)
        self.slices = slices
        self.workspaces = slices.map { slice in
            let floats = max(16, SGEMMPlan.workspaceFloats(
                isa: isa, m: slice.rows.count, n: slice.columns.count, k: k))
            let raw = UnsafeMutableRawPointer.allocate(byteCount: floats * 4, alignment: 64)
            return raw.initializeMemory(as: Float.self, repeating: 0, count: floats)
        }
        // Touch each workspace again from its own worker so the first timed call takes no page faults
        // and each worker's pages are local to it.
        let spaces = workspaces
        pool.run { index in
            guard index < slices.count else { return }
            let floats = max(16, SGEMMPlan.workspaceFloats(
                isa: isa, m: slices[index].rows.count, n: slices[index].columns.count, k: k))
            spaces[index].update(repeating: 0, count: floats)
        }
    }

    deinit {
        for workspace in workspaces { workspace.deallocate() }
    }

    /// C = A x B on the pool. A is m x k (row stride lda >= k), B is k x n (ldb >= n), C is m x n
    /// (ldc >= n); C must not overlap A or B.
    public func run(
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        precondition(lda >= k && ldb >= n && ldc >= n, "SGEMMPlan.run: leading dimension smaller than the matrix")
        runLock.lock()
        defer { runLock.unlock() }
        let slices = self.slices, workspaces = self.workspaces, isa = self.isa, k = self.k
        pool.run { index in
            guard index < slices.count else { return }
            SGEMMPlan.runSlice(slices[index], k: k, isa: isa, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
                               workspace: workspaces[index])
        }
    }

    private static func runSlice(
        _ slice: Slice, k: Int, isa: CPUISA,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, workspace: UnsafeMutablePointer<Float>
    ) {
        if slice.isEmpty { return }
        let i0 = slice.rows.lowerBound, j0 = slice.columns.lowerBound
        let aSlice = a + i0 * lda
        let bSlice = b + j0
        let cSlice = c + (i0 * ldc + j0)
        SGEMMKernels.sgemm(
            isa: isa, m: slice.rows.count, n: slice.columns.count, k: k,
            a: aSlice, lda: lda, b: bSlice, ldb: ldb, c: cSlice, ldc: ldc, workspace: workspace)
    }

    // MARK: Work division

    /// Workspace floats the kernel of `isa` needs for one m x n x k call.
    public static func workspaceFloats(isa: CPUISA, m: Int, n: Int, k: Int) -> Int {
        SGEMMKernels.workspaceFloats(isa: isa, m: m, n: n, k: k)
    }

    /// Splits C into `workers` slices of whole register-tile panels (sizes differ by at most one panel).
    public static func slices(m: Int, n: Int, isa: CPUISA, workers: Int, split: Split) -> [Slice] {
        let (mr, nr) = SGEMMKernels.tile(isa: isa)
        return slices(m: m, n: n, tileRows: mr, tileColumns: nr, workers: workers, split: split)
    }

    /// Splits C into `workers` slices of whole tiles (tileRows x tileColumns), sizes differing by at
    /// most one tile panel, along the rows or the columns.
    public static func slices(m: Int, n: Int, tileRows mr: Int, tileColumns nr: Int, workers: Int, split: Split) -> [Slice] {
        if workers == 1 { return [Slice(rows: 0..<m, columns: 0..<n)] }
        switch split {
        case .rows:
            let panels = (m + mr - 1) / mr
            return (0..<workers).map { w in
                let chunk = WorkerPool.chunk(w, of: workers, count: panels)
                return Slice(rows: min(m, chunk.lowerBound * mr)..<min(m, chunk.upperBound * mr), columns: 0..<n)
            }
        case .columns:
            let panels = (n + nr - 1) / nr
            return (0..<workers).map { w in
                let chunk = WorkerPool.chunk(w, of: workers, count: panels)
                return Slice(rows: 0..<m, columns: min(n, chunk.lowerBound * nr)..<min(n, chunk.upperBound * nr))
            }
        }
    }

    /// A model of the slowest worker's time, in multiply-adds: the register tiles it computes (padded
    /// to whole tiles) plus its packing passes, each packed element weighted by the multiply-adds the
    /// core could have done meanwhile (measured on Zen 4: about half a cycle per element for either
    /// operand, at 16 multiply-adds a cycle). The kernels skip packing A when a slice is one panel
    /// wide and B when it is one panel tall. Ties go to the column split (measured 2-6% faster on
    /// square shapes: each worker's packed B block is half as large).
    public static func costEstimate(m: Int, n: Int, k: Int, isa: CPUISA, workers: Int, split: Split) -> Double {
        let (mr, nr) = SGEMMKernels.tile(isa: isa)
        let nc = SGEMMKernels.blocking(isa: isa).nc
        var worst = 0.0
        for slice in slices(m: m, n: n, isa: isa, workers: workers, split: split) where !slice.isEmpty {
            let ms = slice.rows.count, ns = slice.columns.count
            let tiles = Double((ms + mr - 1) / mr * mr) * Double((ns + nr - 1) / nr * nr) * Double(k)
            let packA = ns <= nr ? 0.0 : Double(ms) * Double(k) * Double((ns + nc - 1) / nc)
            let packB = ms <= mr ? 0.0 : Double(ns) * Double(k)
            worst = max(worst, tiles + 8 * packA + 8 * packB)
        }
        return worst
    }

    static func cheaperSplit(m: Int, n: Int, k: Int, isa: CPUISA, workers: Int) -> Split {
        if workers == 1 { return .columns }
        let byRows = costEstimate(m: m, n: n, k: k, isa: isa, workers: workers, split: .rows)
        let byColumns = costEstimate(m: m, n: n, k: k, isa: isa, workers: workers, split: .columns)
        return byRows < byColumns ? .rows : .columns
    }
}

/// Dispatch to the per-ISA kernel modules. Only raw pointers and integers cross into them, and a
/// module is entered only for the ISA the caller chose (and `SGEMMPlan` checked).
public enum SGEMMKernels {
    /// (rows, columns) of the register tile of `isa`'s kernel.
    public static func tile(isa: CPUISA) -> (rows: Int, columns: Int) {
        switch isa {
        case .avx512: (KernelsAVX512.SGEMMKernel.tileRows, KernelsAVX512.SGEMMKernel.tileColumns)
        case .avx2: (KernelsAVX2.SGEMMKernel.tileRows, KernelsAVX2.SGEMMKernel.tileColumns)
        case .portable: (KernelsPortable.SGEMMKernel.tileRows, KernelsPortable.SGEMMKernel.tileColumns)
        }
    }

    /// The cache blocking (kc, mc, nc) of `isa`'s kernel.
    public static func blocking(isa: CPUISA) -> (kc: Int, mc: Int, nc: Int) {
        switch isa {
        case .avx512: KernelsAVX512.SGEMMKernel.blocking
        case .avx2: KernelsAVX2.SGEMMKernel.blocking
        case .portable: KernelsPortable.SGEMMKernel.blocking
        }
    }

    public static func workspaceFloats(isa: CPUISA, m: Int, n: Int, k: Int) -> Int {
        switch isa {
        case .avx512: KernelsAVX512.SGEMMKernel.workspaceFloats(m: m, n: n, k: k)
        case .avx2: KernelsAVX2.SGEMMKernel.workspaceFloats(m: m, n: n, k: k)
        case .portable: KernelsPortable.SGEMMKernel.workspaceFloats(m: m, n: n, k: k)
        }
    }

    /// Single-threaded C = A x B with `isa`'s kernel. The caller must have checked `isa.isSupported`.
    public static func sgemm(
        isa: CPUISA, m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, workspace: UnsafeMutablePointer<Float>
    ) {
        switch isa {
        case .avx512:
            KernelsAVX512.SGEMMKernel.sgemm(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, workspace: workspace)
        case .avx2:
            KernelsAVX2.SGEMMKernel.sgemm(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, workspace: workspace)
        case .portable:
            KernelsPortable.SGEMMKernel.sgemm(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, workspace: workspace)
        }
    }
}
