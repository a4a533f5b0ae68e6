import CHwloc
import Foundation

/// Binds threads of this process to physical cores of this machine through hwloc.
///
/// Owns one hwloc topology of the running machine (no I/O discovery), loaded in `init` and
/// destroyed in `deinit`. Meant for `WorkerPool(threadCount:onStart:)`:
///
///     let binder = try TopologyBinder()
///     let pool = WorkerPool(threadCount: n) { index in try? binder.bindCurrentThread(toCoreIndex: index) }
///
/// Thread safety: hwloc allows concurrent calls on a *loaded* topology as long as none of them
/// modifies it; consulting objects and the binding calls (`hwloc_set_cpubind`,
/// `hwloc_get_cpubind`) only read it. This class never modifies the topology after `init`
/// (no restrict, no insertion, no filter change), so every method may be called from any thread
/// at the same time.
public final class TopologyBinder: Sendable {
    /// The raw hwloc pointers are not Sendable. Invariant that makes sharing them sound: the
    /// topology is fully loaded before this value exists, is only read (traversal, cpubind calls)
    /// while it exists, and is destroyed only in `TopologyBinder.deinit`, when no thread can still
    /// reach it. `coreSets` point into the topology's own objects and live exactly as long.
    private struct Handle: @unchecked Sendable {
        let topology: hwloc_topology_t
        let coreSets: [hwloc_const_cpuset_t]
    }

    private let handle: Handle
    /// Cores a thread can be bound to (hwloc Core objects, or PUs on a machine reporting no cores).
    public let coreCount: Int
    /// Whether the OS and hwloc can bind the calling thread; when false, binding throws
    /// `.bindingUnsupported` and the caller should run unbound and say so.
    public let supportsThreadBinding: Bool

    /// Loads this machine's topology (CPU part only: fast).
    public init() throws {
        let topology = try HwlocHandle.load(.thisSystem(withIO: false))
        var coreObjects = hwlocObjects(topology, HWLOC_OBJ_CORE)
        if coreObjects.isEmpty { coreObjects = hwlocObjects(topology, HWLOC_OBJ_PU) }
        let sets = coreObjects.compactMap { object -> hwloc_const_cpuset_t? in
            object.pointee.cpuset
        }
        let support = hwloc_topology_get_support(topology)
        supportsThreadBinding =
            hwloc_topology_is_thissystem(topology) != 0
            && (support?.pointee.cpubind?.pointee.set_thisthread_cpubind ?? 0) != 0
            && !sets.isEmpty
        coreCount = sets.count
        handle = Handle(topology: topology, coreSets: sets)
    }

    deinit {
        hwloc_topology_destroy(handle.topology)
    }

    /// OS indexes of the PUs of core `index` (modulo `coreCount`).
    public func puOSIndexes(forCoreIndex index: Int) -> [Int] {
        guard coreCount > 0 else { return [] }
        return cpusetOSIndexes(handle.coreSets[wrapped(index)])
    }

    /// Binds the calling thread to every PU of the `index`-th core (modulo `coreCount`, so worker
    /// `i` of a pool larger than the machine wraps around). Tries a strict binding first, then a
    /// plain one where the OS refuses STRICT.
    public func bindCurrentThread(toCoreIndex index: Int) throws {
        guard supportsThreadBinding else {
            throw TopologyError(
                code: .bindingUnsupported,
                message: "this OS or hwloc build cannot bind threads; run unbound and record it",
                cause: nil)
        }
        let set = handle.coreSets[wrapped(index)]
        let thread = Int32(bitPattern: HWLOC_CPUBIND_THREAD.rawValue)
        let strict = Int32(bitPattern: HWLOC_CPUBIND_STRICT.rawValue)
        if hwloc_set_cpubind(handle.topology, set, thread | strict) == 0 { return }
        if hwloc_set_cpubind(handle.topology, set, thread) == 0 { return }
        let cause = HwlocHandle.errnoDescription()
        throw TopologyError(
            code: .bindingFailed,
            message: "could not bind the thread to core \(wrapped(index)) (PUs \(formatRanges(cpusetOSIndexes(set)))); "
                + "a cgroup or container CPU limit may exclude them (check `taskset -p $$`)",
            cause: cause)
    }

    /// Lets the calling thread run on every PU this process may use again. Best effort: a thread
    /// that cannot be unbound keeps its binding, which only costs placement freedom.
    public func unbindCurrentThread() {
        guard supportsThreadBinding, let allowed = hwloc_topology_get_allowed_cpuset(handle.topology) else { return }
        _ = hwloc_set_cpubind(handle.topology, allowed, Int32(bitPattern: HWLOC_CPUBIND_THREAD.rawValue))
    }

    /// PU OS indexes the calling thread is allowed to run on now; nil when hwloc cannot tell.
    public func currentThreadPUs() -> [Int]? {
        guard let set = hwloc_bitmap_alloc() else { return nil }
        defer { hwloc_bitmap_free(set) }
        guard hwloc_get_cpubind(handle.topology, set, Int32(bitPattern: HWLOC_CPUBIND_THREAD.rawValue)) == 0 else {
            return nil
        }
        return cpusetOSIndexes(set)
    }

    private func wrapped(_ index: Int) -> Int {
        ((index % coreCount) + coreCount) % coreCount
    }
}
