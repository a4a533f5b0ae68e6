import Foundation
import Testing
@testable import AccelBenchPower

/// NVMLSource against a real shared library: the NVML stub (Tests/Stubs/nvml, product
/// "nvidia-ml-stub"), copied into a temporary directory as libnvidia-ml.so.1 next to its script
/// (nvml_stub.conf) and loaded through the same dlopen path as the real library.
@Suite struct NVMLSourceTests {
    @Test func energyCounterAndPowerOnlyDevices() throws {
        let library = try NVMLStubFixture.install(script: """
            device NVIDIA H100 80GB HBM3
            uuid 0 GPU-5f6e1d2c-0000-1111-2222-333344445555
            device Tesla P100-PCIE-16GB
            # gpu0: an energy counter (Volta+); the first line is consumed by detection's probe
            0 1000000 !3 1980 2619 45 0x0
            0 1000500 !3 1980 2619 46 0x0
            0 1001250 !3 1980 2619 47 0x0
            # gpu1: no energy counter, power samples in mW
            1 !3 250000 1328 715 40 0x0
            1 !3 251500 1328 715 41 0x0
            1 !3 180250 1328 715 41 0x0
            """)
        defer { NVMLStubFixture.remove(library) }
        let source = try #require(try NVMLSource.detect(libraryPath: library))
        #expect(source.method == .nvml)
        #expect(source.channels.map(\.id) == ["nvml:gpu0", "nvml:gpu1"])

        let counter = source.channels[0]
        #expect(counter.scope == .acceleratorBoard && counter.quality == .inBandCounter && counter.method == .nvml)
        #expect(counter.kind == .energyCounter)
        #expect(counter.resolution == 1e-3)
        #expect(counter.detail.contains("NVIDIA H100 80GB HBM3") && counter.detail.contains("energy counter"))
        #expect(source.devices[0].uuid == "GPU-5f6e1d2c-0000-1111-2222-333344445555")
        #expect(source.devices[0].energyCounter)

        let power = source.channels[1]
        #expect(power.kind == .sampledWatts && power.scope == .acceleratorBoard)
        #expect(power.detail.contains("Tesla P100-PCIE-16GB") && power.detail.contains("power samples"))
        #expect(power.detail.contains("moving average over about 1 s"))
        #expect(power.updateIntervalSeconds == 1.0)
        #expect(!source.devices[1].energyCounter)
        #expect(source.skipped.isEmpty)

        let clock = NVMLTestClock()
        let first = try source.read(clock: clock)
        #expect(first.map(\.value) == [
            .counter(raw: 1_000_500, joulesPerUnit: 1e-3, wrapsAt: nil), .watts(251.5),
        ])
        #expect(first.map(\.channel) == ["nvml:gpu0", "nvml:gpu1"])
        #expect(first.map(\.time) == [1, 2])
        let second = try source.read(clock: clock)
        #expect(second.map(\.value) == [
            .counter(raw: 1_001_250, joulesPerUnit: 1e-3, wrapsAt: nil), .watts(180.25),
        ])
        // Past the script's end the last line repeats, as a steady board would.
        #expect(try source.read(clock: clock)[0].value == .counter(raw: 1_001_250, joulesPerUnit: 1e-3, wrapsAt: nil))
    }

    @Test func telemetryDecodesClocksTemperatureAndThrottleReasons() throws {
        let library = try NVMLStubFixture.install(script: """
            device NVIDIA A100-SXM4-80GB
            0 5000 300000 1410 1593 61 0x44
            0 5000 300000 1275 1593 83 0x0
            0 5000 300000 210 1593 35 0x1001
            """)
        defer { NVMLStubFixture.remove(library) }
        let source = try #require(try NVMLSource.detect(libraryPath: library))
        let clock = NVMLTestClock()
        let hot = source.telemetry(clock: clock)
        #expect(hot == [PowerTelemetry(channel: "nvml:gpu0", time: 1, values: [
            "sm_clock_mhz": "1410", "mem_clock_mhz": "1593", "temperature_c": "61",
            "throttle_reasons": "SwPowerCap,HwThermalSlowdown", "throttle_reasons_mask": "0x44",
        ])])
        let calm = try #require(source.telemetry(clock: clock).first)
        #expect(calm.values["throttle_reasons"] == "none")
        #expect(calm.values["sm_clock_mhz"] == "1275" && calm.values["temperature_c"] == "83")
        let idle = try #require(source.telemetry(clock: clock).first)
        #expect(idle.values["throttle_reasons"] == "GpuIdle,0x1000")
    }

    @Test func everyThrottleReasonBitHasItsNVMLName() {
        #expect(NVMLSource.throttleReasonNames(0) == [])
        #expect(NVMLSource.throttleReasonNames(0x1FF) == [
            "GpuIdle", "ApplicationsClocksSetting", "SwPowerCap", "HwSlowdown", "SyncBoost",
            "SwThermalSlowdown", "HwThermalSlowdown", "HwPowerBrakeSlowdown", "DisplayClockSetting",
        ])
        #expect(NVMLSource.throttleReasonNames(0x8 | 0x80) == ["HwSlowdown", "HwPowerBrakeSlowdown"])
        #expect(NVMLSource.errorName(15) == "NVML_ERROR_GPU_IS_LOST")
        #expect(NVMLSource.errorName(3) == "NVML_ERROR_NOT_SUPPORTED")
        #expect(NVMLSource.errorName(4) == "NVML_ERROR_NO_PERMISSION")
        #expect(NVMLSource.errorName(12345) == "NVML error 12345")
    }

    @Test func gpuLostMidRunIsAFaultAndTheOtherGPUKeepsReading() throws {
        let library = try NVMLStubFixture.install(script: """
            device NVIDIA H100 80GB HBM3
            device NVIDIA H100 80GB HBM3
            # Each column has its own cursor: energy lines 1-3 go to detection's probe and two reads,
            # telemetry lines 1-2 to the two telemetry calls made after each read.
            0 1000 !3 1980 2619 45 0x0
            0 2000 !3 !15 !15 !15 !15
            0 !15 !3 !15 !15 !15 !15
            1 7000 !3 1980 2619 45 0x0
            1 8000 !3 1980 2619 45 0x0
            1 9000 !3 1980 2619 45 0x0
            """)
        defer { NVMLStubFixture.remove(library) }
        let source = try #require(try NVMLSource.detect(libraryPath: library))
        let clock = NVMLTestClock()
        #expect(try source.read(clock: clock).map(\.value) == [
            .counter(raw: 2000, joulesPerUnit: 1e-3, wrapsAt: nil), .counter(raw: 8000, joulesPerUnit: 1e-3, wrapsAt: nil),
        ])
        #expect(source.telemetry(clock: clock).first?.values["sm_clock_mhz"] == "1980")
        let lost = try source.read(clock: clock)
        guard case .fault(let message) = lost[0].value else {
            Issue.record("expected a fault, got \(lost[0].value)")
            return
        }
        #expect(message.contains("NVML_ERROR_GPU_IS_LOST"))
        #expect(message.contains("nvmlDeviceGetTotalEnergyConsumption") && message.contains("GPU 0"))
        #expect(message.contains("reset") || message.contains("reboot"))
        #expect(lost[1].value == .counter(raw: 9000, joulesPerUnit: 1e-3, wrapsAt: nil))
        // Telemetry reports the failure instead of values.
        let telemetry = source.telemetry(clock: clock)
        #expect(telemetry.map(\.channel) == ["nvml:gpu0", "nvml:gpu1"])
        #expect(telemetry[0].values["sm_clock_mhz"] == nil)
        #expect(telemetry[0].values["errors"]?.contains("NVML_ERROR_GPU_IS_LOST") == true)
    }

    @Test func deviceWithoutHandleKeepsAFaultingChannel() throws {
        let library = try NVMLStubFixture.install(script: """
            device NVIDIA L4
            device NVIDIA L4
            handle 1 15
            0 100 !3 2040 6251 50 0x0
            """)
        defer { NVMLStubFixture.remove(library) }
        let source = try #require(try NVMLSource.detect(libraryPath: library))
        #expect(source.channels.map(\.id) == ["nvml:gpu0", "nvml:gpu1"])
        #expect(source.channels[1].detail.contains("NVML_ERROR_GPU_IS_LOST"))
        let readings = try source.read(clock: NVMLTestClock())
        #expect(readings[0].value == .counter(raw: 100, joulesPerUnit: 1e-3, wrapsAt: nil))
        guard case .fault(let message) = readings[1].value else {
            Issue.record("expected a fault, got \(readings[1].value)")
            return
        }
        #expect(message.contains("nvmlDeviceGetHandleByIndex_v2(1)") && message.contains("NVML_ERROR_GPU_IS_LOST"))
    }

    @Test func initFailureThrowsWithTheNVMLErrorName() throws {
        let notLoaded = try NVMLStubFixture.install(script: "init 9\ndevice NVIDIA H100\n")
        defer { NVMLStubFixture.remove(notLoaded) }
        let error = try #require(throws: PowerError.self) { try NVMLSource.detect(libraryPath: notLoaded) }
        #expect(error.code == .unavailable)
        #expect(error.source == "nvml")
        #expect(error.message.contains("NVML_ERROR_DRIVER_NOT_LOADED") && error.message.contains("nvmlInit_v2"))
        #expect(error.message.contains("modprobe nvidia"))

        let denied = try NVMLStubFixture.install(script: "init 4\n")

        defer { NVMLStubFixture.remove(denied) }
        let deniedError = try #require(throws: PowerError.self) { try NVMLSource.detect(libraryPath: denied) }
        #expect(deniedError.code == .permissionDenied)
        #expect(deniedError.message.contains("NVML_ERROR_NO_PERMISSION"))
    }

    @Test func missingLibraryOrNoGPUIsNil() throws {
        let directory = try NVMLStubFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try NVMLSource.detect(libraryPath: directory + "/libnvidia-ml.so.1") == nil)
        #expect(try NVMLSource.detect(libraryPath: "libnvidia-ml-accelbench-absent.so.1") == nil)
        let noDevices = try NVMLStubFixture.install(script: "# the driver sees no GPU\n")
        defer { NVMLStubFixture.remove(noDevices) }
        #expect(try NVMLSource.detect(libraryPath: noDevices) == nil)
    }

    @Test func brokenLibraryThrows() throws {
        let directory = try NVMLStubFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/libnvidia-ml.so.1"
        try Data("not an ELF file".utf8).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: PowerError.self) { try NVMLSource.detect(libraryPath: path) }
        #expect(error.code == .unavailable && error.message.contains(path))
    }

    @Test func gpuWithoutAnyPowerReadingIsSkippedOrThrows() throws {
        let library = try NVMLStubFixture.install(script: """
            device NVIDIA GeForce GT 1030
            0 !3 !3 1468 3004 38 0x0
            """)
        defer { NVMLStubFixture.remove(library) }
        let error = try #require(throws: PowerError.self) { try NVMLSource.detect(libraryPath: library) }
        #expect(error.code == .unavailable)
        #expect(error.message.contains("GeForce GT 1030") && error.message.contains("NOT_SUPPORTED"))

        // Next to a GPU that does report, it is only left out, and listed.
        let mixed = try NVMLStubFixture.install(script: """
            device NVIDIA GeForce GT 1030
            device NVIDIA RTX A6000
            0 !3 !3 1468 3004 38 0x0
            1 123456 !3 1800 8001 50 0x0
            """)
        defer { NVMLStubFixture.remove(mixed) }
        let source = try #require(try NVMLSource.detect(libraryPath: mixed))
        #expect(source.channels.map(\.id) == ["nvml:gpu1"])
        #expect(source.skipped.count == 1 && source.skipped[0].contains("GeForce GT 1030"))
    }
}

/// A clock that ticks 1, 2, 3, ... on each call.
private final class NVMLTestClock: PowerClock, @unchecked Sendable {
    private let lock = NSLock()
    private var ticks = 0.0

    func now() -> Double {
        lock.lock()
        defer { lock.unlock() }
        ticks += 1
        return ticks
    }
}

/// Copies of the stub library, one temporary directory each.
private enum NVMLStubFixture {
    static func temporaryDirectory() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("accelbench-nvml-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    /// Removes the temporary directory of an installed copy (the loaded library stays mapped).
    static func remove(_ library: String) {
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: library).deletingLastPathComponent().path)
    }

    /// Writes `script` as nvml_stub.conf next to a fresh copy of the stub named libnvidia-ml.so.1 and
    /// returns the library's path. A fresh copy (a different file) is a fresh load with its own state.
    static func install(script: String) throws -> String {
        let directory = try temporaryDirectory()
        let library = directory + "/libnvidia-ml.so.1"
        try FileManager.default.copyItem(atPath: try builtStub(), toPath: library)
        try Data(script.utf8).write(to: URL(fileURLWithPath: directory + "/nvml_stub.conf"))
        return library
    }

    /// The stub SwiftPM built (libnvidia-ml-stub.so next to the test binary), or, when the build did
    /// not produce it (a build of the test target alone), one compiled here from the same source.
    static func builtStub() throws -> String {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var candidates = [executable.deletingLastPathComponent().appendingPathComponent("libnvidia-ml-stub.so").path]
        if let bundle = Bundle.allBundles.first(where: { $0.bundlePath.hasSuffix(".xctest") }) {
            candidates.append(URL(fileURLWithPath: bundle.bundlePath).deletingLastPathComponent()
                .appendingPathComponent("libnvidia-ml-stub.so").path)
        }
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
        return try compiledStub.get()
    }

    private static let compiledStub: Result<String, any Error> = Result {
        let stubDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Stubs/nvml")
        let output = try temporaryDirectory() + "/libnvidia-ml-stub.so"
        let compiler = Process()
        compiler.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        compiler.arguments = [
            "cc", "-shared", "-fPIC", "-O1", "-I", stubDirectory.appendingPathComponent("include").path,
            "-o", output, stubDirectory.appendingPathComponent("nvml_stub.c").path,
        ]
        try compiler.run()
        compiler.waitUntilExit()
        guard compiler.terminationStatus == 0 else {
            throw PowerError(.unavailable, source: "nvml-stub", "building the NVML stub with cc failed (status \(compiler.terminationStatus))")
        }
        return output
    }
}
