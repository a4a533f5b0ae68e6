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

    /// A stub device plugin (Tests/Stubs/plugins/stub_plugin.c) compiled with cc into `directory`.
    static func stubPlugin(_ variant: String, in directory: String) throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let output = directory + "/libaccelbench-plugin-stub-\(variant.lowercased()).so"
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        cc.arguments = ["cc", "-std=c99", "-D_POSIX_C_SOURCE=200809L", "-shared", "-fPIC", "-O1", "-DSTUB_\(variant)",
                        "-I", root.path + "/kernels/plugin/include", root.path + "/Tests/Stubs/plugins/stub_plugin.c", "-o", output]
        try cc.run()
        cc.waitUntilExit()
        guard cc.terminationStatus == 0 else { throw CocoaError(.executableLoad) }
        return output
    }

    /// The issue's acceptance for device plugins: a plugin that crashes or hangs in run costs one failed
    /// result naming the signal or the timeout, in a worker process, never the caller.
    @Test(.enabled(if: built, "the accelbench executable is built next to the tests"))
    func crashingAndHangingPluginsCostOneResult() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("accelbench-stubs-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (variant, timeout, expected) in [("CRASH", 60.0, "SIGSEGV"), ("HANG", 3.0, "did not finish within")] {
            let path = try Self.stubPlugin(variant, in: directory)
            var request = Self.request(.matmul(m: 8, n: 8, k: 8), backend: "plugin:stub-\(variant.lowercased()):0")
            request.pluginPaths = [path]
            let result = WorkerProcess(executable: Self.accelbench, timeoutSeconds: timeout).run(request)
            #expect(result.status == .failed, "\(variant): \(result.status)")
            #expect(result.reason?.contains(expected) == true, "\(variant): \(result.reason ?? "")")
        }
    }

    /// The reference plugin's results appear beside a built-in backend's in one run, measured in a
    /// worker process and checked against float64.
    @Test(.enabled(if: built, "the accelbench executable is built next to the tests"))
    func referencePluginBesideTheCPUBackends() throws {
        let plugin = Self.accelbench.deletingLastPathComponent().appendingPathComponent("libaccelbench-plugin-reference.so").path
        try #require(FileManager.default.fileExists(atPath: plugin), "the reference plugin product is built next to the tests")
        setenv("ACCELBENCH_WORKER_EXECUTABLE", Self.accelbench.path, 1)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("accelbench-plugin-run-\(UInt32.random(in: 0...UInt32.max)).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let status = AccelBench.main(arguments: [
            "run", "--no-ceilings", "--power", "none", "--plugin-path", plugin, "--backend", "plugin:reference,reference",
            "--shape", "16x24x8", "--dtype", "fp32", "--threads", "1", "--output", path, "--quiet", "--format", "csv",
        ])
        #expect(status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        let results = (object?["results"] as? [[String: Any]]) ?? []
        let backends = Set(results.compactMap { ($0["spec"] as? [String: Any])?["backend"] as? String })
        #expect(backends == ["plugin:reference:0", "reference"])
        #expect(results.allSatisfy { $0["status"] as? String == "passed" })
        let pluginPath = results.first { (($0["spec"] as? [String: Any])?["backend"] as? String) == "plugin:reference:0" }?["kernelPath"] as? String
        #expect(pluginPath?.contains("[worker process]") == true)
    }

    /// A plugin device's own telemetry (the stub reports 42.5 W and 55 °C) becomes the case's energy
    /// window, read at its edges, with the device's evidence alongside.
    @Test(.enabled(if: built, "the accelbench executable is built next to the tests"))
    func pluginTelemetryFeedsTheEnergyWindow() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("accelbench-stubs-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var request = Self.request(.matmul(m: 8, n: 8, k: 8), backend: "plugin:stub-newer-minor:0")
        request.pluginPaths = [try Self.stubPlugin("NEWER_MINOR", in: directory)]
        let result = WorkerProcess(executable: Self.accelbench, timeoutSeconds: 60).run(request)
        #expect(result.status == .passed, "\(result.reason ?? "")")
        let channel = try #require(result.energy?.channels.first)
        #expect(channel.method == "plugin" && channel.scope == "accelerator_board" && channel.id == "plugin:stub-newer-minor:0")
        #expect(channel.averageWatts.map { abs($0 - 42.5) < 1e-9 } == true, "\(channel)")
        #expect(channel.efficiency != nil && channel.efficiencyUnit == "GFLOPS/W")
        #expect(result.energy?.telemetry.contains { $0.values["temperature_c"] == "55.0" } == true)
    }
}
