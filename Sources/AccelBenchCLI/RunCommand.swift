import AccelBenchCPU
import AccelBenchCore
import AccelBenchKernels
import AccelBenchLLM
import AccelBenchPlugins
import AccelBenchPower
import AccelBenchProfiles
import AccelBenchTopology
import ArgumentParser
import Foundation

extension Suite: ExpressibleByArgument {}
extension CPUISA: ExpressibleByArgument {}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Measure the machine's ceilings, then run a suite or the selected cases.",
        discussion: """
            Without --workload/--backend/--shape/--dtype the suite decides what runs (default: quick, \
            about two minutes here). Lists may be comma-separated or repeated. Every case's output is \
            checked against a float64 reference; a wrong result is reported as failed, never with a speed. \
            The JSON result file is always written: to --output, or under results/. With --sign KEY the \
            result file is a signed capability record instead (a DSSE envelope; default name \
            results/HOST-DATE.record.json), which accelbench verify checks; --record writes the record unsigned.
            """)

    @Option(help: "Suite: quick, standard or full (default: quick; certify: standard).")
    var suite: Suite?

    @Option(name: .long, help: ArgumentHelp("Workloads (matmul, stream, attention, qgemv, qgemm, llm).", valueName: "list"))
    var workload: [String] = []

    @Option(name: .long, help: ArgumentHelp("Backends (swift-simd, openblas, bf16, reference, c, quant, swift-llm; profile:ID projects on a chip profile, see accelbench profiles).", valueName: "list"))
    var backend: [String] = []

    @Option(name: .long, help: ArgumentHelp("Shape, repeatable: MxNxK for matmul; ELEMENTS or KERNEL:ELEMENTS for stream; b1:h32:kvh8:q2048:kv2048:d128:causal, MODEL:prefillN or MODEL:decodeN for attention; MxNxK[:hot|:cold] for qgemv/qgemm; MODEL:ppN or MODEL:tgN[:dD] for llm (models: accelbench list models).", valueName: "shape"))
    var shape: [String] = []

    @Option(name: .long, help: ArgumentHelp("Dtypes (fp32, bf16; fp64 for stream; the KV cache for attention: kv=f32, kv=f16; q8_0, q4_0, w8a8 for qgemv/qgemm; q8_0, q4_0 for llm).", valueName: "list"))
    var dtype: [String] = []

    @Option(name: .long, help: ArgumentHelp("Thread counts (default: 1 and all cores).", valueName: "list"))
    var threads: [String] = []

    @Option(help: "What to print on stdout: table, json, csv or markdown.")
    var format: OutputFormat = .table

    @Option(help: ArgumentHelp("Result file (JSON). Default: results/HOST-DATE.json.", valueName: "file"))
    var output: String?

    @Option(help: "Seed of the random inputs.")
    var seed: UInt64 = 0x5EED

    @Option(help: "Force the ISA of our kernels (avx512, avx2, portable): the Swift SIMD GEMM and attention, and the quantized C kernels and llm engine (avx512 = the VNNI path there). Default: the best the CPU has.")
    var isa: CPUISA?

    @Option(
        name: .customLong("openblas-core"),
        help: ArgumentHelp(
            "OpenBLAS kernel set: auto (Haswell on AMD Zen 4, measured ~7% faster there), default (OpenBLAS's own choice), or a core name.",
            valueName: "core"))
    var openblasCore: String = "auto"

    @OptionGroup(title: "Power") var powerFlags: PowerFlags

    @OptionGroup(title: "Profiles") var profileOptions: ProfileOptions

    @OptionGroup(title: "Device plugins") var pluginFlags: PluginFlags

    @Option(name: .customLong("idle-seconds"), help: ArgumentHelp("Seconds of idle power measured before the suite when a power source is used (0: none).", valueName: "seconds"))
    var idleSeconds: Double = 2

    @Flag(help: "Run every case in a worker process (a crash or hang then costs one failed result, not the run).")
    var isolate = false

    @Option(name: .customLong("case-timeout"), help: ArgumentHelp("Seconds an isolated case may take before its worker is killed and the case recorded as failed.", valueName: "seconds"))
    var caseTimeout: Double = 900

    @Flag(name: .customLong("no-ceilings"), help: "Skip measuring the machine's ceilings (no % of peak).")
    var noCeilings = false

    @Flag(help: "No progress on stderr.")
    var quiet = false

    @Option(name: .long, help: ArgumentHelp("Private key (PKCS#8 PEM): the result file is then a signed capability record (DSSE envelope).", valueName: "key"))
    var sign: String?

    @Flag(help: "Write an unsigned capability record as the result file instead of the run document.")
    var record = false

    @OptionGroup(title: "Record subject (with --sign or --record)") var subjectFlags: RecordSubjectFlags

    @Option(help: "llm: run the model with this many layers (overrides the preset, e.g. 4 to match a llama-bench test model).")
    var layers: Int?

    @Option(help: "llm: vocabulary size (overrides the preset, e.g. 32000).")
    var vocab: Int?

    @Option(
        help: ArgumentHelp(
            "llm: run the model in this GGUF file (llama or qwen2; every matrix q8_0 or every one q4_0) instead of synthetic weights. Its shapes name the model gguf (gguf:pp512, gguf:tg128:d128; a suite's llm shapes become these), the dtype is the file's, --layers N runs its first N layers, --vocab does not apply.",
            valueName: "file.gguf"))
    var weights: String?

    func validate() throws {
        for text in commaList(threads) {
            guard let value = Int(text) else { throw ValidationError("--threads: '\(text)' is not an integer") }
            guard value >= 1 else { throw ValidationError("--threads must be >= 1, got \(value)") }
        }
        do {
            for w in commaList(workload) { _ = try Workload.parse(w) }
            for d in commaList(dtype) { _ = try DType.parse(d) }
            // Plugin backends are checked once the plugins are loaded (in run).
            for b in commaList(backend) where !b.lowercased().hasPrefix(ProfileBackend.prefix) && !b.lowercased().hasPrefix(PluginNames.prefix) {
                _ = try CPUBackends.named(b, in: AllBackends.list())
            }
            _ = try profileOptions.backends(named: commaList(backend))
        } catch let error as AccelBenchError {
            throw ValidationError(error.message)
        }
        if let isa, !CPUISA.supportedISAs.contains(isa) {
            throw ValidationError("--isa \(isa.rawValue) is not supported by this CPU; supported: \(CPUISA.supportedISAs.map(\.rawValue).joined(separator: ", "))")
        }
        if let layers, layers < 1 { throw ValidationError("--layers must be >= 1, got \(layers)") }
        if let vocab, vocab < 1 { throw ValidationError("--vocab must be >= 1, got \(vocab)") }
        if weights != nil && vocab != nil {
            throw ValidationError("--vocab cannot be used with --weights: the vocabulary is the file's")
        }
        if !(caseTimeout > 0 && caseTimeout.isFinite) {
            throw ValidationError("--case-timeout must be a positive number of seconds, got \(caseTimeout)")
        }
        if !(idleSeconds >= 0 && idleSeconds <= 600) {
            throw ValidationError("--idle-seconds must be in 0...600, got \(idleSeconds)")
        }
        if let output, output.hasSuffix("/") {
            throw ValidationError("--output must name a file, got the directory '\(output)'")
        }
    }

    func selection(suite: Suite) -> RunPlan.Selection {
        var s = RunPlan.Selection()
        s.suite = suite
        s.workloads = commaList(workload)
        s.backends = commaList(backend)
        s.shapes = shape
        s.dtypes = commaList(dtype)
        s.threads = commaList(threads).compactMap(Int.init)
        s.layers = layers
        s.vocab = vocab
        return s
    }

    /// Opens and checks the `--weights` file. Every failure (no such file included) is bad input:
    /// exit status 2 with the reader's one-line message.
    static func openWeights(_ path: String) throws -> GGUFModel {
        do {
            return try GGUFModel(path: path)
        } catch let error as AccelBenchError where error.code == .io {
            throw AccelBenchError(.invalidArgument, error.message)
        }
    }

    /// What a run measured, before anything is printed or written.
    struct Outcome {
        var document: RunDocument
        var started: Date
    }

    func run() throws {
        let signingKey = try sign.map(RecordFiles.loadSigningKey)
        let subject = try subjectFlags.input()
        let outcome = try measure(defaultSuite: .quick)
        let document = outcome.document
        let results = document.results
        var path = output ?? RunCommand.defaultResultPath(host: document.host, date: outcome.started)
        var recordNote: String?
        if signingKey != nil || record {
            if output == nil { path = RecordFiles.recordPath(for: path) }
            let built = try RecordBuilder.build(from: document, subject: subject)
            let contentID = try RecordFiles.write(built.record, to: path, signingKey: signingKey)
            recordNote = "capability record (\(signingKey == nil ? "unsigned" : "signed, key \(signingKey!.publicKey.keyID)"), \(built.record.validity.status)): content id \(contentID)"
                + (built.projectedLeftOut > 0 ? "; \(built.projectedLeftOut) projected result(s) left out" : "")
            let failed = built.record.validity.checks.filter { !$0.passed }
            if !failed.isEmpty {
                recordNote! += "\nrecord checks failed: " + failed.prefix(8).map { c in c.id + (c.note.map { " (\($0))" } ?? "") }.joined(separator: "; ")
            }
        } else {
            try document.write(to: path)
        }
        let progress = Progress(enabled: !quiet && isatty(2) == 1)

        let report = ResultsReport(results: results)
        switch format {
        case .json:
            print(String(decoding: try document.encoded(), as: UTF8.self))
        case .csv:
            print(report.csv(), terminator: "")
        case .table, .markdown:
            print(RunCommand.textReport(document, report: report, markdown: format == .markdown, resultPath: path), terminator: "")
            if let recordNote { print(recordNote) }
        }
        if format != .table && format != .markdown {
            progress.say("result file: \(path)")
            if let recordNote { progress.say(recordNote) }
        }
        if results.contains(where: { $0.status == .failed }) {
            throw ExitCode(ExitStatus.caseFailed.rawValue)
        }
    }

    /// Runs the selected cases (the suite's when none are selected) and returns the result document.
    func measure(defaultSuite: Suite) throws -> Outcome {
        let suite = self.suite ?? defaultSuite
        let started = Date()
        let topology = try Topology.detect()
        let progress = Progress(enabled: !quiet && isatty(2) == 1)
        let session = RunSession(topology: topology, progress: progress)
        let model = try weights.map(RunCommand.openWeights)
        let plugins = pluginFlags.load()
        for skipped in plugins.skipped where !quiet { printError("plugin skipped: \(skipped)") }
        let backends = AllBackends.list(isa: isa, model: model) + plugins.backends
            + (try profileOptions.backends(named: commaList(backend), announce: !quiet))
        let streamElements = CeilingsProbe.streamElements(lastLevelCacheBytes: topology.lastLevelCacheBytes)
        var selection = selection(suite: suite)
        selection.backends = try PluginNames.canonical(selection.backends, plugins: plugins)
        if let model {
            selection.weightsFile = RunPlan.WeightsFile(
                path: model.file.path, dtype: LLMBackend.dtype(model.format), layers: model.config.layers)
            progress.say("weights: \(model.origin): \(model.config)")
        }
        let plan = try RunPlan(selection, backends: backends, cores: session.cores, streamElements: streamElements)
        // Projected cases allocate nothing.
        var measured = plan
        measured.cases.removeAll { $0.backend.hasPrefix(ProfileBackend.prefix) }
        if !measured.cases.isEmpty { try measured.checkMemory(availableBytes: try Topology.availableMemoryBytes()) }
        if plan.cases.contains(where: { $0.backend == "openblas" }) {
            OpenBLASEnvironment.reexecIfNeeded(core: openblasCore)
        }
        let power = try powerFlags.detect()
        var ceilings: Ceilings?
        if !noCeilings && !measured.cases.isEmpty {
            progress.say("measuring ceilings")
            ceilings = session.measureCeilings(progressPrefix: "  ceilings: ")
        }
        var meter: PowerMeterSession?
        var idleWatts: [String: Double] = [:]
        if !power.sources.isEmpty {
            let powerSession = PowerMeterSession(sources: power.sources, sampleIntervalSeconds: powerFlags.powerInterval)
            if idleSeconds > 0 {
                progress.say("measuring idle power for \(Format.number(idleSeconds)) s")
                idleWatts = powerSession.measureIdle(seconds: idleSeconds)
            }
            meter = powerSession
        } else if !quiet && powerFlags.power != "none" && powerFlags.power != "off" {
            printError(power.noSourceLine)
        }
        let powerSummary = PowerSummary(
            power, idleWatts: idleWatts, idleSeconds: power.sources.isEmpty ? 0 : idleSeconds,
            sampleIntervalSeconds: powerFlags.powerInterval)
        let measurer = Measurer(rule: suite.rule, energy: meter)
        let loadStart = SystemInfo.loadAverage()
        let runner = CaseRunner(
            measurer: measurer, seed: seed, lastLevelCacheBytes: topology.lastLevelCacheBytes,
            peak: { [ceilings] in ceilings?.peak(for: $0, unit: $1)?.naming(profile: ChipProfile.derivedCPUID) }, idleWatts: idleWatts)
        // Device results are judged against their chip's profile (plugins name their device).
        let profileCatalog = plan.cases.contains { $0.backend.hasPrefix(PluginNames.prefix) }
            ? try? ProfileCatalog.load(userDirectories: profileOptions.profilePath) : nil
        var results: [CaseResult] = []
        for (index, spec) in plan.cases.enumerated() {
            progress.say("[\(index + 1)/\(plan.cases.count)] \(spec)")
            let backend = try CPUBackends.named(spec.backend, in: backends)
            var result: CaseResult
            // Device plugins always run in a worker process: a crash or hang there costs one result.
            if (isolate || spec.backend.hasPrefix(PluginNames.prefix)) && !(backend is any ProjectingBackend) {
                // Power windows stay with the parent's sources: isolated cases carry no energy yet.
                let request = WorkerRequest(
                    spec: spec, rule: measurer.rule, seed: seed, lastLevelCacheBytes: topology.lastLevelCacheBytes,
                    isa: isa?.rawValue, weights: weights, pluginPaths: pluginFlags.pluginPath)
                result = WorkerProcess(timeoutSeconds: caseTimeout).run(request)
                if let device = backend as? PluginBackend {
                    RunCommand.judgeOnProfile(&result, device: device, catalog: profileCatalog, runner: runner)
                } else {
                    runner.attachPeaks(&result)
                }
            } else {
                let peakWasReset = ResidentMemory.resetPeak()
                result = runner.run(spec, on: backend, pool: session.pool(spec.threads))
                if peakWasReset { result.peakResidentBytes = ResidentMemory.peakBytes() }
            }
            progress.say("    " + RunCommand.progressLine(result))
            results.append(result)
        }

        var document = RunDocument(
            accelbench: .init(version: SystemInfo.version, commit: SystemInfo.commit(), compiler: SystemInfo.compiler),
            host: SystemInfo.hostName(), startedAt: SystemInfo.iso8601(started), finishedAt: SystemInfo.iso8601(Date()),
            command: CommandLine.arguments, suite: suite.rawValue, rule: measurer.rule, seed: seed,
            versions: SystemInfo.versions(topology: topology), loadAverageStart: loadStart,
            loadAverageEnd: SystemInfo.loadAverage(), topology: topology, ceilings: ceilings, power: powerSummary,
            results: results)
        document.cpuProfile = ceilings.map { ChipProfile.derived(from: $0, topology: topology) }
        document.threadsPinned = session.binder != nil
        return Outcome(document: document, started: started)
    }

    /// A device plugin's result gets the peak of the chip profile its device name matches, named in the
    /// label; a plugin running on the host CPU (vendor "accelbench", the reference plugin) is judged
    /// against the measured host ceilings (profile cpu-host); any other device without a profile gets
    /// no % of peak rather than the CPU's.
    static func judgeOnProfile(_ result: inout CaseResult, device: PluginBackend, catalog: ProfileCatalog?, runner: CaseRunner) {
        let info = device.deviceInfo
        if let profile = catalog?.matching(deviceName: info.name) {
            if let peak = ProfileBackend(profile: profile).peak(for: result.spec), peak.unit == result.unit, peak.value > 0,
               let median = result.throughput?.median {
                result.peak = peak
                result.peakFraction = median / peak.value
            }
        } else if info.vendor == "accelbench" {
            runner.attachPeaks(&result)
        }
    }

    static func progressLine(_ r: CaseResult) -> String {
        switch r.status {
        case .passed:
            let t = r.throughput!
            return "\(Format.number(t.median)) \(r.unit.rawValue) [\(Format.number(t.p5))-\(Format.number(t.p95))], n=\(t.n), \(r.measurement!.stopReason.rawValue), \(r.kernelPath ?? "")"
        case .failed: return "FAILED: \(r.reason ?? "")"
        case .skipped: return "skipped: \(r.reason ?? "")"
        case .projected: return "projected (not measured): \(r.projection.map { "\(Format.number($0.throughput)) \(r.unit.rawValue), \($0.bound.rawValue)-bound" } ?? "")"
        }
    }

    static func defaultResultPath(host: String, date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return "results/\(host)-\(formatter.string(from: date)).json"
    }

    static func textReport(_ d: RunDocument, report: ResultsReport, markdown: Bool, resultPath: String) -> String {
        var out = ""
        let cpu = d.ceilings?.cpu.brand ?? d.topology.cpuModel ?? "CPU"
        let heading = "accelbench \(d.accelbench.version) (\(d.accelbench.commit.prefix(12))) on \(d.host): \(cpu), \(d.topology.physicalCoreCount) cores, suite \(d.suite)"
        out += markdown ? "# \(heading)\n\n" : heading + "\n"
        out += "OpenBLAS \(OpenBLASBackend.version), core \(OpenBLASBackend.coreName); hwloc \(d.topology.hwlocVersion); load average \(d.loadAverageStart.map { String(format: "%.2f", $0) }.joined(separator: " "))\n\n"
        if let c = d.ceilings {
            out += markdown ? "## Machine ceilings (measured)\n\n```\n" : "Machine ceilings (measured):\n"
            out += c.renderTable()
            out += markdown ? "```\n\n" : "\n"
        }
        if let p = d.cpuProfile {
            out += "CPU profile \(p.id) (derived from these ceilings): " + ChipProfile.Peaks.names.compactMap { name in
                p.peakTFLOPS[name].map { "\(name) \(Format.number($0)) \(name.hasPrefix("int") ? "TOPS" : "TFLOPS")" }
            }.joined(separator: ", ") + (p.bandwidthGBps.map { ", read \(Format.number($0)) GB/s" } ?? "") + "\n\n"
        }
        if let power = d.power {
            out += (markdown ? power.lines.map { "    \($0)" } : power.lines).joined(separator: "\n") + "\n\n"
        }
        out += markdown ? "## Results\n\n" : "Results (throughput per sample: median, p5-p95; cv; % of the measured ceiling, or of the profile's nominal peak for projected rows; ratio to the baseline backend):\n"
        let table = report.table()
        out += markdown ? table.renderMarkdown() : table.render()
        let notes = report.notes()
        if !notes.isEmpty { out += "\n" + notes.map { markdown ? "- \($0)" : $0 }.joined(separator: "\n") + "\n" }
        let paths = Set(d.results.compactMap { r in r.kernelPath.map { "\(r.spec.backend): \($0)" } }).sorted()
        if !paths.isEmpty { out += "\nKernel paths:\n" + paths.map { "  \($0)" }.joined(separator: "\n") + "\n" }
        out += "\nResult file: \(resultPath)\n"
        return out
    }
}

/// Progress lines on stderr, only when stderr is a terminal.
struct Progress: Sendable {
    let enabled: Bool
    func say(_ line: String) {
        if enabled { printError(line) }
    }
}

/// The worker pools of a run, one per thread count, each worker bound to its own core.
final class RunSession {
    let topology: Topology
    let binder: TopologyBinder?
    let progress: Progress
    private var pools: [Int: WorkerPool] = [:]

    init(topology: Topology, progress: Progress) {
        self.topology = topology
        self.progress = progress
        do {
            binder = try TopologyBinder()
        } catch {
            progress.say("note: threads are not bound to cores (\(error))")
            binder = nil
        }
    }

    /// Physical cores: the default "all cores" thread count.
    var cores: Int { max(1, topology.physicalCoreCount) }

    func pool(_ threads: Int) -> WorkerPool {
        if let pool = pools[threads] { return pool }
        let binder = self.binder
        let pool = WorkerPool(threadCount: threads) { index in
            try? binder?.bindCurrentThread(toCoreIndex: index)
        }
        pools[threads] = pool
        return pool
    }

    /// Measures the machine's ceilings on this session's pools (quick sampling rule).
    func measureCeilings(progressPrefix: String = "") -> Ceilings {
        var probe = CeilingsProbe(
            measurer: Measurer(rule: .quick), cores: cores, lastLevelCacheBytes: topology.lastLevelCacheBytes,
            pool: pool)
        let progress = self.progress
        probe.progress = { progress.say(progressPrefix + $0) }
        return probe.measure()
    }
}
