import CAccelbenchPlugin

/// An argument struct of the ABI: starts with `struct_size`, zero-initializable.
protocol PluginArgs {
    init()
    var struct_size: Int { get set }
}

extension AccelbenchErrorDestroyArgs: PluginArgs {}
extension AccelbenchErrorMessageArgs: PluginArgs {}
extension AccelbenchErrorCodeArgs: PluginArgs {}
extension AccelbenchPluginInfoArgs: PluginArgs {}
extension AccelbenchPluginScoreArgs: PluginArgs {}
extension AccelbenchPluginInitializeArgs: PluginArgs {}
extension AccelbenchPluginShutdownArgs: PluginArgs {}
extension AccelbenchDeviceCountArgs: PluginArgs {}
extension AccelbenchDeviceInfoArgs: PluginArgs {}
extension AccelbenchDeviceCapabilitiesArgs: PluginArgs {}
extension AccelbenchWorkloadSupportedArgs: PluginArgs {}
extension AccelbenchBufferAllocateArgs: PluginArgs {}
extension AccelbenchBufferFreeArgs: PluginArgs {}
extension AccelbenchBufferCopyArgs: PluginArgs {}
extension AccelbenchRunArgs: PluginArgs {}
extension AccelbenchSynchronizeArgs: PluginArgs {}
extension AccelbenchLastRunElapsedArgs: PluginArgs {}
extension AccelbenchTelemetryArgs: PluginArgs {}
extension AccelbenchDeviceInfo: PluginArgs {}
extension AccelbenchTelemetry: PluginArgs {}
extension AccelbenchWorkload: PluginArgs {}

extension PluginArgs {
    /// A zeroed struct with `struct_size` set to this accelbench's size of it.
    static func make() -> Self {
        var value = Self()
        value.struct_size = MemoryLayout<Self>.size
        return value
    }
}

/// The plugin's function table as raw memory: entries are read at their offsets only when they lie
/// inside the plugin's `struct_size` (a table from an older minor is shorter than this struct).
struct PluginTable {
    typealias RawEntry = @convention(c) (UnsafeMutableRawPointer?) -> OpaquePointer?

    let raw: UnsafeRawPointer
    let size: Int
    let label: String
    let trace: PluginTrace

    /// Whether the entry at `keyPath` is inside the table and not NULL.
    func has<F>(_ keyPath: KeyPath<AccelbenchPluginApi, F?>) -> Bool {
        load(keyPath) != nil
    }

    private func load<F>(_ keyPath: KeyPath<AccelbenchPluginApi, F?>) -> F? {
        let offset = MemoryLayout<AccelbenchPluginApi>.offset(of: keyPath)!
        guard offset + MemoryLayout<F?>.size <= size else { return nil }
        return raw.load(fromByteOffset: offset, as: F?.self)
    }

    /// Calls a fallible entry with `args` (its struct_size set by the caller), tracing the call, and
    /// turns a returned error into `PluginError` after destroying it through the plugin.
    func call<F, Args: PluginArgs>(
        _ keyPath: KeyPath<AccelbenchPluginApi, F?>, _ name: String, _ args: inout Args,
        _ detail: @autoclosure () -> String = ""
    ) throws {
        guard let entry = load(keyPath) else {
            trace("\(label): \(name) not implemented (outside the table's \(size) bytes or NULL)")
            throw PluginError(.notImplemented, plugin: label, "\(name) is not implemented by this plugin")
        }
        if trace.isOn { trace("\(label): \(name)(\(detail()))") }
        // Every fallible entry is `AccelbenchPluginError* (*)(XxxArgs*)`: one C signature up to the
        // pointee type of its argument, so it is called through that signature with a raw pointer.
        precondition(MemoryLayout<F>.size == MemoryLayout<RawEntry>.size, "\(name) is not a function pointer")
        let function = unsafeBitCast(entry, to: RawEntry.self)
        let error = withUnsafeMutablePointer(to: &args) { function(UnsafeMutableRawPointer($0)) }
        if let error {
            let failure = consume(error, entry: name)
            trace("\(label): \(name) -> \(failure.pluginCode.map { "\($0)" } ?? "error"): \(failure.message)")
            throw failure
        }
    }

    /// Reads an error's code and message and destroys it.
    private func consume(_ error: OpaquePointer, entry: String) -> PluginError {
        var code = PluginError.PluginCode.internal
        var message = "(no message: error_message not implemented)"
        if let errorCode = load(\.error_code) {
            var args = AccelbenchErrorCodeArgs.make()
            args.error = error
            errorCode(&args)
            code = PluginError.PluginCode(rawValue: Int(args.code.rawValue)) ?? .internal
        }
        if let errorMessage = load(\.error_message) {
            var args = AccelbenchErrorMessageArgs.make()
            args.error = error
            errorMessage(&args)
            if let text = args.message { message = String(cString: text) }
        }
        if let destroy = load(\.error_destroy) {
            var args = AccelbenchErrorDestroyArgs.make()
            args.error = error
            destroy(&args)
        }
        return PluginError(.callFailed, plugin: label, "\(entry): \(message)", pluginCode: code)
    }
}

/// A C string the plugin owns, copied (nil when NULL or empty).
func pluginString(_ pointer: UnsafePointer<CChar>?) -> String? {
    guard let pointer, pointer.pointee != 0 else { return nil }
    return String(cString: pointer)
}
