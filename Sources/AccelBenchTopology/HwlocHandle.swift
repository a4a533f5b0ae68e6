import CHwloc
import Foundation

/// Where hwloc should take a topology from.
enum HwlocInput {
    /// Discover the running machine; `withIO` turns on PCI/OS device discovery (slower).
    case thisSystem(withIO: Bool)
    case xmlFile(String)
    case xmlBuffer(String)
}

/// The only place that calls `hwloc_topology_init` / `hwloc_topology_load`.
enum HwlocHandle {
    /// Loads a topology and hands it to `body`; the topology is destroyed when `body` returns.
    static func withLoaded<T>(_ input: HwlocInput, _ body: (hwloc_topology_t) throws -> T) throws -> T {
        let topology = try load(input)
        defer { hwloc_topology_destroy(topology) }
        return try body(topology)
    }

    /// Loads a topology the caller owns and must pass to `hwloc_topology_destroy`.
    static func load(_ input: HwlocInput) throws -> hwloc_topology_t {
        var raw: hwloc_topology_t?
        guard hwloc_topology_init(&raw) == 0, let topology = raw else {
            throw TopologyError(
                code: .hwlocInitFailed,
                message: "hwloc_topology_init failed; check that libhwloc (>= 2.0) is installed and memory is available",
                cause: errnoDescription())
        }
        var loaded = false
        defer { if !loaded { hwloc_topology_destroy(topology) } }

        let withIO: Bool
        switch input {
        case .thisSystem(let io): withIO = io
        case .xmlFile, .xmlBuffer: withIO = true
        }
        // KEEP_IMPORTANT keeps display (0x03xx), processor (0x0bxx) and processing-accelerator
        // (0x12xx) PCI devices and their OS devices, and drops bridges that lead nowhere.
        // The filter also applies to XML import: without it an XML's PCI devices are dropped.
        if withIO, hwloc_topology_set_io_types_filter(topology, HWLOC_TYPE_FILTER_KEEP_IMPORTANT) != 0 {
            throw TopologyError(
                code: .hwlocInitFailed,
                message: "hwloc_topology_set_io_types_filter failed; this hwloc build may lack I/O support",
                cause: errnoDescription())
        }

        // Instruction caches are filtered out by default; keep them so L1i is reported.
        if hwloc_topology_set_icache_types_filter(topology, HWLOC_TYPE_FILTER_KEEP_ALL) != 0 {
            throw TopologyError(
                code: .hwlocInitFailed, message: "hwloc_topology_set_icache_types_filter failed",
                cause: errnoDescription())
        }

        switch input {
        case .thisSystem:
            guard hwloc_topology_load(topology) == 0 else {
                throw TopologyError(
                    code: .hwlocLoadFailed,
                    message: "hwloc could not discover this machine; run `lstopo` to see hwloc's own diagnosis",
                    cause: errnoDescription())
            }
        case .xmlFile(let path):
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                FileManager.default.isReadableFile(atPath: path)
            else {
                throw TopologyError(
                    code: .xmlFileNotFound,
                    message: "no readable hwloc XML file at '\(path)'; create one with `lstopo --of xml FILE` on the machine to describe",
                    cause: path)
            }
            guard hwloc_topology_set_xml(topology, path) == 0, hwloc_topology_load(topology) == 0 else {
                throw invalidXML(origin: "file '\(path)'")
            }
        case .xmlBuffer(let xml):
            // hwloc's buffer length counts the terminating NUL. Load inside the closure: the
            // buffer must stay alive until hwloc has parsed it.
            let utf8Count = xml.utf8.count
            guard utf8Count < Int(Int32.max) else {
                throw TopologyError(code: .xmlInvalid, message: "the XML text is larger than hwloc accepts (2 GiB)")
            }
            let status = xml.withCString { pointer -> Int32 in
                guard hwloc_topology_set_xmlbuffer(topology, pointer, Int32(utf8Count + 1)) == 0 else { return -1 }
                return hwloc_topology_load(topology)
            }
            guard status == 0 else { throw invalidXML(origin: "text") }
        }
        loaded = true
        return topology
    }

    private static func invalidXML(origin: String) -> TopologyError {
        TopologyError(
            code: .xmlInvalid,
            message: "hwloc rejected the XML \(origin): it must be a complete hwloc topology export "
                + "(`lstopo --of xml`); `lstopo -i FILE` shows the parser's complaint",
            cause: errnoDescription())
    }

    static func errnoDescription() -> String {
        let code = errno
        return "errno \(code): \(String(cString: strerror(code)))"
    }
}
