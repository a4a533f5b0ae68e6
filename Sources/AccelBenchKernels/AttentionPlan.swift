import AccelBenchCore

/// Fused attention for one geometry, planned once and run many times: the split-KV decode kernel for a
/// few new tokens per head (`AttentionDecodePlan`), the tiled prefill kernel otherwise
/// (`AttentionPrefillPlan`). Neither materializes the query x KV score matrix.
public final class AttentionPlan: @unchecked Sendable {
    // Sendable: both plans are themselves safe to share (see their invariants); this class only
    // forwards to the one it holds, which never changes after init.
    public enum Path: String, Sendable {
        case decode, prefill
    }

    public let geometry: AttentionGeometry
    public let isa: CPUISA
    public let path: Path
    private let prefill: AttentionPrefillPlan?
    private let decode: AttentionDecodePlan?

    /// Whether the decode kernel takes this geometry: a few new tokens per head
    /// (queryLength <= decodeMaxQueryLength) that the decode kernel supports.
    public static var decodeMaxQueryLength: Int { AttentionDecodePlan.maxQueryLength }

    static func choosePath(_ g: AttentionGeometry) -> Path {
        g.queryLength <= decodeMaxQueryLength && g.queryLength < g.kvLength && AttentionDecodePlan.unsupportedReason(g) == nil
            ? .decode : .prefill
    }

    /// Why the fused kernels cannot run this geometry on `isa`, or nil.
    public static func unsupportedReason(_ g: AttentionGeometry, isa: CPUISA) -> String? {
        if !isa.isSupported { return "this CPU cannot run the \(isa.rawValue) kernels" }
        switch choosePath(g) {
        case .decode: return nil
        case .prefill: return AttentionPrefillPlan.unsupportedReason(g)
        }
    }

    public init(geometry: AttentionGeometry, isa: CPUISA, pool: WorkerPool) {
        precondition(AttentionPlan.unsupportedReason(geometry, isa: isa) == nil, "AttentionPlan: unsupported geometry \(geometry)")
        self.geometry = geometry
        self.isa = isa
        path = AttentionPlan.choosePath(geometry)
        switch path {
        case .decode:
            decode = AttentionDecodePlan(geometry: geometry, isa: isa, pool: pool)
            prefill = nil
        case .prefill:
            prefill = AttentionPrefillPlan(geometry: geometry, isa: isa, pool: pool)
            decode = nil
        }
    }

    /// How `run` wants K: row-major (prefill) or in the decode kernel's tiles (`AttentionKeyTiles`).
    public enum KeyLayout: String, Sendable {
        case rows, tiles
    }

    public var keyLayout: KeyLayout { path == .decode ? .tiles : .rows }

    public var kernelPath: String { decode?.kernelPath ?? prefill!.kernelPath }
    /// Scratch memory the kernels allocated for all workers, bytes.
    public var scratchBytes: Int { decode?.scratchBytes ?? prefill!.scratchBytes }

    /// O = softmax(Q·Kᵀ·scale [+ mask])·V in the layout `AttentionGeometry` documents, except K, which
    /// is in `keyLayout` (tiles: `AttentionKeyTiles.pack`); writes every element of O.
    public func run(q: UnsafePointer<Float>, k: UnsafeRawPointer, v: UnsafeRawPointer, o: UnsafeMutablePointer<Float>) {
        if let decode {
            decode.run(q: q, k: k, v: v, o: o)
        } else {
            prefill!.run(q: q, k: k, v: v, o: o)
        }
    }
}
