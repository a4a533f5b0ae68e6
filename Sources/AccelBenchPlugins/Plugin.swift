import AccelBenchCore
import CAccelbenchPlugin

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A loaded, initialized plugin: the dlopen'd library and its API table, wrapped in typed calls that
/// turn the plugin's errors into `PluginError` (destroying them through the plugin) and never call an
/// entry beyond the table's `struct_size`. Unloaded (plugin_shutdown, dlclose) when the last reference
/// goes (prepared cases hold one, so buffers are freed before).
///
/// `@unchecked Sendable`: every stored property is immutable after `init`; the ABI requires entries
/// that take no device to be thread-safe, and accelbench drives a device from one thread at a time.
public final class Plugin: @unchecked Sendable, CustomStringConvertible {
    /// The name the plugin reports (`reference`, `ascend`...); its backends are `plugin:NAME:DEVICE`.
    public let name: String
    public let version: String
    public let summary: String
    /// The shared library's path.
    public let path: String
    /// The minor of the ABI the plugin was built with (its major is `Plugin.abiMajor`).
    public let abiMinor: Int
    /// The score the plugin gave this machine (> 0) and what it said about it.
    public let score: Int
    public let scoreReason: String
    public let devices: [PluginDevice]

    private let handle: UnsafeMutableRawPointer
    let table: PluginTable

    /// The ABI this accelbench speaks.
    public static let abiMajor = Int(ACCELBENCH_PLUGIN_ABI_MAJOR)
    public static let abiMinor = Int(ACCELBENCH_PLUGIN_ABI_MINOR)
    public static let entrySymbol = ACCELBENCH_PLUGIN_ENTRY_SYMBOL

    /// Loads and initializes the plugin at `path`: dlopen (RTLD_NOW | RTLD_LOCAL), entry symbol, ABI
    /// major, info, score, initialize, devices. Throws `PluginError` (and unloads the library) when it
    /// is not a plugin, speaks another ABI major, declines the machine or fails on the way.
    public init(path: String, trace: PluginTrace = .off) throws {
        self.path = path
        trace("dlopen \(path)")
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let why = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
            throw PluginError(.loadFailed, plugin: path, "dlopen failed: \(why)")
        }
        self.handle = handle
        var loaded = false
        defer { if !loaded { dlclose(handle) } }

        guard let symbol = dlsym(handle, Plugin.entrySymbol) else {
            throw PluginError(.missingEntry, plugin: path, "exports no \(Plugin.entrySymbol) (not an accelbench plugin)")
        }
        typealias GetAPI = @convention(c) () -> UnsafePointer<AccelbenchPluginApi>?
        guard let api = unsafeBitCast(symbol, to: GetAPI.self)() else {
            throw PluginError(.missingEntry, plugin: path, "\(Plugin.entrySymbol) returned NULL")
        }
        // The header fields one by one: the plugin's table may be shorter than this accelbench's.
        let raw = UnsafeRawPointer(api)
        let size = raw.load(as: Int.self)
        let majorOffset = MemoryLayout<AccelbenchPluginApi>.offset(of: \.abi_major)!
        let minorOffset = MemoryLayout<AccelbenchPluginApi>.offset(of: \.abi_minor)!
        guard size >= minorOffset + 4 else {
            throw PluginError(.abiMismatch, plugin: path, "API table struct_size \(size) is too short to hold a version")
        }
        let major = Int(raw.load(fromByteOffset: majorOffset, as: UInt32.self))
        let minor = Int(raw.load(fromByteOffset: minorOffset, as: UInt32.self))
        trace("\(path): plugin ABI \(major).\(minor), table \(size) bytes (accelbench: \(Plugin.abiMajor).\(Plugin.abiMinor), \(MemoryLayout<AccelbenchPluginApi>.size) bytes)")
        guard major == Plugin.abiMajor else {
            throw PluginError(
                .abiMismatch, plugin: path,
                "built for plugin ABI \(major).\(minor); this accelbench speaks \(Plugin.abiMajor).x (rebuild it against kernels/plugin/include/accelbench_plugin.h)")
        }
        abiMinor = minor

        var table = PluginTable(raw: raw, size: size, label: path, trace: trace)
        var info = AccelbenchPluginInfoArgs.make()
        try table.call(\.plugin_info, "plugin_info", &info)
        guard let name = pluginString(info.name) else {
            throw PluginError(.callFailed, plugin: path, "plugin_info returned no name")
        }
        self.name = name
        version = pluginString(info.version) ?? "unknown"
        summary = pluginString(info.description) ?? ""
        table = PluginTable(raw: raw, size: size, label: name, trace: trace)

        var scoreArgs = AccelbenchPluginScoreArgs.make()
        try table.call(\.plugin_score, "plugin_score", &scoreArgs)
        score = Int(scoreArgs.score)
        scoreReason = pluginString(scoreArgs.reason) ?? ""
        guard score > 0 else {
            throw PluginError(.declined, plugin: table.label, "declined this machine: \(scoreReason.isEmpty ? "no reason given" : scoreReason)")
        }

        if table.has(\.plugin_initialize) {
            var initialize = AccelbenchPluginInitializeArgs.make()
            try table.call(\.plugin_initialize, "plugin_initialize", &initialize)
        }
        var count = AccelbenchDeviceCountArgs.make()
        try table.call(\.device_count, "device_count", &count)
        var devices: [PluginDevice] = []
        for index in 0..<Int(count.count) {
            devices.append(try PluginDevice.query(index: index, table: table))
        }
        self.devices = devices
        self.table = table
        loaded = true
        trace("\(table.label): loaded, \(devices.count) device(s): \(devices.map(\.name).joined(separator: ", "))")
    }

    deinit {
        if table.has(\.plugin_shutdown) {
            var args = AccelbenchPluginShutdownArgs.make()
            try? table.call(\.plugin_shutdown, "plugin_shutdown", &args)
        }
        dlclose(handle)
    }

    public var description: String { "\(name) \(version) (\(path), ABI \(Plugin.abiMajor).\(abiMinor))" }

    // MARK: calls for backends

    /// nil when the device runs `workload`, else the plugin's reason. A plugin without
    /// workload_supported is judged by its capability list alone.
    func unsupportedReason(device: Int, workload: AccelbenchWorkload) throws -> String? {
        guard table.has(\.workload_supported) else { return nil }
        var workload = workload
        return try withUnsafePointer(to: &workload) { pointer in
            var args = AccelbenchWorkloadSupportedArgs.make()
            args.device = UInt32(device)
            args.workload = pointer
            try table.call(\.workload_supported, "workload_supported", &args, "device \(device)")
            return args.supported != 0 ? nil : (pluginString(args.reason) ?? "declined by the plugin")
        }
    }

    func allocate(device: Int, bytes: Int) throws -> OpaquePointer {
        var args = AccelbenchBufferAllocateArgs.make()
        args.device = UInt32(device)
        args.bytes = bytes
        try table.call(\.buffer_allocate, "buffer_allocate", &args, "device \(device), \(bytes) bytes")
        guard let buffer = args.buffer else {
            throw PluginError(.callFailed, plugin: table.label, "buffer_allocate returned no buffer", pluginCode: .internal)
        }
        return buffer
    }

    func free(_ buffer: OpaquePointer) {
        var args = AccelbenchBufferFreeArgs.make()
        args.buffer = buffer
        try? table.call(\.buffer_free, "buffer_free", &args)
    }

    func upload(_ buffer: OpaquePointer, from source: UnsafeRawPointer, bytes: Int) throws {
        var args = AccelbenchBufferCopyArgs.make()
        args.buffer = buffer
        args.bytes = bytes
        args.source = source
        try table.call(\.buffer_to_device, "buffer_to_device", &args, "\(bytes) bytes")
    }

    func download(_ buffer: OpaquePointer, to destination: UnsafeMutableRawPointer, bytes: Int) throws {
        var args = AccelbenchBufferCopyArgs.make()
        args.buffer = buffer
        args.bytes = bytes
        args.destination = destination
        try table.call(\.buffer_to_host, "buffer_to_host", &args, "\(bytes) bytes")
    }

    /// Runs `workload` and waits for it (run, then synchronize).
    func run(device: Int, workload: AccelbenchWorkload, inputs: [OpaquePointer], outputs: [OpaquePointer]) throws {
        var workload = workload
        let inputs: [OpaquePointer?] = inputs, outputs: [OpaquePointer?] = outputs
        try withUnsafePointer(to: &workload) { w in
            try inputs.withUnsafeBufferPointer { i in
                try outputs.withUnsafeBufferPointer { o in
                    var args = AccelbenchRunArgs.make()
                    args.device = UInt32(device)
                    args.workload = w
                    args.inputs = i.baseAddress
                    args.input_count = i.count
                    args.outputs = o.baseAddress
                    args.output_count = o.count
                    try table.call(\.run, "run", &args, "device \(device), \(PluginABI.describe(w.pointee))")
                }
            }
        }
        if table.has(\.synchronize) {
            var sync = AccelbenchSynchronizeArgs.make()
            sync.device = UInt32(device)
            try table.call(\.synchronize, "synchronize", &sync, "device \(device)")
        }
    }

    /// The device-side duration of the last finished run, and whether device events measured it.
    public func lastRunElapsed(device: Int) throws -> (nanoseconds: UInt64, deviceEvents: Bool) {
        var args = AccelbenchLastRunElapsedArgs.make()
        args.device = UInt32(device)
        try table.call(\.last_run_elapsed, "last_run_elapsed", &args, "device \(device)")
        return (args.elapsed_ns, args.source == ACCELBENCH_TIMING_DEVICE_EVENTS)
    }

    /// The device's sensors now. Throws `notImplemented` (entry outside the table) or `callFailed`
    /// with `.notAvailable` (no sensors).
    public func telemetry(device: Int) throws -> PluginTelemetry {
        var telemetry = AccelbenchTelemetry.make()
        return try withUnsafeMutablePointer(to: &telemetry) { pointer in
            var args = AccelbenchTelemetryArgs.make()
            args.device = UInt32(device)
            args.telemetry = pointer
            try table.call(\.telemetry, "telemetry", &args, "device \(device)")
            return PluginTelemetry(pointer.pointee)
        }
    }
}
