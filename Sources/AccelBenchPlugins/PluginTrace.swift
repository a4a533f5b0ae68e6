#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where loading steps and plugin calls are traced (`ACCELBENCH_PLUGIN_TRACE=1`): a line sink, or none.
/// The library never reads the environment or writes to stderr on its own; the caller picks the sink.
public struct PluginTrace: Sendable {
    let sink: (@Sendable (String) -> Void)?

    public init(_ sink: (@Sendable (String) -> Void)?) {
        self.sink = sink
    }

    public static let off = PluginTrace(nil)

    /// Lines to standard error, prefixed `accelbench-plugin:`.
    public static let standardError = PluginTrace { line in
        var text = "accelbench-plugin: \(line)\n"
        text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
    }

    /// `standardError` when `ACCELBENCH_PLUGIN_TRACE` is set to something other than "0" or "" in
    /// `environment`, else `off`.
    public static func from(environment: [String: String]) -> PluginTrace {
        guard let value = environment["ACCELBENCH_PLUGIN_TRACE"], !value.isEmpty, value != "0" else { return .off }
        return .standardError
    }

    var isOn: Bool { sink != nil }

    func callAsFunction(_ line: @autoclosure () -> String) {
        if let sink { sink(line()) }
    }
}
