import Foundation
import AccelBenchCore

/// Finds and loads device plugins.
///
/// Search path, in order: the `explicitPaths` (the CLI's `--plugin-path`, files or directories), then
/// the directories of `ACCELBENCH_PLUGIN_PATH` (colon-separated) in `environment`. In a directory,
/// files named `libaccelbench-plugin-*.so` are plugins (one without the entry symbol is skipped with
/// that reason); any other `*.so` is loaded only if it exports `accelbench_plugin_get_api` (otherwise
/// ignored, traced). A file given explicitly is always treated as a plugin. The same file reached twice
/// (by symlink or two paths) loads once; a second plugin with a name already loaded is skipped.
///
/// One broken plugin never blocks the rest: every failure becomes a `SkippedPlugin` with its reason.
public enum PluginLoader {
    /// A plugin that was not loaded, and why.
    public struct SkippedPlugin: Sendable, Equatable, CustomStringConvertible {
        public var path: String
        public var error: PluginError
        public var reason: String { error.message }
        public var description: String { "\(path): \(error.code.rawValue): \(error.message)" }
    }

    public struct Report: Sendable {
        public var plugins: [Plugin]
        public var skipped: [SkippedPlugin]
        /// The directories and files searched, in order.
        public var searched: [String]
    }

    public static let environmentVariable = "ACCELBENCH_PLUGIN_PATH"

    /// The files to try, in order, and whether each was named as a plugin (explicitly or by its name).
    public static func candidates(explicitPaths: [String], environment: [String: String]) -> (files: [(path: String, named: Bool)], searched: [String]) {
        let directories = (environment[environmentVariable] ?? "").split(separator: ":").map(String.init).filter { !$0.isEmpty }
        var files: [(String, Bool)] = []
        var searched: [String] = []
        let manager = FileManager.default
        for (path, explicit) in explicitPaths.map({ ($0, true) }) + directories.map({ ($0, false) }) {
            searched.append(path)
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
                if explicit { files.append((path, true)) } // reported as a load failure
                continue
            }
            if !isDirectory.boolValue {
                files.append((path, true))
                continue
            }
            let names = ((try? manager.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".so") }.sorted()
            for name in names {
                files.append(((path as NSString).appendingPathComponent(name), name.hasPrefix("libaccelbench-plugin-")))
            }
        }
        return (files, searched)
    }

    /// Loads every plugin on the search path. `environment` is passed in (the library reads no
    /// process state): the CLI passes `ProcessInfo.processInfo.environment`.
    public static func load(explicitPaths: [String] = [], environment: [String: String], trace: PluginTrace = .off) -> Report {
        let (files, searched) = candidates(explicitPaths: explicitPaths, environment: environment)
        trace("search path: \(searched.isEmpty ? "(empty)" : searched.joined(separator: ", "))")
        var report = Report(plugins: [], skipped: [], searched: searched)
        var seen = Set<String>()
        for (path, named) in files {
            let real = (path as NSString).resolvingSymlinksInPath
            guard seen.insert(real).inserted else {
                trace("\(path): already loaded from the same file, ignored")
                continue
            }
            do {
                let plugin = try Plugin(path: path, trace: trace)
                if let other = report.plugins.first(where: { $0.name == plugin.name }) {
                    throw PluginError(.duplicate, plugin: path, "a plugin named '\(plugin.name)' is already loaded from \(other.path)")
                }
                report.plugins.append(plugin)
            } catch let error as PluginError {
                if error.code == .missingEntry && !named {
                    trace("\(path): not a plugin (\(error.message)), ignored")
                    continue
                }
                trace("skipped \(path): \(error.message)")
                report.skipped.append(SkippedPlugin(path: path, error: error))
            } catch {
                report.skipped.append(SkippedPlugin(path: path, error: PluginError(.loadFailed, plugin: path, "\(error)")))
            }
        }
        return report
    }
}

extension PluginLoader.Report {
    /// A backend per device of every loaded plugin (`plugin:NAME:DEVICE`).
    public var backends: [PluginBackend] { PluginBackend.all(plugins) }

    /// Resolves `plugin:NAME:DEVICE` or `plugin:NAME` (device 0). The error says what exists, and why a
    /// plugin of that name (or file) was skipped when it was.
    public func backend(named text: String) throws -> PluginBackend {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || parts.count == 3, parts[0].lowercased() == "plugin", !parts[1].isEmpty else {
            throw AccelBenchError(.unknownBackend, "'\(text)' is not a plugin backend: write plugin:NAME or plugin:NAME:DEVICE")
        }
        let name = parts[1]
        guard let plugin = plugins.first(where: { $0.name == name }) else {
            var message = "no plugin named '\(name)' is loaded"
            let related = skipped.filter { $0.path.contains(name) || $0.error.plugin.contains(name) }
            if !related.isEmpty { message += "; skipped: " + related.map(\.description).joined(separator: "; ") }
            message += loadedList
            throw AccelBenchError(.unknownBackend, message)
        }
        var device = 0
        if parts.count == 3 {
            guard let index = Int(parts[2]), plugin.devices.indices.contains(index) else {
                throw AccelBenchError(
                    .unknownBackend, "plugin \(name) has devices 0..<\(plugin.devices.count); '\(parts[2])' is not one of them")
            }
            device = index
        }
        return PluginBackend(plugin: plugin, device: device)
    }

    private var loadedList: String {
        let names = backends.map(\.name)
        let where_ = searched.isEmpty ? "nothing searched: pass --plugin-path or set \(PluginLoader.environmentVariable)" : "searched \(searched.joined(separator: ", "))"
        return names.isEmpty ? " (no plugin loaded; \(where_))" : " (loaded: \(names.joined(separator: ", ")); \(where_))"
    }
}
