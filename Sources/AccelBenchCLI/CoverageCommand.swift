import AccelBenchCPU
import AccelBenchCore
import AccelBenchProfiles
import AccelBenchTopology
import ArgumentParser
import Foundation

/// `accelbench coverage --backend NAME`: the adaptation matrix vendors compare progress with.
struct CoverageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coverage",
        abstract: "Run (or project) a suite on one backend and print its matrix: workload x dtype -> supported / correct / % of peak / failure reason.",
        discussion: """
            Every workload x dtype accelbench knows is a row. A dtype the backend implements runs the \
            suite's shapes for it (or the default shape; --shape replaces them where its syntax fits the \
            workload). Failed and skipped cases are data: the exit status is 0 unless the input is bad. \
            profile:ID backends project instead of running (state "projected").
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, csv }

    @Option(help: "The backend (accelbench list backends, or profile:ID).")
    var backend: String

    @Option(help: "Suite whose shapes the cells run: quick, standard or full.")
    var suite: Suite = .quick

    @Option(name: .long, help: ArgumentHelp("Shapes replacing the suite's, repeatable; each applies to the workloads whose syntax takes it.", valueName: "shape"))
    var shape: [String] = []

    @Option(help: ArgumentHelp("Thread count of every case (default: all cores).", valueName: "n"))
    var threads: Int?

    @Option(help: "table, json or csv.")
    var format: Format = .table

    @OptionGroup(title: "Profiles") var profileOptions: ProfileOptions

    @Flag(name: .customLong("no-ceilings"), help: "Skip measuring the machine's ceilings (no % of peak for CPU backends).")
    var noCeilings = false

    @Option(help: "Seed of the random inputs.")
    var seed: UInt64 = 0x5EED

    @Flag(help: "No progress on stderr.")
    var quiet = false

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be >= 1, got \(threads)") }
        do {
            if backend.lowercased().hasPrefix(ProfileBackend.prefix) {
                _ = try profileOptions.backends(named: [backend])
            } else {
                _ = try CPUBackends.named(backend, in: AllBackends.list())
            }
        } catch let error as AccelBenchError {
            throw ValidationError(error.message)
        }
    }

    func run() throws {
        let topology = try Topology.detect()
        let progress = Progress(enabled: !quiet && isatty(2) == 1)
        let session = RunSession(topology: topology, progress: progress)
        let backends = AllBackends.list() + (try profileOptions.backends(named: [backend], announce: !quiet))
        let chosen = try CPUBackends.named(backend, in: backends)
        let projecting = chosen is any ProjectingBackend
        let streamElements = CeilingsProbe.streamElements(lastLevelCacheBytes: topology.lastLevelCacheBytes)

        // One plan per implemented workload x dtype; a cell that cannot be planned keeps its reason.
        var cases: [CaseSpec] = []
        var notes: [String: String] = [:]
        for workload in Workload.allCases {
            let fitting = shape.filter { (try? workload.parseShapes($0)) != nil }
            for dtype in workload.dtypes where chosen.capabilities[workload]?.contains(dtype) == true {
                var selection = RunPlan.Selection()
                selection.suite = suite
                selection.workloads = [workload.rawValue]
                selection.backends = [chosen.name]
                selection.dtypes = [dtype.rawValue]
                selection.shapes = fitting
                selection.threads = [threads ?? session.cores]
                do {
                    let plan = try RunPlan(selection, backends: backends, cores: session.cores, streamElements: streamElements)
                    if !projecting { try plan.checkMemory(availableBytes: try Topology.availableMemoryBytes()) }
                    cases += plan.cases
                } catch let error as AccelBenchError {
                    notes["\(workload.rawValue)|\(dtype.rawValue)"] = error.message
                }
            }
        }

        var ceilings: Ceilings?
        if !projecting && !noCeilings && !cases.isEmpty {
            progress.say("measuring ceilings")
            ceilings = session.measureCeilings(progressPrefix: "  ceilings: ")
        }
        let cpuProfile = ceilings.map { ChipProfile.derived(from: $0, topology: topology) }
        let runner = CaseRunner(
            measurer: Measurer(rule: suite.rule), seed: seed, lastLevelCacheBytes: topology.lastLevelCacheBytes,
            peak: { [ceilings] spec, unit in
                ceilings?.peak(for: spec, unit: unit).map { $0.naming(profile: ChipProfile.derivedCPUID) }
            })
        var results: [CaseResult] = []
        for (index, spec) in cases.enumerated() {
            progress.say("[\(index + 1)/\(cases.count)] \(spec)")
            let result = runner.run(spec, on: chosen, pool: session.pool(projecting ? 1 : spec.threads))
            progress.say("    " + RunCommand.progressLine(result))
            results.append(result)
        }
        let matrix = CoverageMatrix(backend: chosen.name, capabilities: chosen.capabilities, results: results, notes: notes)
        switch format {
        case .json: print(try ProfilesCommand.json(matrix))
        case .csv: print(matrix.csv(), terminator: "")
        case .table:
            print("Coverage of \(chosen.name) (suite \(suite.rawValue)\(projecting ? "; projected from the profile, not measured" : "")):")
            print(matrix.table().render(), terminator: "")
            if let cpuProfile {
                print("% of peak: of the measured ceilings of profile \(cpuProfile.id) (\(cpuProfile.model)).")
            } else if projecting {
                print("% of peak: of the profile's dense peak (nominal); projections are not measurements.")
            }
        }
    }
}
