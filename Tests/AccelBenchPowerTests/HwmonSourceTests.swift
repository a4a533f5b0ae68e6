import Foundation
import Testing
@testable import AccelBenchPower

@Suite struct HwmonSourceTests {
    /// hwmon0: an AMD GPU (power1_average "PPT" and its cap, under PCI device 0000:03:00.0);
    /// hwmon1: amd_energy with two core counters and a socket counter; hwmon2: nvme with a temperature
    /// only; hwmon3: ACPI power_meter with an averaging interval; as in sysfs, the class directory
    /// holds symlinks into the device tree.
    static func tree() throws -> FakeSysfsTree {
        let tree = try FakeSysfsTree()
        let gpu = "devices/pci0000:00/0000:00:01.1/0000:03:00.0"
        try tree.write("\(gpu)/vendor", "0x1002")
        try tree.write(in: "\(gpu)/hwmon/hwmon0", [
            "name": "amdgpu", "power1_average": "35000000", "power1_cap": "220000000",
            "power1_cap_max": "250000000", "power1_label": "PPT", "temp1_input": "45000",
        ])
        try tree.link("\(gpu)/hwmon/hwmon0/device", to: "../../../0000:03:00.0")
        try tree.link("class/hwmon/hwmon0", to: "../../\(gpu)/hwmon/hwmon0")

        let energy = "devices/platform/amd_energy.0"
        try tree.write(in: "\(energy)/hwmon/hwmon1", [
            "name": "amd_energy",
            "energy1_input": "123456789", "energy1_label": "Ecore000",
            "energy2_input": "223456789", "energy2_label": "Ecore001",
            "energy3_input": "9876543210", "energy3_label": "Esocket0",
        ])
        try tree.link("\(energy)/hwmon/hwmon1/device", to: "../../../amd_energy.0")
        try tree.link("class/hwmon/hwmon1", to: "../../\(energy)/hwmon/hwmon1")

        try tree.write(in: "devices/nvme/hwmon/hwmon2", ["name": "nvme", "temp1_input": "38850"])
        try tree.link("class/hwmon/hwmon2", to: "../../devices/nvme/hwmon/hwmon2")

        // hwmon4: a driver not in the table, on a PCI processing accelerator (class 0x12).
        let npu = "devices/pci0000:80/0000:80:01.0/0000:81:00.0"
        try tree.write("\(npu)/class", "0x120000")
        try tree.write(in: "\(npu)/hwmon/hwmon4", ["name": "future_npu", "power1_input": "7250000"])
        try tree.link("\(npu)/hwmon/hwmon4/device", to: "../../../0000:81:00.0")
        try tree.link("class/hwmon/hwmon4", to: "../../\(npu)/hwmon/hwmon4")

        try tree.write(in: "devices/acpi/hwmon/hwmon3", [
            "name": "power_meter", "power1_average": "412000000", "power1_average_interval": "1000",
        ])
        try tree.link("class/hwmon/hwmon3", to: "../../devices/acpi/hwmon/hwmon3")
        return tree
    }

    @Test func findsPowerAndEnergySensorsWithScopes() throws {
        let tree = try Self.tree()
        let source = try #require(try HwmonSource.detect(root: tree.path("class/hwmon")))
        #expect(source.method == .hwmon)
        #expect(source.channels.map(\.id) == [
            "hwmon:amdgpu/power1", "hwmon:amd_energy/energy1", "hwmon:amd_energy/energy2",
            "hwmon:amd_energy/energy3", "hwmon:power_meter/power1", "hwmon:future_npu/power1",
        ])
        #expect(source.channels.map(\.scope) == [.acceleratorBoard, .cpuCores, .cpuCores, .cpuPackage, .other, .acceleratorBoard])
        #expect(source.channels.map(\.kind) == [
            .sampledWatts, .energyCounter, .energyCounter, .energyCounter, .sampledWatts, .sampledWatts,
        ])
        #expect(source.channels.allSatisfy { $0.quality == .inBandCounter && $0.method == .hwmon && $0.resolution == 1e-6 })
        let gpu = source.channels[0]
        #expect(gpu.detail.contains("amdgpu 'PPT' power1_average") && gpu.detail.contains("0000:03:00.0"))
        #expect(gpu.updateIntervalSeconds == nil)
        let meter = source.channels[4]
        #expect(meter.detail.contains("power_meter") && meter.updateIntervalSeconds == 1.0)
        #expect(source.channels[3].detail.contains("'Esocket0'"))
    }

    @Test func readsMicrowattsAsWattsAndMicrojouleCounters() throws {
        let tree = try Self.tree()
        let source = try #require(try HwmonSource.detect(root: tree.path("class/hwmon")))
        let readings = try source.read(clock: TickingPowerClock())
        #expect(readings.map(\.channel) == source.channels.map(\.id))
        #expect(readings[0].value == .watts(35))
        #expect(readings[1].value == .counter(raw: 123_456_789, joulesPerUnit: 1e-6, wrapsAt: nil))
        #expect(readings[3].value == .counter(raw: 9_876_543_210, joulesPerUnit: 1e-6, wrapsAt: nil))
        #expect(readings[4].value == .watts(412))
        #expect(readings[5].value == .watts(7.25))
        #expect(readings.allSatisfy { $0.time > 100 })
    }

    @Test func inputIsPreferredToAverage() throws {
        let tree = try FakeSysfsTree()
        try tree.write(in: "hwmon0", [
            "name": "xe", "power1_input": "12500000", "power1_average": "99000000", "power2_average": "2000000",
        ])
        let source = try #require(try HwmonSource.detect(root: tree.root))
        #expect(source.channels.map(\.id) == ["hwmon:xe/power1", "hwmon:xe/power2"])
        #expect(source.channels[0].detail.contains("power1_input"))
        let readings = try source.read(clock: TickingPowerClock())
        #expect(readings.map(\.value) == [.watts(12.5), .watts(2)])
    }

    @Test func sameDriverTwiceIsToldApartByDevice() throws {
        let tree = try FakeSysfsTree()
        for (index, pci) in ["0000:03:00.0", "0000:83:00.0"].enumerated() {
            try tree.write(in: "devices/\(pci)/hwmon/hwmon\(index)", ["name": "amdgpu", "power1_average": "1000000"])
            try tree.link("devices/\(pci)/hwmon/hwmon\(index)/device", to: "../../../\(pci)")
            try tree.link("class/hwmon/hwmon\(index)", to: "../../devices/\(pci)/hwmon/hwmon\(index)")
        }
        try tree.write(in: "class/hwmon/hwmon2", ["name": "amdgpu", "power1_input": "1000000"])  // no device link
        let source = try #require(try HwmonSource.detect(root: tree.path("class/hwmon")))
        #expect(source.channels.map(\.id) == [
            "hwmon:amdgpu@0000:03:00.0/power1", "hwmon:amdgpu@0000:83:00.0/power1", "hwmon:amdgpu@hwmon2/power1",
        ])
    }

    @Test func malformedAndMissingFilesAreFaults() throws {
        let tree = try Self.tree()
        let gpu = "devices/pci0000:00/0000:00:01.1/0000:03:00.0/hwmon/hwmon0"
        let energy = "devices/platform/amd_energy.0/hwmon/hwmon1"
        try tree.write("\(gpu)/power1_average", "abc")
        try tree.write("\(energy)/energy1_input", "", newline: false)
        try tree.write("\(energy)/energy2_input", "-5")
        try tree.remove("\(energy)/energy3_label")
        // A directory without a name file is skipped, not a crash.
        try tree.write("class/hwmon/hwmon9/power1_input", "1")
        let source = try #require(try HwmonSource.detect(root: tree.path("class/hwmon")))
        #expect(source.channels.count == 6)
        // Without its label the socket counter is no longer known to be one.
        #expect(source.channels[3].scope == .other && source.channels[3].detail.contains("amd_energy"))

        try tree.write("devices/acpi/hwmon/hwmon3/power1_average", "-1000000")
        try tree.remove("\(energy)/energy3_input")
        let readings = try source.read(clock: TickingPowerClock())
        let faults = readings.map { reading -> String? in
            if case .fault(let message) = reading.value { return message }
            return nil
        }
        #expect(faults[0]?.contains("power1_average: content 'abc' is not an integer") == true)
        #expect(faults[1]?.contains("energy1_input: empty content") == true)
        #expect(faults[2]?.contains("'-5' is not an unsigned integer") == true)
        #expect(faults[3]?.contains("No such file") == true)
        #expect(faults[4]?.contains("negative power") == true)
    }

    // Tests may run as root, for whom a mode-000 file still reads: skipped where nothing refuses root.
    @Test(.enabled(if: FakeSysfsTree.canMakeUnreadable))
    func unreadableSensorIsPermissionDeniedWithTheFix() throws {
        let tree = try Self.tree()
        let path = "devices/platform/amd_energy.0/hwmon/hwmon1/energy3_input"
        #expect(try tree.makeUnreadable(path))
        let error = #expect(throws: PowerError.self) { try HwmonSource.detect(root: tree.path("class/hwmon")) }
        #expect(error?.code == .permissionDenied && error?.source == "hwmon")
        #expect(error?.message.contains("energy3_input") == true)
        #expect(error?.message.contains("sudo chmod o+r") == true)
    }

    @Test func noSensorsIsNil() throws {
        let tree = try FakeSysfsTree()
        #expect(try HwmonSource.detect(root: tree.root) == nil)
        #expect(try HwmonSource.detect(root: tree.path("absent")) == nil)
        try tree.write(in: "hwmon0", ["name": "coretemp", "temp1_input": "40000", "temp1_label": "Package id 0"])
        try tree.write(in: "hwmon1", ["name": "acpitz", "temp1_input": "27800"])
        #expect(try HwmonSource.detect(root: tree.root) == nil)
    }

    @Test func scopeTable() {
        #expect(HwmonSource.scope(driver: "habanalabs", label: nil) == .acceleratorBoard)
        #expect(HwmonSource.scope(driver: "zenpower", label: "Esocket1") == .cpuPackage)
        #expect(HwmonSource.scope(driver: "zenergy", label: "Ecore012") == .cpuCores)
        #expect(HwmonSource.scope(driver: "zenpower", label: "SVI2_P_Core") == .other)
        #expect(HwmonSource.scope(driver: "ina3221", label: "Esocket0") == .other)
        #expect(HwmonSource.scope(driver: "new_npu", label: nil, pciClass: "0x120000") == .acceleratorBoard)
        #expect(HwmonSource.scope(driver: "new_gpu", label: nil, pciClass: "0x030200") == .acceleratorBoard)
        #expect(HwmonSource.scope(driver: "mlx5", label: nil, pciClass: "0x020000") == .other)
        #expect(HwmonSource.indices(of: "power", in: ["power10_input", "power2_label", "powerx_input", "power_cap", "power3"]) == [2, 10])
    }
}
