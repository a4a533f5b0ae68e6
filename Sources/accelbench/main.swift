import AccelBenchCLI
import Foundation

exit(AccelBench.main(arguments: Array(CommandLine.arguments.dropFirst())))
