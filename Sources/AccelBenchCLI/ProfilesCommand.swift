import AccelBenchCore
import AccelBenchProfiles
import ArgumentParser
import Foundation

/// `accelbench profiles list|show`: the chip profiles (published figures) results are judged against
/// and projections are made from.
struct ProfilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles",
        abstract: "Chip profiles: published dense peaks, memory, TDP, interconnect, with source and confidence.",
        discussion: """
            Profiles are nominal (datasheet or derived) figures, never measurements; every peak is dense. \
            A profile is used as a backend with --backend profile:ID (a roofline projection, labelled \
            projected). The CPU profile cpu-host is derived at run time from the measured ceilings.
            """,
        subcommands: [List.self, Show.self])

    enum Style: String, ExpressibleByArgument, CaseIterable { case table, json }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the profiles, optionally of one vendor or stack.")

        @Option(help: "Only profiles whose vendor contains this (case-insensitive).")
        var vendor: String?

        @Option(help: "Only profiles whose stack contains this (CANN, BANG, DTK, ROCm, XPU, MACA, MUSA, CoreX, CUDA...).")
        var stack: String?

        @Option(help: "table or json.")
        var format: Style = .table

        @Option(name: .customLong("profile-path"), help: ArgumentHelp("A directory of user profiles, repeatable.", valueName: "dir"))
        var profilePath: [String] = []

        func run() throws {
            let catalog = try ProfileCatalog.load(userDirectories: profilePath)
            for note in catalog.notes { printError("note: \(note)") }
            let profiles = catalog.filtered(vendor: vendor, stack: stack)
            switch format {
            case .json: print(try ProfilesCommand.json(profiles))
            case .table:
                print(ProfilesCommand.table(profiles).render(), terminator: "")
                print("\(profiles.count) profile(s); peaks dense, TFLOPS/TOPS; \"-\" = unknown. Use one with --backend profile:ID.")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one profile with its source.")

        @Argument(help: "The profile id (accelbench profiles list).")
        var name: String

        @Option(help: "table or json.")
        var format: Style = .table

        @Option(name: .customLong("profile-path"), help: ArgumentHelp("A directory of user profiles, repeatable.", valueName: "dir"))
        var profilePath: [String] = []

        func run() throws {
            let catalog = try ProfileCatalog.load(userDirectories: profilePath)
            for note in catalog.notes { printError("note: \(note)") }
            if name.lowercased() == ChipProfile.derivedCPUID && (try? catalog.named(name)) == nil {
                throw AccelBenchError(
                    .invalidArgument,
                    "\(ChipProfile.derivedCPUID) is derived at run time from the measured ceilings: accelbench run writes it to the result file (cpuProfile) and prints it under the ceilings")
            }
            let p = try catalog.named(name)
            switch format {
            case .json: print(try ProfilesCommand.json(p))
            case .table: print(ProfilesCommand.details(p, origin: catalog.origins[p.id] ?? "bundled"), terminator: "")
            }
        }
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func figure(_ value: Double?) -> String { value.map(Format.number) ?? "-" }

    static func table(_ profiles: [ChipProfile]) -> TextTable {
        var table = TextTable(header: ["id", "vendor", "model", "stack", "year"] + ChipProfile.Peaks.names + ["mem GB", "GB/s", "TDP W", "confidence"])
        for p in profiles {
            table.append(
                [p.id, p.vendor, p.model, p.stack, p.year.map(String.init) ?? "-"]
                    + ChipProfile.Peaks.names.map { figure(p.peakTFLOPS[$0]) }
                    + [figure(p.memory?.capacityGB), figure(p.bandwidthGBps), figure(p.tdpWatts), p.confidence])
        }
        return table
    }

    static func details(_ p: ChipProfile, origin: String) -> String {
        var lines = [
            "id:           \(p.id)",
            "vendor:       \(p.vendor)",
            "model:        \(p.model)",
            "stack:        \(p.stack)" + (p.stackDetail.map { $0 == p.stack ? "" : " (\($0))" } ?? ""),
            "year:         \(p.year.map(String.init) ?? "unknown")",
            "dense peaks:  " + ChipProfile.Peaks.names.map { "\($0) \(figure(p.peakTFLOPS[$0]))" }.joined(separator: ", ")
                + " (TFLOPS; TOPS for int8/int4; - unknown)",
            "memory:       \(p.memory?.type ?? "type unknown"), \(p.memory?.capacityGB.map { "\(Format.number($0)) GB" } ?? "capacity unknown"), \(p.bandwidthGBps.map { "\(Format.number($0)) GB/s" } ?? "bandwidth unknown")",
            "TDP:          \(p.tdpWatts.map { "\(Format.number($0)) W" } ?? "unknown")",
            "interconnect: \(p.interconnect?.name ?? "unknown")\(p.interconnect?.bandwidthGBps.map { ", \(Format.number($0)) GB/s" } ?? "")",
            "confidence:   \(p.confidence)",
            "source:       \(p.source)",
        ]
        if let notes = p.notes { lines.append("notes:        \(notes)") }
        lines.append("file:         \(origin)")
        lines.append("use:          accelbench run --backend profile:\(p.id) (roofline projection, labelled projected)")
        return lines.joined(separator: "\n") + "\n"
    }
}
