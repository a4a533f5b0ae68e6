import AccelBenchCPU
import AccelBenchCore
import AccelBenchKernels
import AccelBenchLLM
import AccelBenchPlugins
import AccelBenchPower
import AccelBenchTopology
import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// Out-of-process execution: a case runs in a child process of accelbench (this same binary in its
// hidden `worker` mode), which reads one `WorkerRequest` as JSON on stdin and writes one
// `WorkerResponse` as JSON on stdout. A backend that crashes, hangs or corrupts memory there costs
// that one result, recorded as failed with the signal, the timeout or the worker's last words, and
// the suite goes on. Device backends (plugins) always run this way; `run --isolate` runs every case
// this way.

/// What the worker needs to run one case exactly as the parent would have.
struct WorkerRequest: Codable, Sendable {
    var spec: CaseSpec
    var rule: StoppingRule
    var seed: UInt64
    var lastLevelCacheBytes: Int
    /// `--isa`, by name.
    var isa: String?
    /// The `--weights` file, for llm `gguf:` shapes.
    var weights: String?
    /// `--plugin-path` entries (the worker inherits ACCELBENCH_PLUGIN_PATH with the environment).
    var pluginPaths: [String] = []
}

/// The worker's answer: the case's result (its peaks are attached by the parent, which knows the
/// machine's ceilings).
struct WorkerResponse: Codable, Sendable {
    var result: CaseResult
}

/// Runs cases in worker processes.
struct WorkerProcess: Sendable {
    /// The accelbench binary to start (this process's own executable by default).
    var executable: URL
    /// A case whose worker has not answered after this long is killed and recorded as failed.
    var timeoutSeconds: Double

    init(executable: URL = WorkerProcess.currentExecutable, timeoutSeconds: Double) {
        self.executable = executable
        self.timeoutSeconds = timeoutSeconds
    }

    /// The binary workers run: `ACCELBENCH_WORKER_EXECUTABLE` when set (a packaged layout, or a test
    /// process that is not accelbench itself), else this process's own binary (Linux:
    /// /proc/self/exe, immune to a relative argv[0]).
    static var currentExecutable: URL {
        if let path = ProcessInfo.processInfo.environment["ACCELBENCH_WORKER_EXECUTABLE"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        let link = "/proc/self/exe"
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: link) {
            return URL(fileURLWithPath: target)
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    }

    /// Runs `request` in a new worker and returns its result; never throws: every way the worker can
    /// fail becomes a failed result that says how.
    func run(_ request: WorkerRequest) -> CaseResult {
        let spec = request.spec
        var failed = CaseResult(
            spec: spec, status: .failed, work: spec.workload.work(spec.shape, dtype: spec.dtype), unit: spec.workload.unit)
        let process = Process()
        process.executableURL = executable
        process.arguments = ["worker"]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        let body: Data
        do {
            body = try JSONEncoder().encode(request)
            try process.run()
        } catch {
            failed.reason = "could not start the worker process \(executable.path): \(error)"
            return failed
        }
        // Drain both pipes on their own threads so a chatty worker never blocks on a full pipe.
        let collected = WorkerOutput()
        let readers = DispatchGroup()
        for (handle, isError) in [(output.fileHandleForReading, false), (errors.fileHandleForReading, true)] {
            readers.enter()
            DispatchQueue.global().async {
                let data = handle.readDataToEndOfFile()
                collected.set(data, error: isError)
                readers.leave()
            }
        }
        input.fileHandleForWriting.write(body)
        try? input.fileHandleForWriting.close()

        let deadline = Date().addingTimeInterval(timeoutSeconds)
        var timedOut = false
        while process.isRunning {
            if Date() >= deadline {
                timedOut = true
                kill(process.processIdentifier, SIGKILL)
                break
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        process.waitUntilExit()
        readers.wait()
        let (stdout, stderr) = collected.get()
        let lastWords = String(decoding: stderr.suffix(600), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let said = lastWords.isEmpty ? "" : "; its stderr ended with: \(lastWords)"
        if timedOut {
            failed.reason = "the worker process did not finish within \(Format.number(timeoutSeconds)) s and was killed (hang?)\(said)"
            return failed
        }
        if process.terminationReason == .uncaughtSignal {
            let signal = process.terminationStatus
            failed.reason = "the worker process was killed by signal \(signal) (\(WorkerProcess.signalName(signal)))\(said)"
            return failed
        }
        guard process.terminationStatus == 0 || process.terminationStatus == ExitStatus.caseFailed.rawValue else {
            failed.reason = "the worker process exited with status \(process.terminationStatus)\(said)"
            return failed
        }
        do {
            let decoder = JSONDecoder()
            decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            return try decoder.decode(WorkerResponse.self, from: stdout).result
        } catch {
            failed.reason = "the worker process answered something that is not a result (\(error))\(said)"
            return failed
        }
    }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGSEGV: "SIGSEGV, invalid memory access"
        case SIGBUS: "SIGBUS"
        case SIGABRT: "SIGABRT, abort"
        case SIGILL: "SIGILL, illegal instruction"
        case SIGFPE: "SIGFPE"
        case SIGKILL: "SIGKILL"
        case SIGTERM: "SIGTERM"
        default: "signal \(signal)"
        }
    }
}

/// The two pipes' contents, filled by the reader threads.
private final class WorkerOutput: @unchecked Sendable {
    // Sendable: guarded by `lock`.
    private let lock = NSLock()
    private var stdout = Data(), stderr = Data()
    func set(_ data: Data, error: Bool) {
        lock.lock()
        if error { stderr = data } else { stdout = data }
        lock.unlock()
    }
    func get() -> (Data, Data) {
        lock.lock()
        defer { lock.unlock() }
        return (stdout, stderr)
    }
}

/// `accelbench worker`: runs the one case described on stdin and writes its result on stdout.
/// Internal: started by `run` for isolated cases; not for people.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Run one case from a JSON request on stdin (used by run for isolated cases).",
        shouldDisplay: false)

    func run() throws {
        let input = FileHandle.standardInput.readDataToEndOfFile()
        let request: WorkerRequest
        do {
            request = try JSONDecoder().decode(WorkerRequest.self, from: input)
        } catch {
            throw AccelBenchError(.invalidArgument, "worker: the request on stdin is not a case: \(error)")
        }
        let topology = try Topology.detect()
        let session = RunSession(topology: topology, progress: Progress(enabled: false))
        let model = try request.weights.map(RunCommand.openWeights)
        let plugins = PluginFlags.load(paths: request.pluginPaths)
        let backends = AllBackends.list(isa: request.isa.flatMap(CPUISA.init(rawValue:)), model: model) + plugins.backends
        let backend = try CPUBackends.named(request.spec.backend, in: backends)
        // A plugin device's own energy counter or power, read at the edges of the timed region.
        let meter = (backend as? PluginBackend).flatMap(PluginPowerSource.detect).map { PowerMeterSession(sources: [$0]) }
        let runner = CaseRunner(
            measurer: Measurer(rule: request.rule, energy: meter), seed: request.seed, lastLevelCacheBytes: request.lastLevelCacheBytes)
        let pool = session.pool(request.spec.threads)
        let peakWasReset = ResidentMemory.resetPeak()
        var result = runner.run(request.spec, on: backend, pool: pool)
        if peakWasReset { result.peakResidentBytes = ResidentMemory.peakBytes() }
        if result.status == .passed { result.kernelPath = (result.kernelPath ?? "") + " [worker process]" }
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        FileHandle.standardOutput.write(try encoder.encode(WorkerResponse(result: result)))
    }
}
