import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A fixed set of threads that run one parallel job at a time: the caller of `run` is worker 0 and
/// `threadCount - 1` helper threads are workers 1 and up.
///
/// Kernels are timed many times per case, so threads are created once per case (not per call), and
/// each helper can be bound to a CPU when it starts (`onStart`, e.g. an hwloc binding supplied by the
/// caller: this module has no C dependencies). The calling thread is not bound (binding it would
/// also bind every thread it creates later, a BLAS library's included). `run` blocks until every
/// worker has finished the job.
///
/// Why the caller works rather than waits: handing a job to sleeping-then-woken threads and waiting
/// for them costs ~30 µs per call on this project's 2-core VM (measured with an empty job and
/// 2 workers when the caller slept on a condition; ~0.7 µs when it spun), which is a third of a
/// cache-resident 4096 x 4096 GEMV and ~10% of an LLM decode step made of ~70 such calls. The caller
/// runs its share, then spins briefly for the helpers (which spin briefly between jobs too), so
/// back-to-back jobs take no sleep or wake-up on the critical path.
public final class WorkerPool: Sendable {
    public let threadCount: Int
    private let state: State

    /// - Parameters:
    ///   - threadCount: number of workers, >= 1, the calling thread included.
    ///   - onStart: called once on each helper thread (workers 1..<threadCount), with its index,
    ///     before it takes any job.
    public init(threadCount: Int, onStart: @escaping @Sendable (Int) -> Void = { _ in }) {
        precondition(threadCount >= 1, "WorkerPool needs at least one thread")
        self.threadCount = threadCount
        self.state = State()
        for index in 1..<threadCount {
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

    /// Runs `body(workerIndex)` once on every worker (index 0 on the calling thread) and returns when
    /// all have returned. One caller at a time.
    public func run(_ body: (Int) -> Void) {
        if threadCount == 1 {
            body(0)
            return
        }
        withoutActuallyEscaping(body) { escapable in
            state.dispatch(Job(body: escapable), helpers: threadCount - 1)
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
    /// broadcast); each helper reads it under the lock, runs it, and decrements `remaining`; the last
    /// one broadcasts. The caller runs worker 0's share meanwhile, then waits for `remaining` to reach
    /// 0. Both sides first spin on the atomics (up to ~200 µs) before sleeping on the condition, so
    /// back-to-back jobs do not pay a sleep/wake-up each, while an idle pool sleeps and leaves the
    /// cores to other code. The spin must outlast the serial gaps between the jobs of an LLM decode
    /// step (norms, RoPE, attention set-up: tens of µs) and the end-of-job imbalance of a
    /// DRAM-bound GEMV on a shared host (tens to hundreds of µs). With a 10 µs spin, a 2-thread
    /// 4-layer decode (tg64) made ~23,000 context switches in 17 s; with 200 µs, ~1,600.
    private final class State: @unchecked Sendable {
        // Invariant: `job` and `stopping` are read and written only while `condition` is locked;
        // `generation` changes only under the lock too (it is atomic so workers can poll it).
        private let condition = NSCondition()
        private var job: Job?
        private var stopping = false
        private let generation = Atomic<Int>(0)
        private let remaining = Atomic<Int>(0)
        /// Polls of an atomic before sleeping on the condition: ~200 µs on Zen 4 (~0.5 ns a poll).
        private static let spinLimit = 400_000

        func dispatch(_ job: Job, helpers: Int) {
            condition.lock()
            self.job = job
            remaining.store(helpers, ordering: .releasing)
            generation.add(1, ordering: .releasing)
            condition.broadcast()
            condition.unlock()

            job.body(0)

            // The helpers started with the caller and did the same amount of work: spin briefly,
            // then sleep (a helper held up elsewhere must not cost the caller's core).
            var spins = 0
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
