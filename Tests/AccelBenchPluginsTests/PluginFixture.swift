import Foundation
import AccelBenchCore
@testable import AccelBenchPlugins

/// Plugin libraries for the tests: the reference plugin SwiftPM built (product
/// accelbench-plugin-reference, next to the test binary) or, when the build did not produce it, one
/// compiled here with cc from the same source; the stubs (Tests/Stubs/plugins/stub_plugin.c, one
/// -DSTUB_<VARIANT> per library) and the ABI 1.0 compat plugin are always compiled here with cc.
enum PluginFixture {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func temporaryDirectory() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("accelbench-plugins-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    static func remove(_ directory: String) {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Compiles C `sources` into a shared library at `output`.
    static func compile(_ sources: [String], includes: [String], defines: [String] = [], output: String) throws {
        let compiler = Process()
        compiler.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var arguments: [String] = ["cc", "-std=c99", "-D_POSIX_C_SOURCE=200809L", "-shared", "-fPIC", "-O1"]
        for include in includes { arguments += ["-I", packageRoot.appendingPathComponent(include).path] }
        for define in defines { arguments.append("-D" + define) }
        arguments += ["-o", output]
        for source in sources { arguments.append(packageRoot.appendingPathComponent(source).path) }
        arguments.append("-lm")
        compiler.arguments = arguments
        try compiler.run()
        compiler.waitUntilExit()
        guard compiler.terminationStatus == 0 else {
            throw PluginError(.loadFailed, plugin: output, "cc failed (status \(compiler.terminationStatus)) for \(sources)")
        }
    }

    /// The reference plugin's path (built product, else compiled into a temporary directory).
    static func referencePlugin() throws -> String {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let built = executable.deletingLastPathComponent().appendingPathComponent("libaccelbench-plugin-reference.so").path
        if FileManager.default.fileExists(atPath: built) { return built }
        return try compiledReference.get()
    }

    private static let compiledReference: Result<String, any Error> = Result {
        let output = try temporaryDirectory() + "/libaccelbench-plugin-reference.so"
        try compile(["kernels/plugin/reference/reference_plugin.c"], includes: ["kernels/plugin/include"], output: output)
        return output
    }

    enum Stub: String, CaseIterable {
        case wrongMajor = "WRONG_MAJOR", newerMinor = "NEWER_MINOR", shortTable = "SHORT_TABLE", noEntry = "NO_ENTRY"
        case decline = "DECLINE", crash = "CRASH", hang = "HANG", wrongResult = "WRONG_RESULT"

        var fileName: String { "libaccelbench-plugin-stub-\(rawValue.lowercased().replacingOccurrences(of: "_", with: "-")).so" }
    }

    /// Compiles `stub` into `directory` and returns its path.
    @discardableResult
    static func stub(_ stub: Stub, in directory: String) throws -> String {
        let output = directory + "/" + stub.fileName
        try compile(["Tests/Stubs/plugins/stub_plugin.c"], includes: ["kernels/plugin/include"], defines: ["STUB_\(stub.rawValue)"], output: output)
        return output
    }

    /// The compat plugin, built against the frozen 1.0 header.
    static func compatPlugin(in directory: String) throws -> String {
        let output = directory + "/libaccelbench-plugin-compat-1-0.so"
        try compile(["kernels/plugin/compat/compat_plugin_1_0.c"], includes: ["kernels/plugin/compat"], output: output)
        return output
    }
}
