import AccelBenchCPU
import AccelBenchCore
import CAccelbenchPlugin

/// One device of a plugin as an accelbench backend, named `plugin:NAME:DEVICE` (e.g.
/// `plugin:reference:0`, `plugin:ascend:3`).
///
/// A case is prepared on the device: buffers allocated there, the seeded inputs of the built-in CPU
/// cases uploaded (`MatmulCaseInputs`, `AttentionCaseInputs`, `QuantCaseInputs`, so the same seed gives
/// the same values), and the output checked against float64 with the same named tolerances, after a
/// download, exactly as for built-in backends. The timed call is run + synchronize. Runs in process:
/// a plugin that crashes takes the process down (the out-of-process worker is what isolates it).
///
/// Implemented here: matmul fp32/bf16 (fp32 output); attention kv=fp32/fp16; qgemv/qgemm q8_0/q4_0 with hot weights.
public struct PluginBackend: Backend {
    public let plugin: Plugin
    public let device: Int

    public init(plugin: Plugin, device: Int) {
        self.plugin = plugin
        self.device = device
    }

    /// Every device of every plugin.
    public static func all(_ plugins: [Plugin]) -> [PluginBackend] {
        plugins.flatMap { plugin in plugin.devices.indices.map { PluginBackend(plugin: plugin, device: $0) } }
    }

    public static func name(plugin: String, device: Int) -> String { "plugin:\(plugin):\(device)" }

    public var name: String { PluginBackend.name(plugin: plugin.name, device: device) }

    public var deviceInfo: PluginDevice { plugin.devices[device] }

    public var summary: String {
        let d = deviceInfo
        return "\(d.name)\(d.vendor.map { " (\($0))" } ?? "") via plugin \(plugin.name) \(plugin.version), ABI \(Plugin.abiMajor).\(plugin.abiMinor), \(plugin.path)"
    }

    /// What the device declares, restricted to what this backend can prepare and check.
    public var capabilities: [Workload: [DType]] {
        var result: [Workload: [DType]] = [:]
        for c in deviceInfo.capabilities where PluginBackend.harnessReason(c.workload, c.dtype) == nil {
            result[c.workload, default: []].append(c.dtype)
        }
        return result.mapValues { Array(Set($0)).sorted() }
    }

    /// Why this harness cannot prepare or check a (workload, dtype) on a plugin device, or nil.
    static func harnessReason(_ workload: Workload, _ dtype: DType) -> String? {
        switch (workload, dtype) {
        case (.matmul, .fp32), (.matmul, .bf16), (.attention, .fp32), (.attention, .fp16), (.qgemv, .q8_0), (.qgemv, .q4_0),
             (.qgemm, .q8_0), (.qgemm, .q4_0):
            return nil
        default:
            return "plugin backends run matmul fp32/bf16, attention kv=fp32/fp16 and qgemv/qgemm q8_0/q4_0 (\(workload.rawValue) \(dtype.rawValue) is not wired yet)"
        }
    }

    public func unsupportedReason(_ spec: CaseSpec) -> String? {
        if let reason = PluginBackend.harnessReason(spec.workload, spec.dtype) { return reason }
        if case let .quantized(_, _, _, residency) = spec.shape, residency == .cold {
            return "plugin backends time quantized products with hot weights only (cold rotation is not wired yet)"
        }
        guard let capability = deviceInfo.capabilities.first(where: { $0.workload == spec.workload && $0.dtype == spec.dtype }) else {
            return "\(name) does not implement \(spec.workload.rawValue) \(spec.dtype.rawValue)"
        }
        if let reason = capability.limitReason(spec.shape) { return "\(name): \(reason)" }
        guard let workload = PluginABI.workload(spec) else { return "the plugin ABI cannot describe \(spec)" }
        do {
            return try plugin.unsupportedReason(device: device, workload: workload).map { "\(name): \($0)" }
        } catch {
            return "\(name): workload_supported failed: \(error)"
        }
    }

    public func prepare(_ spec: CaseSpec, context: CaseContext) throws -> any PreparedCase {
        if let reason = PluginBackend.harnessReason(spec.workload, spec.dtype) {
            throw AccelBenchError(.unsupportedCase, "\(name): \(reason)")
        }
        guard let workload = PluginABI.workload(spec) else {
            throw AccelBenchError(.unsupportedCase, "\(name): the plugin ABI cannot describe \(spec)")
        }
        let host: HostCase
        switch spec.shape {
        case let .matmul(m, n, k):
            host = HostCase(MatmulCaseInputs(m: m, n: n, k: k, dtype: spec.dtype, seed: context.seed, checkSamples: context.checkSamples))
        case let .attention(shape):
            host = HostCase(AttentionCaseInputs(shape: shape, dtype: spec.dtype, seed: context.seed, checkSamples: context.checkSamples))
        case let .quantized(m, n, k, _):
            host = HostCase(QuantCaseInputs(dtype: spec.dtype, m: m, n: n, k: k, seed: context.seed, checkSamples: context.checkSamples))
        default:
            throw AccelBenchError(.unsupportedCase, "\(name): \(spec.workload.rawValue) is not a plugin workload")
        }
        return try PluginCase(plugin: plugin, device: device, workload: workload, host: host, backendName: name)
    }
}

/// The host side of a case: its input arrays (uploaded once), its output array (poisoned, then
/// downloaded into and checked).
struct HostCase {
    var inputs: [(pointer: UnsafeRawPointer, bytes: Int)]
    var output: (pointer: UnsafeMutableRawPointer, bytes: Int)
    var poison: () -> Void
    var check: () -> CorrectnessCheck
    /// Keeps the owner of the pointers alive.
    var owner: AnyObject

    init(_ c: MatmulCaseInputs) {
        inputs = [c.aBytes, c.bBytes]
        output = (UnsafeMutableRawPointer(c.c), c.m * c.n * 4)
        poison = { c.poisonOutput() }
        check = { c.check() }
        owner = c
    }

    init(_ c: AttentionCaseInputs) {
        inputs = [(UnsafeRawPointer(c.q), c.queryBytes), (c.k, c.kvBytes), (c.v, c.kvBytes)]
        output = (UnsafeMutableRawPointer(c.o), c.queryBytes)
        poison = { c.poisonOutput() }
        check = { c.check() }
        owner = c
    }

    init(_ c: QuantCaseInputs) {
        inputs = [(c.weightBlocks, c.weightBytes), (UnsafeRawPointer(c.activations), c.n * c.k * 4)]
        output = (UnsafeMutableRawPointer(c.output), c.n * c.m * 4)
        poison = { c.poisonOutput() }
        check = { c.check() }
        owner = c
    }
}

/// A case on a plugin device: device buffers that mirror the host arrays.
final class PluginCase: PreparedCase {
    let plugin: Plugin
    let device: Int
    let workload: AccelbenchWorkload
    let host: HostCase
    let backendName: String
    private var inputBuffers: [OpaquePointer] = []
    private var outputBuffer: OpaquePointer?
    /// The last error of a run or a transfer (the timed call cannot throw); surfaced by `check`.
    private(set) var lastError: PluginError?

    init(plugin: Plugin, device: Int, workload: AccelbenchWorkload, host: HostCase, backendName: String) throws {
        self.plugin = plugin
        self.device = device
        self.workload = workload
        self.host = host
        self.backendName = backendName
        for input in host.inputs {
            let buffer = try plugin.allocate(device: device, bytes: input.bytes)
            inputBuffers.append(buffer)
            try plugin.upload(buffer, from: input.pointer, bytes: input.bytes)
        }
        outputBuffer = try plugin.allocate(device: device, bytes: host.output.bytes)
    }

    deinit {
        for buffer in inputBuffers { plugin.free(buffer) }
        if let outputBuffer { plugin.free(outputBuffer) }
    }

    var kernelPath: String {
        let d = plugin.devices[device]
        return "\(backendName): \(d.name)\(d.architecture.map { " [\($0)]" } ?? ""), plugin \(plugin.name) \(plugin.version)"
    }

    /// Host output and device output filled with NaN; forgets the errors of earlier runs (an error in
    /// any run from here to the next check fails that check).
    func poisonOutputs() {
        lastError = nil
        host.poison()
        guard let outputBuffer else { return }
        do {
            try plugin.upload(outputBuffer, from: UnsafeRawPointer(host.output.pointer), bytes: host.output.bytes)
        } catch {
            lastError = error as? PluginError
        }
    }

    /// run + synchronize: the timed region.
    func run() {
        guard let outputBuffer else { return }
        do {
            try plugin.run(device: device, workload: workload, inputs: inputBuffers, outputs: [outputBuffer])
        } catch {
            lastError = error as? PluginError ?? PluginError(.callFailed, plugin: plugin.name, "\(error)")
        }
    }

    /// Downloads the output and checks it against float64. A failed run or transfer fails the check
    /// with the plugin's message in the metric (so it reaches the result's reason).
    func check() -> CorrectnessCheck {
        if let outputBuffer {
            do {
                try plugin.download(outputBuffer, to: host.output.pointer, bytes: host.output.bytes)
            } catch {
                lastError = error as? PluginError
                host.poison()
            }
        }
        var result = host.check()
        if let lastError {
            // The outputs are the poison; say why instead of "NaN outputs".
            result.metric = "plugin error (\(lastError.message)); \(result.metric)"
            result.value = .infinity
            result.nonFinite = 0
        }
        return result
    }

    /// The device-side time of the last run, when the plugin measures it.
    var lastRunElapsedNanoseconds: UInt64? {
        try? plugin.lastRunElapsed(device: device).nanoseconds
    }
}
