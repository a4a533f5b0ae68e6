import Foundation
import Testing

@testable import AccelBenchTopology

/// Binding runs on threads the test creates: binding a Swift concurrency pool thread would leak
/// into whatever test runs on it next.
@Suite struct TopologyBinderTests {
    /// Skips the binding tests (shown as skipped, with this reason) where the OS cannot bind.
    static let bindingSupported = (try? TopologyBinder())?.supportsThreadBinding ?? false

    @Test func loadsThisMachine() throws {
        let binder = try TopologyBinder()
        #expect(binder.coreCount == (try Topology.detect()).coreCount)
        #expect(binder.puOSIndexes(forCoreIndex: 0) == (try Topology.detect()).cores[0].puOSIndexes)
    }

    @Test(.enabled(if: bindingSupported, "this OS or hwloc build cannot bind threads"))
    func bindsAThreadToACoreAndUnbinds() async throws {
        let binder = try TopologyBinder()
        let last = binder.coreCount - 1
        let (bound, unbound, original) = try await onNewThread { () throws -> ([Int]?, [Int]?, [Int]?) in
            let original = binder.currentThreadPUs()
            try binder.bindCurrentThread(toCoreIndex: last)
            let bound = binder.currentThreadPUs()
            binder.unbindCurrentThread()
            return (bound, binder.currentThreadPUs(), original)
        }
        #expect(bound == binder.puOSIndexes(forCoreIndex: last))
        #expect(unbound == original)
    }

    @Test(.enabled(if: bindingSupported, "this OS or hwloc build cannot bind threads"))
    func coreIndexWrapsAroundTheCoreCount() async throws {
        let binder = try TopologyBinder()
        let count = binder.coreCount
        #expect(binder.puOSIndexes(forCoreIndex: count + 1) == binder.puOSIndexes(forCoreIndex: 1 % count))
        #expect(binder.puOSIndexes(forCoreIndex: -1) == binder.puOSIndexes(forCoreIndex: count - 1))
        let bound = try await onNewThread { () throws -> [Int]? in
            try binder.bindCurrentThread(toCoreIndex: count)
            return binder.currentThreadPUs()
        }
        #expect(bound == binder.puOSIndexes(forCoreIndex: 0))
    }

    @Test(.enabled(if: bindingSupported, "this OS or hwloc build cannot bind threads"))
    func manyThreadsBindConcurrently() async throws {
        let binder = try TopologyBinder()
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<8 {
                group.addTask {
                    try await onNewThread { () throws -> Bool in
                        try binder.bindCurrentThread(toCoreIndex: index)
                        return binder.currentThreadPUs() == binder.puOSIndexes(forCoreIndex: index)
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 8))
    }
}

/// Runs `body` on a fresh OS thread that ends afterwards, and returns its result.
func onNewThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try body() })
        }
        thread.start()
    }
}
