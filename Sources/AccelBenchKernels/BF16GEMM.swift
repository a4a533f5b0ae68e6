import AccelBenchCore
import CKernels

/// bf16 x bf16 -> fp32 GEMM on the pool, planned once per shape: C (m x n, fp32) = A (m x k, bf16)
/// x B (k x n, bf16), row-major, overwriting C. The kernel is C (`vdpbf16ps` has no Swift spelling):
/// AVX512-BF16 where the CPU has it, a portable fp32 fallback otherwise.
///
/// Sendable invariant (why `@unchecked` is sound): properties are immutable after `init`; workspace w
/// is written only by worker w inside `run`, and `run` is not reentrant (callers time it from one thread).
public final class BF16GEMMPlan: @unchecked Sendable {
    public enum Path: String, Sendable, CaseIterable {
        case avx512bf16, portable

        public var isSupported: Bool { self == .portable || ckernels_sbgemm_avx512bf16_supported() != 0 }
        public static func detect() -> Path { avx512bf16.isSupported ? .avx512bf16 : .portable }
    }

    public let m: Int, n: Int, k: Int
    public let path: Path
    public let pool: WorkerPool
    /// Worker w computes rows `slices[w].rows` x columns `slices[w].columns` of C.
    public let slices: [SGEMMPlan.Slice]
    private let workspaces: [UnsafeMutableRawPointer]

    public init(m: Int, n: Int, k: Int, path: Path, pool: WorkerPool) {
        precondition(path.isSupported, "BF16GEMMPlan: this CPU cannot run the \(path.rawValue) kernel")
        self.m = m
        self.n = n
        self.k = k
        self.path = path
        self.pool = pool
        let mr = Int(CKERNELS_SBGEMM_MR), nr = Int(CKERNELS_SBGEMM_NR)
        slices = SGEMMPlan.slices(m: m, n: n, tileRows: mr, tileColumns: nr, workers: pool.threadCount, split: m >= n ? .rows : .columns)
        workspaces = slices.map { slice in
            let bytes = max(64, ckernels_sbgemm_workspace_bytes(slice.rows.count, slice.columns.count, k))
            let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
            return raw
        }
    }

    deinit {
        for w in workspaces { w.deallocate() }
    }

    public var kernelPath: String {
        path == .avx512bf16
            ? "ckernels_sbgemm_avx512bf16 \(CKERNELS_SBGEMM_MR)x\(CKERNELS_SBGEMM_NR) (vdpbf16ps), \(pool.threadCount) thread(s)"
            : "ckernels_sbgemm_portable (fp32 multiply-add), \(pool.threadCount) thread(s)"
    }

    /// C = A x B; A is m x k (lda >= k), B is k x n (ldb >= n), C is m x n (ldc >= n).
    public func run(a: UnsafePointer<UInt16>, lda: Int, b: UnsafePointer<UInt16>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let slices = self.slices, workspaces = self.workspaces, k = self.k, path = self.path
        let (a, b, c) = (UInt(bitPattern: a), UInt(bitPattern: b), UInt(bitPattern: c))
        pool.run { w in
            guard w < slices.count, !slices[w].isEmpty else { return }
            let s = slices[w]
            let aSlice = UnsafePointer<UInt16>(bitPattern: a)! + s.rows.lowerBound * lda
            let bSlice = UnsafePointer<UInt16>(bitPattern: b)! + s.columns.lowerBound
            let cSlice = UnsafeMutablePointer<Float>(bitPattern: c)! + (s.rows.lowerBound * ldc + s.columns.lowerBound)
            let (ms, ns) = (s.rows.count, s.columns.count)
            switch path {
            case .avx512bf16:
                ckernels_sbgemm_avx512bf16(ms, ns, k, aSlice, lda, bSlice, ldb, cSlice, ldc, workspaces[w])
            case .portable:
                ckernels_sbgemm_portable(ms, ns, k, aSlice, lda, bSlice, ldb, cSlice, ldc, workspaces[w])
            }
        }
    }
}
