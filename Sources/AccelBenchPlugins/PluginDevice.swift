import AccelBenchCore
import CAccelbenchPlugin

/// One device of a plugin, as `device_info` and `device_capabilities` describe it.
public struct PluginDevice: Sendable, Codable, Equatable {
    public var index: Int
    public var name: String
    public var vendor: String?
    public var architecture: String?
    /// 0: unknown.
    public var memoryBytes: UInt64
    public var coreClockMHz: Int
    public var memoryClockMHz: Int
    public var computeUnits: Int
    public var driverVersion: String?
    public var firmwareVersion: String?
    public var runtimeVersion: String?
    public var pciAddress: String?
    public var uuid: String?
    /// What the device implements; (workload, dtype) pairs this accelbench does not know are dropped.
    public var capabilities: [PluginCapability]

    static func query(index: Int, table: PluginTable) throws -> PluginDevice {
        var info = AccelbenchDeviceInfo.make()
        try withUnsafeMutablePointer(to: &info) { pointer in
            var args = AccelbenchDeviceInfoArgs.make()
            args.device = UInt32(index)
            args.info = pointer
            try table.call(\.device_info, "device_info", &args, "device \(index)")
        }
        var capabilities: [PluginCapability] = []
        if table.has(\.device_capabilities) {
            var args = AccelbenchDeviceCapabilitiesArgs.make()
            args.device = UInt32(index)
            try table.call(\.device_capabilities, "device_capabilities", &args, "device \(index)")
            let minimum = MemoryLayout<AccelbenchCapability>.offset(of: \.dtype)! + MemoryLayout<AccelbenchDType>.size
            if let first = args.capabilities, args.capability_count > 0, first.pointee.struct_size >= minimum {
                // Walk by the plugin's element size (a newer minor's elements are longer).
                let stride = first.pointee.struct_size
                let base = UnsafeRawPointer(first)
                var entry = AccelbenchCapability.init()
                for i in 0..<args.capability_count {
                    let element = base + i * stride
                    let bytes = min(stride, MemoryLayout<AccelbenchCapability>.size)
                    withUnsafeMutableBytes(of: &entry) { $0.copyMemory(from: UnsafeRawBufferPointer(start: element, count: bytes)) }
                    if let capability = PluginCapability(entry, size: bytes) { capabilities.append(capability) }
                    entry = AccelbenchCapability.init()
                }
            }
        }
        return PluginDevice(
            index: index, name: pluginString(info.name) ?? "device \(index)", vendor: pluginString(info.vendor),
            architecture: pluginString(info.architecture), memoryBytes: info.memory_bytes,
            coreClockMHz: Int(info.core_clock_mhz), memoryClockMHz: Int(info.memory_clock_mhz),
            computeUnits: Int(info.compute_units), driverVersion: pluginString(info.driver_version),
            firmwareVersion: pluginString(info.firmware_version), runtimeVersion: pluginString(info.runtime_version),
            pciAddress: pluginString(info.pci_address), uuid: pluginString(info.uuid), capabilities: capabilities)
    }
}

/// One (workload, dtype) a device implements and its shape limits (nil: no limit).
public struct PluginCapability: Sendable, Codable, Equatable {
    public var workload: Workload
    public var dtype: DType
    public var maxM: Int?, maxN: Int?, maxK: Int?
    /// K must be a multiple of this (1: any).
    public var kMultiple: Int
    public var maxHeadDim: Int?
    public var maxKVLength: Int?
    public var maxBufferBytes: Int?

    init?(_ c: AccelbenchCapability, size: Int) {
        guard let workload = PluginABI.workload(c.kind), let dtype = PluginABI.dtype(c.dtype) else { return nil }
        func limit(_ value: UInt64) -> Int? { value == 0 ? nil : Int(clamping: value) }
        self.workload = workload
        self.dtype = dtype
        maxM = limit(c.max_m)
        maxN = limit(c.max_n)
        maxK = limit(c.max_k)
        kMultiple = max(1, Int(clamping: c.k_multiple))
        maxHeadDim = limit(c.max_head_dim)
        maxKVLength = limit(c.max_kv_length)
        maxBufferBytes = limit(c.max_buffer_bytes)
    }

    /// Why the capability's limits exclude `shape`, or nil.
    func limitReason(_ shape: Shape) -> String? {
        switch shape {
        case let .matmul(m, n, k), let .quantized(m, n, k, _):
            if let maxM, m > maxM { return "M = \(m) > the device's limit \(maxM)" }
            if let maxN, n > maxN { return "N = \(n) > the device's limit \(maxN)" }
            if let maxK, k > maxK { return "K = \(k) > the device's limit \(maxK)" }
            if k % kMultiple != 0 { return "K = \(k) is not a multiple of \(kMultiple)" }
        case let .attention(a):
            if let maxHeadDim, a.headDim > maxHeadDim { return "head dim \(a.headDim) > the device's limit \(maxHeadDim)" }
            if let maxKVLength, a.kvLength > maxKVLength { return "kv \(a.kvLength) > the device's limit \(maxKVLength)" }
        default:
            break
        }
        return nil
    }
}

/// Device telemetry at one instant; nil fields were not reported.
public struct PluginTelemetry: Sendable, Codable, Equatable {
    public var energyJoules: Double?
    /// The energy counter wraps to 0 here (nil: never).
    public var energyWrapJoules: Double?
    public var powerWatts: Double?
    public var powerAverageSeconds: Double?
    public var coreClockMHz: Int?
    public var memoryClockMHz: Int?
    public var temperatureCelsius: Double?
    public var throttleMask: UInt64?
    public var throttleReasons: String?

    init(_ t: AccelbenchTelemetry) {
        func has(_ bit: Int) -> Bool { Int(t.valid) & bit != 0 }
        if has(Int(ACCELBENCH_TELEMETRY_ENERGY)) {
            energyJoules = t.energy_joules
            energyWrapJoules = t.energy_wrap_joules > 0 ? t.energy_wrap_joules : nil
        }
        if has(Int(ACCELBENCH_TELEMETRY_POWER)) {
            powerWatts = t.power_watts
            powerAverageSeconds = t.power_average_seconds > 0 ? t.power_average_seconds : nil
        }
        if has(Int(ACCELBENCH_TELEMETRY_CORE_CLOCK)) { coreClockMHz = Int(t.core_clock_mhz) }
        if has(Int(ACCELBENCH_TELEMETRY_MEMORY_CLOCK)) { memoryClockMHz = Int(t.memory_clock_mhz) }
        if has(Int(ACCELBENCH_TELEMETRY_TEMPERATURE)) { temperatureCelsius = t.temperature_c }
        if has(Int(ACCELBENCH_TELEMETRY_THROTTLE)) {
            throttleMask = t.throttle_mask
            throttleReasons = pluginString(t.throttle_reasons)
        }
    }

    /// The values as `PowerTelemetry` names them (unit in the name), for power windows.
    public var values: [String: String] {
        var values: [String: String] = [:]
        if let energyJoules { values["energy_j"] = "\(energyJoules)" }
        if let powerWatts { values["power_w"] = "\(powerWatts)" }
        if let coreClockMHz { values["core_clock_mhz"] = "\(coreClockMHz)" }
        if let memoryClockMHz { values["mem_clock_mhz"] = "\(memoryClockMHz)" }
        if let temperatureCelsius { values["temperature_c"] = "\(temperatureCelsius)" }
        if let throttleMask { values["throttle_reasons_mask"] = "0x" + String(throttleMask, radix: 16) }
        if let throttleReasons { values["throttle_reasons"] = throttleReasons }
        return values
    }
}

/// Mapping between accelbench's workloads/dtypes and the ABI's enums.
enum PluginABI {
    static func workload(_ kind: AccelbenchWorkloadKind) -> Workload? {
        switch kind {
        case ACCELBENCH_WORKLOAD_MATMUL: .matmul
        case ACCELBENCH_WORKLOAD_ATTENTION: .attention
        case ACCELBENCH_WORKLOAD_QGEMV: .qgemv
        case ACCELBENCH_WORKLOAD_QGEMM: .qgemm
        default: nil
        }
    }

    static func kind(_ workload: Workload) -> AccelbenchWorkloadKind? {
        switch workload {
        case .matmul: ACCELBENCH_WORKLOAD_MATMUL
        case .attention: ACCELBENCH_WORKLOAD_ATTENTION
        case .qgemv: ACCELBENCH_WORKLOAD_QGEMV
        case .qgemm: ACCELBENCH_WORKLOAD_QGEMM
        case .stream, .llm: nil
        }
    }

    static func dtype(_ dtype: AccelbenchDType) -> DType? {
        switch dtype {
        case ACCELBENCH_DTYPE_FP32: .fp32
        case ACCELBENCH_DTYPE_BF16: .bf16
        case ACCELBENCH_DTYPE_FP16: .fp16
        case ACCELBENCH_DTYPE_Q8_0: .q8_0
        case ACCELBENCH_DTYPE_Q4_0: .q4_0
        case ACCELBENCH_DTYPE_W8A8: .w8a8
        default: nil
        }
    }

    static func dtype(_ dtype: DType) -> AccelbenchDType? {
        switch dtype {
        case .fp32: ACCELBENCH_DTYPE_FP32
        case .bf16: ACCELBENCH_DTYPE_BF16
        case .fp16: ACCELBENCH_DTYPE_FP16
        case .q8_0: ACCELBENCH_DTYPE_Q8_0
        case .q4_0: ACCELBENCH_DTYPE_Q4_0
        case .w8a8: ACCELBENCH_DTYPE_W8A8
        case .fp64: nil
        }
    }

    /// A workload struct for traces: `matmul fp32 m64 n64 k64`.
    static func describe(_ w: AccelbenchWorkload) -> String {
        let head = "\(workload(w.kind)?.rawValue ?? "kind \(w.kind.rawValue)") \(dtype(w.dtype)?.rawValue ?? "dtype \(w.dtype.rawValue)")"
        if w.kind == ACCELBENCH_WORKLOAD_ATTENTION {
            return head + " b\(w.batch) h\(w.heads) kvh\(w.kv_heads) q\(w.query_length) kv\(w.kv_length) d\(w.head_dim)\(w.causal != 0 ? " causal" : "")"
        }
        return head + " m\(w.m) n\(w.n) k\(w.k)"
    }

    /// The ABI's description of a case, or nil when the ABI cannot express it.
    static func workload(_ spec: CaseSpec) -> AccelbenchWorkload? {
        guard let kind = kind(spec.workload), let dtype = dtype(spec.dtype) else { return nil }
        var w = AccelbenchWorkload.make()
        w.kind = kind
        w.dtype = dtype
        switch spec.shape {
        case let .matmul(m, n, k), let .quantized(m, n, k, _):
            w.m = UInt64(m)
            w.n = UInt64(n)
            w.k = UInt64(k)
        case let .attention(a):
            w.batch = UInt64(a.batch)
            w.heads = UInt64(a.heads)
            w.kv_heads = UInt64(a.kvHeads)
            w.query_length = UInt64(a.queryLength)
            w.kv_length = UInt64(a.kvLength)
            w.head_dim = UInt64(a.headDim)
            w.causal = a.causal ? 1 : 0
            w.scale = 0
        case .stream, .llm:
            return nil
        }
        return w
    }
}
