import AccelBenchCPU
import AccelBenchCore
import AccelBenchPlugins
import AccelBenchTopology
import ArgumentParser
import Foundation

struct TopologyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Show the machine's topology (hwloc): packages, cores, threads, caches, NUMA, accelerators.")

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    @Option(help: "table or json.")
    var format: Format = .table

    @Option(name: .customLong("xml"), help: ArgumentHelp("Describe the machine in an hwloc XML file instead of this one.", valueName: "file"))
    var xmlFile: String?

    func run() throws {
        let topology: Topology
        do {
            topology = try xmlFile.map { try Topology.load(xmlFile: $0) } ?? Topology.detect()
        } catch let error as TopologyError {
            throw AccelBenchError(xmlFile == nil ? .library : .invalidArgument, error.description)
        }
        switch format {
        case .table: print(topology.renderTable(), terminator: "")
        case .json: print(try topology.renderJSON())
        }
    }
}

struct CeilingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ceilings",
        abstract: "Measure the machine's ceilings only: running clock, FMA and bf16 throughput, STREAM bandwidth.")

    @Option(help: "table or json.")
    var format: TopologyCommand.Format = .table

    func run() throws {
        let session = RunSession(topology: try Topology.detect(), progress: Progress(enabled: isatty(2) == 1))
        let ceilings = session.measureCeilings()
        switch format {
        case .table: print(ceilings.renderTable(), terminator: "")
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(ceilings), as: UTF8.self))
        }
    }
}

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List what exists: workloads, backends, suites or models (attention presets).")

    enum What: String, ExpressibleByArgument, CaseIterable { case workloads, backends, suites, models }

    @Argument(help: "workloads, backends, suites or models.")
    var what: What

    func run() throws {
        var table: TextTable
        switch what {
        case .workloads:
            table = TextTable(header: ["workload", "dtypes", "description"])
            for w in Workload.allCases {
                table.append([w.rawValue, w.dtypes.map(\.rawValue).joined(separator: ","), w.summary])
            }
        case .backends:
            table = TextTable(header: ["backend", "workloads", "description"])
            // Device plugins on ACCELBENCH_PLUGIN_PATH (run takes --plugin-path too).
            let plugins = PluginFlags.load(paths: [])
            for b in AllBackends.list() + plugins.backends {
                let caps = b.capabilities.sorted { $0.key.rawValue < $1.key.rawValue }
                    .map { "\($0.key.rawValue)(\($0.value.map(\.rawValue).joined(separator: ",")))" }.joined(separator: " ")
                table.append([b.name, caps, b.summary])
            }
            for skipped in plugins.skipped { table.append(["(skipped plugin)", skipped.path, skipped.error.message]) }
            table.append([
                "profile:ID", "every workload and dtype the profile has a peak for",
                "roofline projection on a chip profile (accelbench profiles list); results labelled projected, never measured",
            ])
        case .suites:
            table = TextTable(header: ["suite", "cases"])
            for s in Suite.allCases {
                let text = s.entries.map { "\($0.workload.rawValue) \($0.dtype.rawValue) [\($0.backends.joined(separator: ","))] \($0.shapes.joined(separator: " "))" }
                table.append([s.rawValue, text.joined(separator: "; ")])
            }
        case .models:
            table = TextTable(header: ["model", "heads", "kv heads", "head dim", "example shapes", "source"])
            for m in AttentionShape.models {
                table.append([
                    m.name, "\(m.heads)", "\(m.kvHeads)", "\(m.headDim)", "\(m.name):prefill2048  \(m.name):decode8192", m.source,
                ])
            }
        }
        print(table.render(), terminator: "")
    }
}
