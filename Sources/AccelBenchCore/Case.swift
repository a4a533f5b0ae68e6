/// One measurement to make: a workload at a shape and dtype, on a backend, with a thread count.
public struct CaseSpec: Hashable, Codable, Sendable, CustomStringConvertible {
    public var workload: Workload
    public var backend: String
    public var dtype: DType
    public var shape: Shape
    public var threads: Int

    public init(workload: Workload, backend: String, dtype: DType, shape: Shape, threads: Int) {
        self.workload = workload
        self.backend = backend
        self.dtype = dtype
        self.shape = shape
        self.threads = threads
    }

    public var description: String {
        "\(workload.rawValue) \(backend) \(dtype.rawValue) \(shape) \(threads)T"
    }

    /// The case without its backend: results of different backends with the same comparison key did
    /// the same work and are compared side by side.
    public var comparisonKey: String {
        "\(workload.rawValue)|\(dtype.rawValue)|\(shape)|\(threads)"
    }
}

/// An implementation of one or more workloads: our own kernels, a library, a device.
public protocol Backend: Sendable {
    var name: String { get }
    var summary: String { get }
    /// Workloads and dtypes it implements at all (on some machine).
    var capabilities: [Workload: [DType]] { get }
    /// Why this backend cannot run the case here (missing ISA, shape too large for a reference...), or nil.
    func unsupportedReason(_ spec: CaseSpec) -> String?
    /// Allocates and fills the case's buffers and everything the timed call needs. Not timed.
    func prepare(_ spec: CaseSpec, context: CaseContext) throws -> any PreparedCase
    /// Called after the last timed call of a case of this backend, before another backend runs:
    /// the place to let a library's worker threads go idle so they don't slow the next kernel.
    func endPhase()
}

extension Backend {
    public func endPhase() {}
}

/// What a backend gets to prepare a case.
public struct CaseContext: Sendable {
    /// Workers bound to CPUs, `spec.threads` of them.
    public let pool: WorkerPool
    /// Seed for the case's random inputs.
    public let seed: UInt64
    /// Elements of output the correctness check samples (all of them when the output is smaller).
    public let checkSamples: Int
    /// The machine's last-level cache, bytes (0: unknown). Memory-bound cases whose buffers fit in it
    /// rotate through enough copies to exceed it 4x, so they measure memory, not cache.
    public let lastLevelCacheBytes: Int

    public init(pool: WorkerPool, seed: UInt64, checkSamples: Int = 4096, lastLevelCacheBytes: Int = 0) {
        self.pool = pool
        self.seed = seed
        self.checkSamples = checkSamples
        self.lastLevelCacheBytes = lastLevelCacheBytes
    }
}

/// A case ready to time. Implementations own their buffers.
public protocol PreparedCase: AnyObject {
    /// Names the code that runs: ISA, tile, library core (e.g. "swift-simd avx512 12x32", "OpenBLAS Haswell").
    var kernelPath: String { get }
    /// Fills every output with NaN, so elements a kernel fails to write cannot pass the check.
    func poisonOutputs()
    /// One call of the kernel under test: the timed region.
    func run()
    /// Compares the outputs of the last call with the float64 reference.
    func check() -> CorrectnessCheck
    /// Called outside the timed region before each sample (e.g. rotates input buffers); default none.
    func beforeSample()
    /// A second measure of each call that only the prepared case knows (e.g. a model's weight bytes);
    /// nil: the workload's own `secondaryWork`, if any.
    var secondaryWork: Work? { get }
    /// A reference operation to time in alternation with the kernel after the main measurement
    /// (e.g. a plain read of the bytes a cold GEMV streams); nil: none.
    var pairedReference: PairedReference? { get }
}

extension PreparedCase {
    public func beforeSample() {}
    public var secondaryWork: Work? { nil }
    public var pairedReference: PairedReference? { nil }
}

/// A reference operation timed sample by sample in alternation with a case's kernel, so the kernel is
/// judged against what the machine delivered at the same moment, not against a ceiling measured
/// earlier in the run. A shared host drifts: on this project's 2-core VM the read-only bandwidth
/// moved between 30 and 50 GB/s from one minute to the next, more than the effects being judged,
/// while two operations timed in alternation see the same conditions. Used for cold (DRAM-streaming)
/// GEMVs: the reference reads the same weight bytes with the same threads.
public struct PairedReference {
    /// What the reference does, e.g. "read-only sum over the same weight copies, same threads".
    public var label: String
    /// Work of one reference call.
    public var work: Work
    /// The kernel's work per call by the same measure (same kind as `work`), e.g. its weight bytes.
    public var kernelWork: Work
    /// One reference call. It must advance through the case's data as the kernel does (e.g. the
    /// same rotation of weight copies), so that both read from the same level of the memory hierarchy.
    public var run: () -> Void
    /// The kernel's side of a pair, when it is a smaller unit than the case's call (an LLM decode of
    /// 128 tokens pairs single decode steps, so pairs take milliseconds, not seconds); `kernelWork`
    /// is then this unit's work. nil: the case's `run`. A unit may leave the case's state anywhere:
    /// the runner makes one whole call after the pairs, and the final correctness check is on it.
    public var kernel: (() -> Void)?

    public init(label: String, work: Work, kernelWork: Work, kernel: (() -> Void)? = nil, run: @escaping () -> Void) {
        precondition(work.kind == kernelWork.kind, "PairedReference: the reference and the kernel must be measured in the same kind of work")
        self.label = label
        self.work = work
        self.kernelWork = kernelWork
        self.kernel = kernel
        self.run = run
    }
}

/// The outcome of comparing a kernel's output with its float64 reference.
public struct CorrectnessCheck: Codable, Sendable, Equatable {
    /// The error measure, e.g. "max_rel_err" (|c - ref| / sum_k |a_ik·b_kj| over sampled elements).
    public var metric: String
    public var value: Double
    /// The named tolerance the value is held to, e.g. "fp32-accumulate 16·u·√K".
    public var toleranceName: String
    public var tolerance: Double
    /// Elements compared with the reference, and elements that were NaN or infinite.
    public var elementsChecked: Int
    public var nonFinite: Int
    /// Normalized mean squared error Σ(x - ref)² / Σ ref² over the compared elements, where a check
    /// reports it, held to `nmseTolerance` when that is set.
    public var nmse: Double?
    public var nmseTolerance: Double?
    public var passed: Bool {
        guard nonFinite == 0 && value <= tolerance && value.isFinite else { return false }
        if let nmse, let nmseTolerance { return nmse.isFinite && nmse <= nmseTolerance }
        return true
    }

    public init(
        metric: String, value: Double, toleranceName: String, tolerance: Double, elementsChecked: Int, nonFinite: Int,
        nmse: Double? = nil, nmseTolerance: Double? = nil
    ) {
        self.metric = metric
        self.value = value
        self.toleranceName = toleranceName
        self.tolerance = tolerance
        self.elementsChecked = elementsChecked
        self.nonFinite = nonFinite
        self.nmse = nmse
        self.nmseTolerance = nmseTolerance
    }

    public var explanation: String {
        if nonFinite > 0 {
            return "\(nonFinite) of \(elementsChecked) checked outputs are NaN/Inf (unwritten or overflowed)"
        }
        var text = "\(metric) = \(value) vs tolerance \(toleranceName) = \(tolerance)"
        if let nmse, let nmseTolerance { text += "; nmse = \(nmse) vs \(nmseTolerance)" }
        return text
    }
}
