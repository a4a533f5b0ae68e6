import AccelBenchCore
import AccelBenchPlugins
import ArgumentParser
import Foundation

/// `--plugin-path` and the plugin search it drives (with `ACCELBENCH_PLUGIN_PATH` and
/// `ACCELBENCH_PLUGIN_TRACE=1`).
struct PluginFlags: ParsableArguments {
    @Option(name: .customLong("plugin-path"), help: ArgumentHelp(
        "Device plugin file or directory to load (repeatable; ACCELBENCH_PLUGIN_PATH adds colon-separated directories; ACCELBENCH_PLUGIN_TRACE=1 traces loading and calls). Backends: plugin:NAME[:DEVICE].",
        valueName: "path"))
    var pluginPath: [String] = []

    /// Loads the plugins (a broken one is skipped with its reason; the rest load).
    func load(environment: [String: String] = ProcessInfo.processInfo.environment) -> PluginLoader.Report {
        PluginFlags.load(paths: pluginPath, environment: environment)
    }

    static func load(paths: [String], environment: [String: String] = ProcessInfo.processInfo.environment) -> PluginLoader.Report {
        PluginLoader.load(explicitPaths: paths, environment: environment, trace: .from(environment: environment))
    }
}

enum PluginNames {
    static let prefix = "plugin:"

    /// `plugin:NAME` (device 0) spelled as the backend's own name `plugin:NAME:0`; other names as given.
    static func canonical(_ names: [String], plugins: PluginLoader.Report) throws -> [String] {
        try names.map { name in
            guard name.lowercased().hasPrefix(prefix) else { return name }
            return try plugins.backend(named: name).name
        }
    }
}
