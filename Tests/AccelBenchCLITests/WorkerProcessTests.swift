import AccelBenchCore
import Foundation
import Testing
@testable import AccelBenchCLI

/// Cases in a worker process: a real accelbench worker answers with a checked result; a worker that
/// hangs, dies by a signal, exits with an error or answers garbage costs one failed result that says so.
@Suite(.serialized) struct WorkerProcessTests {
    /// The accelbench binary SwiftPM built next to this test binary.
    static let accelbench = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("accelbench")
    static var built: Bool { FileManager.default.isExecutableFile(atPath: accelbench.path) }

    static func request(_ shape: Shape, backend: String = "reference") -> WorkerRequest {
        WorkerRequest(
            spec: CaseSpec(workload: .matmul, backend: backend, dtype: .fp32, shape: shape, threads: 1),
            rule: StoppingRule(minSamples: 3, minSeconds: 0.01, maxNoise: 1, timeoutSeconds: 0.5, warmupSeconds: 0),
            seed: 7, lastLevelCacheBytes: 0, isa: nil, weights: nil)
    }

    /// A fake worker: a shell script standing in for the binary.
    static func script(_ body: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("accelbench-fake-worker-\(UInt32.random(in: 0...UInt32.max)).sh")
        // Through a close-on-exec descriptor: a process another test forks meanwhile must not keep
        // the file open for writing, or running it fails with "Text file busy".
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        let bytes = Array(("#!/bin/sh\ncat > /dev/null\n" + body + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return url
    }

    @Test(.enabled(if: built, "the accelbench executable is built next to the tests"))
    func realWorkerRunsAndChecksTheCase() {
        let result = WorkerProcess(executable: Self.accelbench, timeoutSeconds: 120).run(Self.request(.matmul(m: 16, n: 24, k: 8)))
        #expect(result.status == .passed, "\(result.reason ?? "")")
        #expect(result.correctness?.passed == true)
        #expect(result.kernelPath?.contains("[worker process]") == true)
        #expect((result.measurement?.secondsPerCall.count ?? 0) >= 3)
    }

    @Test(.enabled(if: built, "the accelbench executable is built next to the tests"))
    func aHangIsKilledAtTheTimeout() {
        let started = Date()
        let result = WorkerProcess(executable: Self.accelbench, timeoutSeconds: 0.5).run(Self.request(.matmul(m: 2048, n: 2048, k: 2048), backend: "swift-simd"))
        #expect(result.status == .failed)
        #expect(result.reason?.contains("did not finish within") == true, "\(result.reason ?? "")")
        #expect(Date().timeIntervalSince(started) < 30)
    }

    @Test func aCrashIsReportedWithItsSignal() throws {
        let fake = try Self.script("echo 'plugin: about to touch freed memory' >&2\nkill -SEGV $$")
        defer { try? FileManager.default.removeItem(at: fake) }
        let result = WorkerProcess(executable: fake, timeoutSeconds: 10).run(Self.request(.matmul(m: 4, n: 4, k: 4)))
        #expect(result.status == .failed)
        #expect(result.reason?.contains("SIGSEGV") == true, "\(result.reason ?? "")")
        #expect(result.reason?.contains("about to touch freed memory") == true)
    }

    @Test func exitStatusAndGarbageAreFailures() throws {
        let exits = try Self.script("echo 'cannot open device' >&2\nexit 1")
        let garbage = try Self.script("echo 'hello, not JSON'")
        defer { try? FileManager.default.removeItem(at: exits); try? FileManager.default.removeItem(at: garbage) }
        let a = WorkerProcess(executable: exits, timeoutSeconds: 10).run(Self.request(.matmul(m: 4, n: 4, k: 4)))
        #expect(a.status == .failed && a.reason?.contains("status 1") == true && a.reason?.contains("cannot open device") == true)
        let b = WorkerProcess(executable: garbage, timeoutSeconds: 10).run(Self.request(.matmul(m: 4, n: 4, k: 4)))
        #expect(b.status == .failed && b.reason?.contains("not a result") == true, "\(b.reason ?? "")")
        let missing = WorkerProcess(executable: URL(fileURLWithPath: "/nonexistent/accelbench"), timeoutSeconds: 10)
            .run(Self.request(.matmul(m: 4, n: 4, k: 4)))
        #expect(missing.status == .failed && missing.reason?.contains("could not start") == true)
    }
}
