import AccelBenchCore
import ArgumentParser
import Foundation

/// The `accelbench` command line.
public struct AccelBench: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "accelbench",
        abstract: "Heterogeneous accelerator benchmarking harness: measured, checked throughput per precision.",
        discussion: """
            Exit codes: 0 success; 1 internal error (verify: a record is invalid); 2 bad input (nothing \
            measured); 3 a case failed (wrong output or an error while running it; compare: a regression); \
            4 certification failed.
            """,
        version: SystemInfo.version,
        subcommands: [RunCommand.self, TopologyCommand.self, CeilingsCommand.self, PowerCommand.self, ListCommand.self, WorkerCommand.self, ProfilesCommand.self, CoverageCommand.self, KeygenCommand.self, SignCommand.self, VerifyCommand.self, CompareCommand.self, RecordCommand.self, CertifyCommand.self, ModelWriteCommand.self],
        defaultSubcommand: nil)

    public init() {}

    /// Parses `arguments` (without the program name), runs the command, and returns the exit status.
    /// Bad input of every kind (unknown flags, malformed values, invalid selections) exits with 2.
    public static func main(arguments: [String]) -> Int32 {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            return ExitStatus.success.rawValue
        } catch let error as AccelBenchError {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            switch error.code {
            case .io, .library: return ExitStatus.internalError.rawValue
            default: return ExitStatus.usageError.rawValue
            }
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                return 0
            }
            if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            return code == .validationFailure ? ExitStatus.usageError.rawValue : code.rawValue
        }
    }
}

/// Output formats of the commands that print results.
public enum OutputFormat: String, CaseIterable, ExpressibleByArgument, Sendable {
    case table, json, csv, markdown
}

/// Splits repeatable, comma-separated option values ("a,b" "c" -> a b c).
func commaList(_ values: [String]) -> [String] {
    values.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
}

/// Writes to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
