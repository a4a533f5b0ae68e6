import AccelBenchCPU
import Foundation

/// OpenBLAS picks its kernel set when the library loads, from OPENBLAS_CORETYPE: the only way to
/// choose it is to set the variable before the process starts. `auto` re-executes accelbench once with
/// OPENBLAS_CORETYPE=Haswell on AMD Zen 4, where its AVX2 kernels run about 7% faster than the AVX-512
/// ones it picks by default (measured on this project's reference machine).
enum OpenBLASEnvironment {
    static let marker = "ACCELBENCH_OPENBLAS_REEXEC"

    static func reexecIfNeeded(core: String) {
        let environment = ProcessInfo.processInfo.environment
        // Only the accelbench executable re-executes itself: a process that merely calls the command
        // line (the test runner) must not be replaced by a second copy of itself.
        guard URL(fileURLWithPath: CommandLine.arguments.first ?? "").lastPathComponent == "accelbench" else { return }
        guard core != "default", environment["OPENBLAS_CORETYPE"] == nil, environment[marker] == nil else { return }
        let target: String
        if core == "auto" {
            let cpu = CPUIdentity.detect()
            guard cpu.vendor == "AuthenticAMD", cpu.family == 0x19, cpu.has("avx512f") else { return }
            target = "Haswell"
        } else {
            target = core
        }
        setenv("OPENBLAS_CORETYPE", target, 1)
        setenv(marker, "1", 1)
        let arguments = CommandLine.arguments
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        execv("/proc/self/exe", &argv)
        // Only reached when exec failed: go on with OpenBLAS's own choice.
        printError("note: could not re-execute with OPENBLAS_CORETYPE=\(target) (\(String(cString: strerror(errno)))); OpenBLAS keeps core \(OpenBLASBackend.coreName)")
    }
}
