/// Why a plugin could not be loaded or a call into it failed; `message` says what to do.
public struct PluginError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Code: String, Sendable, Codable {
        /// dlopen failed (not a shared library, missing dependency, wrong architecture).
        case loadFailed = "load_failed"
        /// The library exports no `accelbench_plugin_get_api`, or it returned NULL.
        case missingEntry = "missing_entry"
        /// The table's ABI major is not this accelbench's, or the table is too short to be one.
        case abiMismatch = "abi_mismatch"
        /// The plugin declined this machine (score 0).
        case declined
        /// Two plugins report the same name; the later one is skipped.
        case duplicate
        /// An entry is absent from the plugin's table (beyond its struct_size, or NULL).
        case notImplemented = "not_implemented"
        /// A call returned an error; `pluginCode` holds the plugin's code.
        case callFailed = "call_failed"
    }

    /// The plugin's own error codes (accelbench_plugin.h, AccelbenchErrorCode).
    public enum PluginCode: Int, Sendable, Codable {
        case invalidArgument = 1, unsupported, outOfMemory, notAvailable, device, timeout, `internal`
    }

    public var code: Code
    public var pluginCode: PluginCode?
    /// The plugin's file or name.
    public var plugin: String
    public var message: String

    public init(_ code: Code, plugin: String, _ message: String, pluginCode: PluginCode? = nil) {
        self.code = code
        self.plugin = plugin
        self.message = message
        self.pluginCode = pluginCode
    }

    public var description: String { "plugin \(plugin): \(message)" }
}
