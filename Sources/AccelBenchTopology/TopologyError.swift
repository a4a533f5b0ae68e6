/// The one error type of AccelBenchTopology: a stable `code`, a `message` that says what to do, and
/// the underlying `cause` (an errno description, a path) where there is one.
public struct TopologyError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Stable identifiers; part of the record format and of CLI output, never renamed.
    public enum Code: String, Sendable, Codable, CaseIterable {
        /// The XML file given to `Topology.load(xmlFile:)` does not exist or cannot be read.
        case xmlFileNotFound = "topology.xml_file_not_found"
        /// hwloc rejected the XML (not XML, truncated, or not an hwloc topology).
        case xmlInvalid = "topology.xml_invalid"
        /// `hwloc_topology_init` or one of the set-up calls failed (out of memory, bad hwloc install).
        case hwlocInitFailed = "topology.hwloc_init_failed"
        /// `hwloc_topology_load` failed while discovering this machine.
        case hwlocLoadFailed = "topology.hwloc_load_failed"
        /// /proc/meminfo (or the given file) is missing or lacks the wanted field.
        case memInfoUnreadable = "topology.meminfo_unreadable"
        /// The OS or hwloc build cannot bind the calling thread.
        case bindingUnsupported = "topology.binding_unsupported"
        /// `hwloc_set_cpubind` failed for the requested core.
        case bindingFailed = "topology.binding_failed"
    }

    public let code: Code
    public let message: String
    public let cause: String?

    public init(code: Code, message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        var text = "[\(code.rawValue)] \(message)"
        if let cause { text += " (cause: \(cause))" }
        return text
    }
}
