import AccelBenchCore
import Foundation
import Testing
@testable import AccelBenchPlugins

let quickRule = StoppingRule(minSamples: 3, minSeconds: 0, maxNoise: 1, timeoutSeconds: 0.2, warmupSeconds: 0, minSampleSeconds: 0)

func runCase(_ spec: CaseSpec, _ backend: any Backend) -> CaseResult {
    CaseRunner(measurer: Measurer(rule: quickRule)).run(spec, on: backend, pool: WorkerPool(threadCount: spec.threads))
}

/// A trace sink that keeps the lines.
final class TraceLines: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []
    var lines: [String] { lock.withLock { storage } }
    var trace: PluginTrace { PluginTrace { line in self.lock.withLock { self.storage.append(line) } } }
}

@Suite struct PluginLoaderTests {
    @Test func referencePluginLoadsWithItsDevice() throws {
        let path = try PluginFixture.referencePlugin()
        let traced = TraceLines()
        let report = PluginLoader.load(explicitPaths: [path], environment: [:], trace: traced.trace)
        #expect(report.skipped.isEmpty, "\(report.skipped)")
        let plugin = try #require(report.plugins.first)
        #expect(plugin.name == "reference")
        #expect(plugin.abiMinor == Plugin.abiMinor)
        #expect(plugin.score > 0)
        #expect(plugin.devices.count == 1)
        let device = plugin.devices[0]
        #expect(device.name.contains("host CPU") && device.pciAddress == nil)
        #expect(Set(device.capabilities.map { "\($0.workload.rawValue) \($0.dtype.rawValue)" }) == [
            "matmul fp32", "matmul bf16", "attention fp32", "attention fp16", "qgemv q8_0", "qgemm q8_0", "qgemv q4_0", "qgemm q4_0",
        ])
        let backend = try #require(PluginBackend.all(report.plugins).first)
        #expect(backend.name == "plugin:reference:0")
        #expect(backend.capabilities[.attention] == [.fp32, .fp16])
        // No sensors: telemetry is NOT_AVAILABLE, as a typed error.
        #expect(throws: PluginError.self) { try plugin.telemetry(device: 0) }
        do {
            _ = try plugin.telemetry(device: 0)
        } catch let error as PluginError {
            #expect(error.code == .callFailed && error.pluginCode == .notAvailable)
        }
        #expect(traced.lines.contains { $0.contains("dlopen") })
        #expect(traced.lines.contains { $0.contains("device_info") })
    }

    @Test func searchPathFromEnvironmentAndFlagAndTraceSwitch() throws {
        let directory = try PluginFixture.temporaryDirectory()
        defer { PluginFixture.remove(directory) }
        let other = try PluginFixture.temporaryDirectory()
        defer { PluginFixture.remove(other) }
        try PluginFixture.stub(.newerMinor, in: directory)
        try PluginFixture.stub(.decline, in: other)
        // A library that is not named as a plugin and exports no entry: ignored quietly.
        try PluginFixture.compile(
            ["Tests/Stubs/plugins/stub_plugin.c"], includes: ["kernels/plugin/include"], defines: ["STUB_NO_ENTRY"],
            output: other + "/libsomething-else.so")
        // Any other *.so that exports the entry symbol is a plugin too.
        try PluginFixture.compile(
            ["Tests/Stubs/plugins/stub_plugin.c"], includes: ["kernels/plugin/include"], defines: ["STUB_WRONG_RESULT"],
            output: other + "/vendor_npu.so")
        let explicit = try PluginFixture.referencePlugin()
        let report = PluginLoader.load(
            explicitPaths: [explicit], environment: ["ACCELBENCH_PLUGIN_PATH": "\(directory)::\(other):/nonexistent/dir"])
        #expect(report.searched == [explicit, directory, other, "/nonexistent/dir"])
        #expect(report.plugins.map(\.name) == ["reference", "stub-newer-minor", "stub-wrong-result"])
        #expect(report.skipped.map(\.error.code) == [.declined])
        // Backend names resolve with or without the device; a skipped plugin's reason is in the error.
        #expect(try report.backend(named: "plugin:reference").name == "plugin:reference:0")
        #expect(try report.backend(named: "plugin:stub-newer-minor:0").name == "plugin:stub-newer-minor:0")
        #expect(throws: AccelBenchError.self) { try report.backend(named: "plugin:reference:1") }
        do {
            _ = try report.backend(named: "plugin:stub-decline")
            Issue.record("a declined plugin resolved")
        } catch {
            #expect("\(error)".contains("no stub device on this machine"))
        }
        // The same file twice loads once.
        let twice = PluginLoader.load(explicitPaths: [explicit, explicit], environment: [:])
        #expect(twice.plugins.count == 1 && twice.skipped.isEmpty)

        #expect(!PluginTrace.from(environment: [:]).isOn)
        #expect(!PluginTrace.from(environment: ["ACCELBENCH_PLUGIN_TRACE": "0"]).isOn)
        #expect(PluginTrace.from(environment: ["ACCELBENCH_PLUGIN_TRACE": "1"]).isOn)
    }

    /// Every stub together in one directory: the broken ones are skipped with their reason and the
    /// rest load (one broken plugin never blocks the others).
    @Test func stubsAreSkippedWithTheirReasonsAndTheRestLoad() throws {
        let directory = try PluginFixture.temporaryDirectory()
        defer { PluginFixture.remove(directory) }
        for stub in PluginFixture.Stub.allCases { try PluginFixture.stub(stub, in: directory) }
        let report = PluginLoader.load(environment: ["ACCELBENCH_PLUGIN_PATH": directory])

        func skipped(_ stub: PluginFixture.Stub) -> PluginLoader.SkippedPlugin? {
            report.skipped.first { $0.path.hasSuffix(stub.fileName) }
        }
        let wrongMajor = try #require(skipped(.wrongMajor))
        #expect(wrongMajor.error.code == .abiMismatch)
        #expect(wrongMajor.reason.contains("ABI 2.0") && wrongMajor.reason.contains("speaks 1.x"))
        let noEntry = try #require(skipped(.noEntry))
        #expect(noEntry.error.code == .missingEntry && noEntry.reason.contains("accelbench_plugin_get_api"))
        let decline = try #require(skipped(.decline))
        #expect(decline.error.code == .declined && decline.reason.contains("no stub device on this machine"))
        #expect(report.skipped.count == 3, "\(report.skipped)")

        // Loaded (crash and hang are never run in process: the worker process isolates them).
        #expect(Set(report.plugins.map(\.name)) == ["stub-newer-minor", "stub-short-table", "stub-crash", "stub-hang", "stub-wrong-result"])
    }

    @Test func newerMinorLoadsAndRunsIgnoringExtraEntries() throws {
        let directory = try PluginFixture.temporaryDirectory()
        defer { PluginFixture.remove(directory) }
        let plugin = try Plugin(path: try PluginFixture.stub(.newerMinor, in: directory))
        #expect(plugin.abiMinor == Plugin.abiMinor + 7)
        let backend = PluginBackend(plugin: plugin, device: 0)
        let spec = CaseSpec(workload: .matmul, backend: backend.name, dtype: .fp32, shape: .matmul(m: 9, n: 7, k: 5), threads: 1)
        let result = runCase(spec, backend)
        #expect(result.status == .passed, "\(result.reason ?? "")")
        #expect(try plugin.telemetry(device: 0).powerWatts == 42.5)
    }

    /// A table from an older minor ends before `telemetry`; the stub's telemetry aborts, so calling it
    /// would end the test process.
    @Test func entriesBeyondTheTableAreNeverCalled() throws {
        let directory = try PluginFixture.temporaryDirectory()
        defer { PluginFixture.remove(directory) }
        let plugin = try Plugin(path: try PluginFixture.stub(.shortTable, in: directory))
        #expect(!plugin.table.has(\.telemetry))
        #expect(plugin.table.has(\.last_run_elapsed))
        do {
            _ = try plugin.telemetry(device: 0)
            Issue.record("telemetry should not be callable")
        } catch let error as PluginError {
            #expect(error.code == .notImplemented)
        }
    }

    @Test func wrongResultFailsTheFloat64Check() throws {
        let directory = try PluginFixture.temporaryDirectory()
        defer { PluginFixture.remove(directory) }
        let plugin = try Plugin(path: try PluginFixture.stub(.wrongResult, in: directory))
        let backend = PluginBackend(plugin: plugin, device: 0)
        let spec = CaseSpec(workload: .matmul, backend: backend.name, dtype: .fp32, shape: .matmul(m: 16, n: 16, k: 64), threads: 1)
        let result = runCase(spec, backend)
        #expect(result.status == .failed)
        #expect(result.reason?.contains("incorrect output") == true)
    }

    @Test func crashingAndHangingStubsLoadButAreNotRunInProcess() throws {
        let directory = try PluginFixture.temporaryDirectory()
        defer { PluginFixture.remove(directory) }
        for stub in [PluginFixture.Stub.crash, .hang] {
            let plugin = try Plugin(path: try PluginFixture.stub(stub, in: directory))
            #expect(plugin.devices.count == 1)
            #expect(PluginBackend(plugin: plugin, device: 0).capabilities == [.matmul: [.fp32]])
        }
    }

    @Test func compatPluginBuiltAgainstABI1_0LoadsAndRuns() throws {
        let directory = try PluginFixture.temporaryDirectory()
        defer { PluginFixture.remove(directory) }
        let report = PluginLoader.load(explicitPaths: [try PluginFixture.compatPlugin(in: directory)], environment: [:])
        #expect(report.skipped.isEmpty, "\(report.skipped)")
        let plugin = try #require(report.plugins.first)
        #expect(plugin.name == "compat-1-0" && plugin.abiMinor == 0)
        let backend = PluginBackend(plugin: plugin, device: 0)
        for shape in [Shape.matmul(m: 1, n: 1, k: 1), .matmul(m: 33, n: 17, k: 65)] {
            let result = runCase(CaseSpec(workload: .matmul, backend: backend.name, dtype: .fp32, shape: shape, threads: 1), backend)
            #expect(result.status == .passed, "\(shape): \(result.reason ?? "")")
        }
    }
}
