import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A fixed set of worker threads that run one parallel job at a time.
///
/// Kernels are timed many times per case, so threads are created once per case (not per call), and
/// each worker can be bound to a CPU when it starts (`onStart`, e.g. an hwloc binding supplied by the
/// caller: this module has no C dependencies). `run` blocks until every worker has finished the job.
public final class WorkerPool: Sendable {
    public let threadCount: Int
    private let state: State

    /// - Parameters:
    ///   - threadCount: number of workers, >= 1.
    ///   - onStart: called once on each worker thread, with its index, before it takes any job.
    public init(threadCount: Int, onStart: @escaping @Sendable (Int) -> Void = { _ in }) {
        precondition(threadCount >= 1, "WorkerPool needs at least one thread")
        self.threadCount = threadCount
        self.state = State()
        for index in 0..<threadCount {
            let state = self.state
            let thread = Thread {
                onStart(index)
                state.workerLoop(index: index)
            }
            thread.stackSize = 8 << 20
            thread.name = "accelbench-worker-\(index)"
            thread.start()
        }
    }

    deinit {
        state.shutdown()
    }

    /// Runs `body(workerIndex)` once on every worker and returns when all have returned.
    public func run(_ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { escapable in
            state.dispatch(Job(body: escapable), workers: threadCount)
        }
    }

    /// The `index`-th of `parts` contiguous chunks of `0..<count`.
    public static func chunk(_ index: Int, of parts: Int, count: Int) -> Range<Int> {
        let base = count / parts, extra = count % parts
        let start = index * base + min(index, extra)
        return start..<(start + base + (index < extra ? 1 : 0))
    }

    /// The job body crosses threads; `run` does not return before every worker is done with it.
    private struct Job: @unchecked Sendable {
        let body: (Int) -> Void
    }

    /// Dispatch protocol: a job is published under `condition` (job, then `generation` + 1, then a
    /// broadcast); each worker reads it under the lock, runs it, and decrements `remaining`; the last
    /// one broadcasts. Both sides first spin for a few microseconds on the atomics before sleeping on
    /// the condition, so back-to-back short jobs (small kernels timed many times) do not pay a
    /// sleep/wake-up each, while an idle pool sleeps and leaves the cores to other code.
    private final class State: @unchecked Sendable {
        // Invariant: `job` and `stopping` are read and written only while `condition` is locked;
        // `generation` changes only under the lock too (it is atomic so workers can poll it).
        private let condition = NSCondition()
        private var job: Job?
        private var stopping = false
        private let generation = Atomic<Int>(0)
        private let remaining = Atomic<Int>(0)
        /// Polls of an atomic before sleeping on the condition (tens of microseconds).
        private static let spinLimit = 20_000
        private static let cores = ProcessInfo.processInfo.activeProcessorCount

        func dispatch(_ job: Job, workers: Int) {
            condition.lock()
            self.job = job
            remaining.store(workers, ordering: .releasing)
            generation.add(1, ordering: .releasing)
            condition.broadcast()
            condition.unlock()

            // The caller spins only when a core is left over; otherwise it would take a core from
            // a worker, and sleeps instead.
            var spins = workers < State.cores ? 0 : State.spinLimit
            while remaining.load(ordering: .acquiring) > 0 && spins < State.spinLimit { spins += 1 }
            condition.lock()
            while remaining.load(ordering: .acquiring) > 0 { condition.wait() }
            self.job = nil
            condition.unlock()
        }

        func workerLoop(index: Int) {
            var seen = 0
            while true {
                var spins = 0
                while generation.load(ordering: .acquiring) == seen && spins < State.spinLimit { spins += 1 }
                condition.lock()
                while generation.load(ordering: .acquiring) == seen && !stopping { condition.wait() }
                if stopping { condition.unlock(); return }
                seen = generation.load(ordering: .acquiring)
                var current = job
                condition.unlock()

                current!.body(index)
                // Drop the reference before reporting done: `run` lets the body go when all are done.
                current = nil

                if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                    condition.lock()
                    condition.broadcast()
                    condition.unlock()
                }
            }
        }

        func shutdown() {
            condition.lock()
            stopping = true
            condition.broadcast()
            condition.unlock()
        }
    }
}
