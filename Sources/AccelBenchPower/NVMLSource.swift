import AccelBenchCore
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// NVIDIA GPUs through NVML (`libnvidia-ml.so.1`, shipped with the driver), loaded with `dlopen` at
/// run time so accelbench neither builds nor links against it.
///
/// One channel per GPU, "nvml:gpuN" (N is NVML's index, which follows PCI bus order and may differ from
/// CUDA's default order: match by the UUID in `devices`):
/// - Volta and newer: `nvmlDeviceGetTotalEnergyConsumption`, millijoules since the driver loaded, a
///   64-bit counter (`.counter`, 1e-3 J per unit, never wraps in practice).
/// - Older boards: `nvmlDeviceGetPowerUsage`, milliwatts (`.watts`). On many boards this figure is a
///   moving average over about one second, so short regions are smoothed; the channel's detail says so.
///
/// `telemetry` records SM and memory clocks, the GPU temperature and the current clock throttle reasons
/// (decoded into NVML's names), the evidence for why a run was slow or hot.
///
/// Any NVML return code other than NVML_SUCCESS becomes a `PowerError` (detection) or a `.fault`
/// reading (per GPU, per read) naming the NVML error and what to do.
public final class NVMLSource: PowerSource {
    /// What detection found about one GPU.
    public struct Device: Sendable, Equatable {
        /// NVML device index.
        public var index: Int
        public var name: String
        /// "GPU-..." or nil when NVML did not report one.
        public var uuid: String?
        /// "nvml:gpuN".
        public var channelID: String
        /// True: read as the energy counter; false: power samples.
        public var energyCounter: Bool
    }

    public let method: PowerMethod = .nvml
    public let channels: [PowerChannel]
    public let devices: [Device]
    /// GPUs left out because NVML reports neither energy nor power for them (label and reason).
    public let skipped: [String]
    /// NVML's power figure updates every 20-100 ms on current boards; polling faster only repeats it.
    public let minimumSampleIntervalSeconds: Double = 0.1
    /// The library path given to `dlopen`.
    public let libraryPath: String

    private let library: NVMLLibrary
    private let gpus: [GPU]

    /// One GPU as this source reads it.
    private struct GPU: Sendable {
        var device: Device
        /// The nvmlDevice_t as a bit pattern (nil: NVML gave no handle, reads report `handleError`).
        var handleBits: UInt?
        var handleError: String?

        var handle: OpaquePointer? { handleBits.flatMap { OpaquePointer(bitPattern: $0) } }
    }

    private init(libraryPath: String, library: NVMLLibrary, gpus: [GPU], channels: [PowerChannel], skipped: [String]) {
        self.libraryPath = libraryPath
        self.skipped = skipped
        self.library = library
        self.gpus = gpus
        self.channels = channels
        self.devices = gpus.map(\.device)
    }

    /// Loads NVML from `libraryPath`, initializes it and describes every GPU.
    ///
    /// - Returns: nil when the library is not installed (dlopen finds no such file) or NVML reports no
    ///   GPU.
    /// - Throws: `PowerError` when the library is there but unusable: it lacks a required entry point
    ///   (`.unavailable`), `nvmlInit_v2` fails (`.permissionDenied` for NVML_ERROR_NO_PERMISSION,
    ///   `.unavailable` otherwise, e.g. driver not loaded or library/kernel-module version mismatch),
    ///   or no GPU reports power or energy.
    public static func detect(libraryPath: String = "libnvidia-ml.so.1") throws -> NVMLSource? {
        guard let library = try NVMLLibrary.open(path: libraryPath) else { return nil }
        let initCode = library.initialize()
        guard initCode == NVMLReturn.success else {
            library.close()
            let code: PowerError.Code = initCode == NVMLReturn.noPermission ? .permissionDenied : .unavailable
            throw PowerError(
                code, source: "nvml",
                "nvmlInit_v2 from \(libraryPath) failed: \(NVMLReturn.describe(initCode))")
        }
        // From here `library` owns one nvmlInit; its deinit calls nvmlShutdown and dlclose.
        var count: UInt32 = 0
        let countCode = library.getCount(&count)
        guard countCode == NVMLReturn.success else {
            throw PowerError(
                countCode == NVMLReturn.noPermission ? .permissionDenied : .unavailable, source: "nvml",
                "nvmlDeviceGetCount_v2 failed: \(NVMLReturn.describe(countCode))")
        }
        guard count > 0 else { return nil }

        var gpus: [GPU] = []
        var channels: [PowerChannel] = []
        var unsupported: [String] = []
        for index in 0..<Int(count) {
            let id = "nvml:gpu\(index)"
            var handle: OpaquePointer?
            let handleCode = library.getHandle(UInt32(index), &handle)
            guard handleCode == NVMLReturn.success, let handle else {
                // A GPU that fell off the bus or is hidden: keep its channel so every read says why,
                // and the other GPUs stay measurable.
                let why = "nvmlDeviceGetHandleByIndex_v2(\(index)) failed: \(NVMLReturn.describe(handleCode))"
                let device = Device(index: index, name: "unknown", uuid: nil, channelID: id, energyCounter: false)
                gpus.append(GPU(device: device, handleBits: nil, handleError: why))
                channels.append(PowerChannel(
                    id: id, method: .nvml, scope: .acceleratorBoard, kind: .sampledWatts, quality: .inBandCounter,
                    resolution: 1e-3, updateIntervalSeconds: nil,
                    detail: "GPU \(index): unusable at detection (\(why))"))
                continue
            }
            let name = library.string(library.getName, handle) ?? "unknown NVIDIA GPU"
            let uuid = library.getUUID.flatMap { library.string($0, handle) }
            let label = "GPU \(index) \(name)" + (uuid.map { " (\($0))" } ?? "")

            var energy: UInt64 = 0
            let energyCode = library.getEnergy.map { $0(handle, &energy) } ?? NVMLReturn.functionNotFound
            let channelKind: PowerReadingKind
            var detail: String
            if energyCode == NVMLReturn.success {
                channelKind = .energyCounter
                detail = "\(label): energy counter nvmlDeviceGetTotalEnergyConsumption (mJ since the driver loaded)"
            } else {
                var milliwatts: UInt32 = 0
                let powerCode = library.getPower(handle, &milliwatts)
                let energyUnsupported = energyCode == NVMLReturn.notSupported || energyCode == NVMLReturn.functionNotFound
                if powerCode == NVMLReturn.notSupported && energyUnsupported {
                    unsupported.append("\(label): no energy counter or power reading (NVML_ERROR_NOT_SUPPORTED)")
                    continue
                }
                if powerCode != NVMLReturn.success && !energyUnsupported {
                    // Both failed for a reason other than "not supported" (lost GPU, permission): keep
                    // the counter, reads report the error until it clears.
                    channelKind = .energyCounter
                    detail = "\(label): energy counter nvmlDeviceGetTotalEnergyConsumption (mJ since the driver loaded); "
                        + "at detection it failed: \(NVMLReturn.name(energyCode))"
                } else {
                    channelKind = .sampledWatts
                    detail = "\(label): power samples nvmlDeviceGetPowerUsage (mW); NVML power is a moving average "
                        + "over about 1 s on many boards, so short regions are smoothed and their energy is approximate"
                    if !energyUnsupported {
                        detail += "; energy counter not used: \(NVMLReturn.name(energyCode))"
                    }
                    if powerCode != NVMLReturn.success {
                        detail += "; at detection the power reading failed: \(NVMLReturn.name(powerCode))"
                    }
                }
            }
            let device = Device(
                index: index, name: name, uuid: uuid, channelID: id, energyCounter: channelKind == .energyCounter)
            gpus.append(GPU(device: device, handleBits: UInt(bitPattern: Int(bitPattern: handle)), handleError: nil))
            channels.append(PowerChannel(
                id: id, method: .nvml, scope: .acceleratorBoard, kind: channelKind, quality: .inBandCounter,
                resolution: 1e-3, updateIntervalSeconds: channelKind == .sampledWatts ? 1.0 : nil, detail: detail))
        }
        guard !gpus.isEmpty else {
            throw PowerError(
                .unavailable, source: "nvml",
                "NVML found \(count) GPU(s) but none reports energy or power: " + unsupported.joined(separator: "; ")
                    + "; use a node-level source (ipmi, redfish) or an external meter")
        }
        return NVMLSource(libraryPath: libraryPath, library: library, gpus: gpus, channels: channels, skipped: unsupported)
    }

    public func read(clock: any PowerClock) throws -> [PowerReading] {
        gpus.map { gpu in
            let id = gpu.device.channelID
            guard let handle = gpu.handle else {
                return PowerReading(channel: id, time: clock.now(), value: .fault(gpu.handleError ?? "no NVML handle"))
            }
            if gpu.device.energyCounter {
                var millijoules: UInt64 = 0
                let code = library.getEnergy.map { $0(handle, &millijoules) } ?? NVMLReturn.functionNotFound
                let time = clock.now()
                guard code == NVMLReturn.success else {
                    return PowerReading(channel: id, time: time, value: .fault(fault("nvmlDeviceGetTotalEnergyConsumption", gpu, code)))
                }
                return PowerReading(channel: id, time: time, value: .counter(raw: millijoules, joulesPerUnit: 1e-3, wrapsAt: nil))
            }
            var milliwatts: UInt32 = 0
            let code = library.getPower(handle, &milliwatts)
            let time = clock.now()
            guard code == NVMLReturn.success else {
                return PowerReading(channel: id, time: time, value: .fault(fault("nvmlDeviceGetPowerUsage", gpu, code)))
            }
            return PowerReading(channel: id, time: time, value: .watts(Double(milliwatts) * 1e-3))
        }
    }

    /// Per GPU: "sm_clock_mhz", "mem_clock_mhz", "temperature_c", "throttle_reasons" (NVML's names joined
    /// by ",", "none" when the mask is 0) and "throttle_reasons_mask" (hex); a value the GPU does not
    /// support is left out, and other failures are listed under "errors".
    public func telemetry(clock: any PowerClock) -> [PowerTelemetry] {
        gpus.compactMap { gpu in
            guard let handle = gpu.handle else { return nil }
            var values: [String: String] = [:]
            var errors: [String] = []
            func record(_ key: String, _ code: Int32, _ value: () -> String) {
                if code == NVMLReturn.success {
                    values[key] = value()
                } else if code != NVMLReturn.notSupported && code != NVMLReturn.functionNotFound {
                    errors.append("\(key): \(NVMLReturn.name(code))")
                }
            }
            let sm = library.clock(handle, NVMLConstant.clockSM)
            record("sm_clock_mhz", sm.code) { "\(sm.value)" }
            let mem = library.clock(handle, NVMLConstant.clockMem)
            record("mem_clock_mhz", mem.code) { "\(mem.value)" }
            let temperature = library.temperature(handle)
            record("temperature_c", temperature.code) { "\(temperature.value)" }
            let throttle = library.throttleReasons(handle)
            record("throttle_reasons", throttle.code) {
                let names = Self.throttleReasonNames(throttle.value)
                return names.isEmpty ? "none" : names.joined(separator: ",")
            }
            if throttle.code == NVMLReturn.success {
                values["throttle_reasons_mask"] = "0x" + String(throttle.value, radix: 16)
            }
            if !errors.isEmpty { values["errors"] = errors.joined(separator: "; ") }
            return PowerTelemetry(channel: gpu.device.channelID, time: clock.now(), values: values)
        }
    }

    /// NVML's clock throttle (clock event) reason bits, in bit order.
    public static let throttleReasons: [(bit: UInt64, name: String)] = [
        (0x1, "GpuIdle"),
        (0x2, "ApplicationsClocksSetting"),
        (0x4, "SwPowerCap"),
        (0x8, "HwSlowdown"),
        (0x10, "SyncBoost"),
        (0x20, "SwThermalSlowdown"),
        (0x40, "HwThermalSlowdown"),
        (0x80, "HwPowerBrakeSlowdown"),
        (0x100, "DisplayClockSetting"),
    ]

    /// The names of the bits set in an `nvmlDeviceGetCurrentClocksThrottleReasons` mask; bits NVML may
    /// add later appear as hex ("0x200").
    public static func throttleReasonNames(_ mask: UInt64) -> [String] {
        var names: [String] = []
        var rest = mask
        for reason in throttleReasons where mask & reason.bit != 0 {
            names.append(reason.name)
            rest &= ~reason.bit
        }
        if rest != 0 { names.append("0x" + String(rest, radix: 16)) }
        return names
    }

    /// NVML's name for a return code, e.g. 15 → "NVML_ERROR_GPU_IS_LOST".
    public static func errorName(_ code: Int32) -> String { NVMLReturn.name(code) }

    private func fault(_ function: String, _ gpu: GPU, _ code: Int32) -> String {
        "\(function) on GPU \(gpu.device.index) (\(gpu.device.name)): \(NVMLReturn.describe(code))"
    }
}

/// nvmlReturn_t values and what to do about them.
private enum NVMLReturn {
    static let success: Int32 = 0
    static let notSupported: Int32 = 3
    static let noPermission: Int32 = 4
    static let functionNotFound: Int32 = 13

    static let names: [Int32: String] = [
        0: "NVML_SUCCESS",
        1: "NVML_ERROR_UNINITIALIZED",
        2: "NVML_ERROR_INVALID_ARGUMENT",
        3: "NVML_ERROR_NOT_SUPPORTED",
        4: "NVML_ERROR_NO_PERMISSION",
        5: "NVML_ERROR_ALREADY_INITIALIZED",
        6: "NVML_ERROR_NOT_FOUND",
        7: "NVML_ERROR_INSUFFICIENT_SIZE",
        8: "NVML_ERROR_INSUFFICIENT_POWER",
        9: "NVML_ERROR_DRIVER_NOT_LOADED",
        10: "NVML_ERROR_TIMEOUT",
        11: "NVML_ERROR_IRQ_ISSUE",
        12: "NVML_ERROR_LIBRARY_NOT_FOUND",
        13: "NVML_ERROR_FUNCTION_NOT_FOUND",
        14: "NVML_ERROR_CORRUPTED_INFOROM",
        15: "NVML_ERROR_GPU_IS_LOST",
        16: "NVML_ERROR_RESET_REQUIRED",
        17: "NVML_ERROR_OPERATING_SYSTEM",
        18: "NVML_ERROR_LIB_RM_VERSION_MISMATCH",
        19: "NVML_ERROR_IN_USE",
        20: "NVML_ERROR_MEMORY",
        21: "NVML_ERROR_NO_DATA",
        22: "NVML_ERROR_VGPU_ECC_NOT_SUPPORTED",
        23: "NVML_ERROR_INSUFFICIENT_RESOURCES",
        24: "NVML_ERROR_FREQ_NOT_SUPPORTED",
        25: "NVML_ERROR_ARGUMENT_VERSION_MISMATCH",
        26: "NVML_ERROR_DEPRECATED",
        27: "NVML_ERROR_NOT_READY",
        28: "NVML_ERROR_GPU_NOT_FOUND",
        29: "NVML_ERROR_INVALID_STATE",
        999: "NVML_ERROR_UNKNOWN",
    ]

    static func name(_ code: Int32) -> String { names[code] ?? "NVML error \(code)" }

    /// "NVML_ERROR_GPU_IS_LOST (15): <what to do>".
    static func describe(_ code: Int32) -> String {
        let advice: String? = switch code {
        case 1: "NVML was not initialized (nvmlInit_v2 did not succeed or was shut down)"
        case 3: "this GPU or driver does not support the query"
        case 4: "not permitted for this user: check the permissions of /dev/nvidia* or run as root"
        case 9: "the NVIDIA kernel driver is not loaded: load it (modprobe nvidia) or check the driver installation"
        case 10: "the driver did not answer in time; check nvidia-smi and dmesg"
        case 12: "a library NVML needs is missing: reinstall the NVIDIA driver"
        case 14: "the GPU's infoROM is corrupted: contact the vendor; readings may be wrong"
        case 15: "the GPU has fallen off the bus or is otherwise inaccessible: check dmesg for Xid errors; the GPU needs a reset or the node a reboot"
        case 16: "the GPU needs a reset (nvidia-smi -r) or the node a reboot"
        case 17: "the operating system refused the driver's request; check dmesg"
        case 18: "libnvidia-ml does not match the loaded kernel module (driver upgraded without reboot): reboot or reload the nvidia module"
        case 28: "the GPU was not found on the bus: check dmesg and the PCIe link"
        default: nil
        }
        return "\(name(code)) (\(code))" + (advice.map { ": \($0)" } ?? "")
    }
}

/// nvmlClockType_t / nvmlTemperatureSensors_t values.
private enum NVMLConstant {
    static let clockSM: UInt32 = 1
    static let clockMem: UInt32 = 2
    static let temperatureGPU: UInt32 = 0
}

/// The dlopen'ed libnvidia-ml and its entry points.
///
/// Sendable because nothing in it changes after `open` (the function pointers and the dlopen handle are
/// written once), NVML's entry points are thread-safe, and the handle is closed only in `deinit` (or in
/// `close()` before any source holds this value), when no thread can still call through it.
private final class NVMLLibrary: @unchecked Sendable {
    typealias VoidFn = @convention(c) () -> Int32
    typealias CountFn = @convention(c) (UnsafeMutablePointer<UInt32>?) -> Int32
    typealias HandleFn = @convention(c) (UInt32, UnsafeMutablePointer<OpaquePointer?>?) -> Int32
    typealias StringFn = @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?, UInt32) -> Int32
    typealias UInt64Fn = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt64>?) -> Int32
    typealias UInt32Fn = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt32>?) -> Int32
    typealias TypedUInt32Fn = @convention(c) (OpaquePointer?, UInt32, UnsafeMutablePointer<UInt32>?) -> Int32

    private var dl: UnsafeMutableRawPointer?
    private var initialized = false
    private let initFn: VoidFn
    private let shutdownFn: VoidFn
    let getCountFn: CountFn
    let getHandleFn: HandleFn
    let getName: StringFn
    let getUUID: StringFn?
    let getEnergy: UInt64Fn?
    let getPowerFn: UInt32Fn
    let getClock: TypedUInt32Fn?
    let getTemperature: TypedUInt32Fn?
    let getThrottleReasons: UInt64Fn?

    private init(dl: UnsafeMutableRawPointer, path: String) throws {
        self.dl = dl
        func symbol<T>(_ name: String, as type: T.Type) -> T? {
            guard let pointer = dlsym(dl, name) else { return nil }
            return unsafeBitCast(pointer, to: type)
        }
        func required<T>(_ name: String, as type: T.Type) throws -> T {
            guard let function = symbol(name, as: type) else {
                dlclose(dl)
                throw PowerError(
                    .unavailable, source: "nvml",
                    "\(path) has no \(name): the NVIDIA driver is too old or this is not libnvidia-ml; install a current driver")
            }
            return function
        }
        initFn = try required("nvmlInit_v2", as: VoidFn.self)
        shutdownFn = try required("nvmlShutdown", as: VoidFn.self)
        getCountFn = try required("nvmlDeviceGetCount_v2", as: CountFn.self)
        getHandleFn = try required("nvmlDeviceGetHandleByIndex_v2", as: HandleFn.self)
        getName = try required("nvmlDeviceGetName", as: StringFn.self)
        getPowerFn = try required("nvmlDeviceGetPowerUsage", as: UInt32Fn.self)
        getUUID = symbol("nvmlDeviceGetUUID", as: StringFn.self)
        getEnergy = symbol("nvmlDeviceGetTotalEnergyConsumption", as: UInt64Fn.self)
        getClock = symbol("nvmlDeviceGetClockInfo", as: TypedUInt32Fn.self)
        getTemperature = symbol("nvmlDeviceGetTemperature", as: TypedUInt32Fn.self)
        getThrottleReasons = symbol("nvmlDeviceGetCurrentClocksThrottleReasons", as: UInt64Fn.self)
    }

    /// nil when there is no such library; throws when it exists but cannot be loaded or is not NVML.
    static func open(path: String) throws -> NVMLLibrary? {
        guard let dl = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let message = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
            // Only the library itself missing means "no NVML here"; a missing dependency or a broken
            // file is a problem to report.
            if message.hasPrefix("\(path): cannot open shared object file") { return nil }
            throw PowerError(.unavailable, source: "nvml", "dlopen(\(path)) failed: \(message)")
        }
        return try NVMLLibrary(dl: dl, path: path)
    }

    func initialize() -> Int32 {
        let code = initFn()
        initialized = code == NVMLReturn.success
        return code
    }

    /// Shuts NVML down (if initialized) and unloads the library; only before any source holds it.
    func close() {
        if initialized { _ = shutdownFn() }
        initialized = false
        if let dl { dlclose(dl) }
        dl = nil
    }

    deinit { close() }

    func getCount(_ count: inout UInt32) -> Int32 { getCountFn(&count) }
    func getHandle(_ index: UInt32, _ handle: inout OpaquePointer?) -> Int32 { getHandleFn(index, &handle) }
    func getPower(_ handle: OpaquePointer, _ milliwatts: inout UInt32) -> Int32 { getPowerFn(handle, &milliwatts) }

    /// nvmlDeviceGetClockInfo (MHz); NVML_ERROR_FUNCTION_NOT_FOUND when the library lacks it.
    func clock(_ handle: OpaquePointer, _ type: UInt32) -> (code: Int32, value: UInt32) {
        var mhz: UInt32 = 0
        return (getClock.map { $0(handle, type, &mhz) } ?? NVMLReturn.functionNotFound, mhz)
    }

    /// nvmlDeviceGetTemperature(NVML_TEMPERATURE_GPU) (°C).
    func temperature(_ handle: OpaquePointer) -> (code: Int32, value: UInt32) {
        var celsius: UInt32 = 0
        return (getTemperature.map { $0(handle, NVMLConstant.temperatureGPU, &celsius) } ?? NVMLReturn.functionNotFound, celsius)
    }

    /// nvmlDeviceGetCurrentClocksThrottleReasons (bit mask).
    func throttleReasons(_ handle: OpaquePointer) -> (code: Int32, value: UInt64) {
        var mask: UInt64 = 0
        return (getThrottleReasons.map { $0(handle, &mask) } ?? NVMLReturn.functionNotFound, mask)
    }

    /// A string query into a buffer of NVML's largest documented size (96 bytes for names and UUIDs).
    func string(_ function: StringFn, _ handle: OpaquePointer) -> String? {
        var buffer = [CChar](repeating: 0, count: 96)
        let code = buffer.withUnsafeMutableBufferPointer { function(handle, $0.baseAddress, UInt32($0.count)) }
        guard code == NVMLReturn.success else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
