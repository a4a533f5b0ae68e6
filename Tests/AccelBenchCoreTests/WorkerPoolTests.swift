import Synchronization
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import AccelBenchCore

@Suite struct WorkerPoolTests {
    @Test func everyWorkerRunsOncePerJob() {
        let pool = WorkerPool(threadCount: 3)
        let hits = Mutex([Int](repeating: 0, count: 3))
        for _ in 0..<100 {
            pool.run { index in hits.withLock { $0[index] += 1 } }
        }
        #expect(hits.withLock { $0 } == [100, 100, 100])
    }

    @Test func manyShortJobsBackToBack() {
        let pool = WorkerPool(threadCount: 2)
        let total = Mutex(0)
        for _ in 0..<20_000 {
            pool.run { _ in total.withLock { $0 += 1 } }
        }
        #expect(total.withLock { $0 } == 40_000)
    }

    @Test func poolsComeAndGo() {
        for threads in 1...4 {
            let pool = WorkerPool(threadCount: threads)
            let hits = Mutex(0)
            pool.run { _ in hits.withLock { $0 += 1 } }
            #expect(hits.withLock { $0 } == threads)
        }
    }

    @Test func chunksCoverTheRangeExactly() {
        for count in [0, 1, 5, 7, 100] {
            for parts in 1...4 {
                let chunks = (0..<parts).map { WorkerPool.chunk($0, of: parts, count: count) }
                #expect(chunks.map(\.count).reduce(0, +) == count)
                #expect(chunks.first?.lowerBound == 0 && chunks.last?.upperBound == count)
                #expect((chunks.map(\.count).max() ?? 0) - (chunks.map(\.count).min() ?? 0) <= 1)
            }
        }
    }

    /// onStart runs on each helper thread (workers 1 and up); worker 0 is the calling thread, which
    /// the pool leaves unbound.
    @Test func onStartRunsOnEachHelper() {
        let started = Mutex(Set<Int>())
        let pool = WorkerPool(threadCount: 3) { index in started.withLock { _ = $0.insert(index) } }
        pool.run { _ in }
        #expect(started.withLock { $0 } == [1, 2])
    }

    /// Worker 0 is the thread that called run; the others are distinct helper threads.
    @Test func callerIsWorkerZero() {
        let pool = WorkerPool(threadCount: 3)
        let caller = pthread_self()
        let threads = Mutex([Int: pthread_t]())
        pool.run { index in threads.withLock { $0[index] = pthread_self() } }
        let seen = threads.withLock { $0 }
        #expect(seen.count == 3)
        #expect(pthread_equal(seen[0]!, caller) != 0)
        #expect(pthread_equal(seen[1]!, caller) == 0 && pthread_equal(seen[2]!, caller) == 0)
        #expect(pthread_equal(seen[1]!, seen[2]!) == 0)
    }
}
