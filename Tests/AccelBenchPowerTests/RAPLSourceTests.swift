import Foundation
import Testing
@testable import AccelBenchPower

@Suite struct RAPLSourceTests {
    /// An AMD Zen host as the kernel lays it out: zones live under devices/virtual/powercap/intel-rapl/,
    /// and the class directory holds a symlink to every zone and subzone plus one to the control type.
    /// package-0 with core and uncore subzones, no dram (Zen has none), and a psys zone.
    static func zenTree(maxRange: String = "65712999613") throws -> FakeSysfsTree {
        let tree = try FakeSysfsTree()
        let device = "devices/virtual/powercap/intel-rapl"
        try tree.write("\(device)/enabled", "1")
        try tree.write(in: "\(device)/intel-rapl:0", [
            "name": "package-0", "energy_uj": "1000000", "max_energy_range_uj": maxRange, "enabled": "1",
            "constraint_0_name": "long_term", "constraint_0_power_limit_uw": "280000000",
        ])
        try tree.write(in: "\(device)/intel-rapl:0/intel-rapl:0:0", [
            "name": "core", "energy_uj": "600000", "max_energy_range_uj": maxRange,
        ])
        try tree.write(in: "\(device)/intel-rapl:0/intel-rapl:0:1", [
            "name": "uncore", "energy_uj": "200000", "max_energy_range_uj": maxRange,
        ])
        try tree.write(in: "\(device)/intel-rapl:1", [
            "name": "psys", "energy_uj": "3000000", "max_energy_range_uj": "262143328850",
        ])
        try tree.link("class/powercap/intel-rapl", to: "../../\(device)")
        try tree.link("class/powercap/intel-rapl:0", to: "../../\(device)/intel-rapl:0")
        try tree.link("class/powercap/intel-rapl:0:0", to: "../../\(device)/intel-rapl:0/intel-rapl:0:0")
        try tree.link("class/powercap/intel-rapl:0:1", to: "../../\(device)/intel-rapl:0/intel-rapl:0:1")
        try tree.link("class/powercap/intel-rapl:1", to: "../../\(device)/intel-rapl:1")
        return tree
    }

    @Test func zenLayoutGivesEachZoneOnceWithItsScope() throws {
        let tree = try Self.zenTree()
        let source = try #require(try RAPLSource.detect(root: tree.path("class/powercap")))
        #expect(source.method == .rapl)
        #expect(source.channels.map(\.id) == ["rapl:package-0", "rapl:package-0/core", "rapl:package-0/uncore", "rapl:psys"])
        #expect(source.channels.map(\.scope) == [.cpuPackage, .cpuCores, .cpuUncore, .platform])
        #expect(!source.channels.contains { $0.scope == .dram })
        for channel in source.channels {
            #expect(channel.method == .rapl)
            #expect(channel.kind == .energyCounter)
            #expect(channel.quality == .inBandCounter)
            #expect(channel.resolution == 1e-6)
            #expect(channel.updateIntervalSeconds == 0.001)
        }
        #expect(source.channels[1].detail.contains("intel-rapl:0:0 (core of package-0)"))
        #expect(source.channels[0].detail.contains("65712999613"))
    }

    @Test func nestedLayoutAloneIsFound() throws {
        // Only the control-type directory: zones reachable through intel-rapl/intel-rapl:N/intel-rapl:N:M.
        let tree = try Self.zenTree()
        for zone in ["intel-rapl:0", "intel-rapl:0:0", "intel-rapl:0:1", "intel-rapl:1"] {
            try tree.remove("class/powercap/\(zone)")
        }
        let source = try #require(try RAPLSource.detect(root: tree.path("class/powercap")))
        #expect(source.channels.map(\.id) == ["rapl:package-0", "rapl:package-0/core", "rapl:package-0/uncore", "rapl:psys"])
    }

    @Test func twoSocketIntelServerWithDram() throws {
        // Plain directories side by side (no symlinks): a subzone's parent comes from its name.
        let tree = try FakeSysfsTree()
        for socket in 0..<2 {
            try tree.write(in: "intel-rapl:\(socket)", [
                "name": "package-\(socket)", "energy_uj": "\(socket + 1)000", "max_energy_range_uj": "262143328850",
            ])
            try tree.write(in: "intel-rapl:\(socket):0", [
                "name": "dram", "energy_uj": "5", "max_energy_range_uj": "65712999613",
            ])
        }
        // A second view of package-0 on Intel client parts; not read.
        try tree.write(in: "intel-rapl-mmio:0", ["name": "package-0", "energy_uj": "1", "max_energy_range_uj": "1"])
        let source = try #require(try RAPLSource.detect(root: tree.root))
        #expect(source.channels.map(\.id) == ["rapl:package-0", "rapl:package-0/dram", "rapl:package-1", "rapl:package-1/dram"])
        #expect(source.channels.map(\.scope) == [.cpuPackage, .dram, .cpuPackage, .dram])
    }

    @Test func readsRawCountersWithTheirWrapPoint() throws {
        let tree = try Self.zenTree()
        let source = try #require(try RAPLSource.detect(root: tree.path("class/powercap")))
        let clock = TickingPowerClock()
        let first = try source.read(clock: clock)
        #expect(first.map(\.channel) == source.channels.map(\.id))
        #expect(first[0].value == .counter(raw: 1_000_000, joulesPerUnit: 1e-6, wrapsAt: 65_712_999_614))
        #expect(first[3].value == .counter(raw: 3_000_000, joulesPerUnit: 1e-6, wrapsAt: 262_143_328_851))
        #expect(first.map(\.time) == first.map(\.time).sorted() && first[0].time > 100)

        // package-0 goes round: raw is below the last reading; the wrap point is what PowerWindow uses.
        let device = "devices/virtual/powercap/intel-rapl"
        try tree.write("\(device)/intel-rapl:0/energy_uj", "65712000000")
        #expect(try source.read(clock: clock)[0].value == .counter(raw: 65_712_000_000, joulesPerUnit: 1e-6, wrapsAt: 65_712_999_614))
        try tree.write("\(device)/intel-rapl:0/energy_uj", "4242")
        let wrapped = try source.read(clock: clock)
        #expect(wrapped[0].value == .counter(raw: 4242, joulesPerUnit: 1e-6, wrapsAt: 65_712_999_614))
        #expect(wrapped[1].value == .counter(raw: 600_000, joulesPerUnit: 1e-6, wrapsAt: 65_712_999_614))
    }

    /// A live PowerWindow over the fake tree: package-0's counter wraps in the middle of the window and
    /// the sampler's reads between the edges carry the energy across the wrap; a zone that did not move
    /// gives 0 J, not a wrap.
    @Test func windowOverAFakeTreeHandlesAWrapMidWindow() throws {
        let tree = try Self.zenTree()
        let source = try #require(try RAPLSource.detect(root: tree.path("class/powercap")))
        let window = PowerWindow(sources: [source], sampleIntervalSeconds: 0.01)
        let device = "devices/virtual/powercap/intel-rapl"
        window.begin()
        Thread.sleep(forTimeInterval: 0.05)
        try tree.write("\(device)/intel-rapl:0/energy_uj", "65712000000")
        Thread.sleep(forTimeInterval: 0.1)
        try tree.write("\(device)/intel-rapl:0/energy_uj", "4242")
        Thread.sleep(forTimeInterval: 0.1)
        let result = window.end()
        let package = try #require(result.channels.first { $0.channel.id == "rapl:package-0" })
        #expect(package.wraps == 1)
        let expected = Double(65_712_000_000 - 1_000_000 + 65_712_999_614 - 65_712_000_000 + 4242) * 1e-6
        #expect(abs(package.joules! - expected) < 1e-6, "\(package.joules!) vs \(expected)")
        #expect(package.gaps.isEmpty)
        let core = try #require(result.channels.first { $0.channel.id == "rapl:package-0/core" })
        #expect(core.joules == 0 && core.wraps == 0)
    }

    @Test func thirtyTwoBitStyleRange() throws {
        // A counter exposed with its raw 32-bit range: wraps at 2^32.
        let tree = try Self.zenTree(maxRange: "4294967295")
        let source = try #require(try RAPLSource.detect(root: tree.path("class/powercap")))
        try tree.write("devices/virtual/powercap/intel-rapl/intel-rapl:0/intel-rapl:0:0/energy_uj", "4294967295")
        #expect(try source.read(clock: TickingPowerClock())[1].value == .counter(raw: 4_294_967_295, joulesPerUnit: 1e-6, wrapsAt: 1 << 32))
        try tree.write("devices/virtual/powercap/intel-rapl/intel-rapl:0/intel-rapl:0:0/energy_uj", "17")
        #expect(try source.read(clock: TickingPowerClock())[1].value == .counter(raw: 17, joulesPerUnit: 1e-6, wrapsAt: 1 << 32))
    }

    @Test func unusableMaxRangeMeansNoWrapPointAndSaysSo() throws {
        let tree = try Self.zenTree()
        try tree.write("devices/virtual/powercap/intel-rapl/intel-rapl:1/max_energy_range_uj", "lots")
        try tree.remove("devices/virtual/powercap/intel-rapl/intel-rapl:0/max_energy_range_uj")
        let source = try #require(try RAPLSource.detect(root: tree.path("class/powercap")))
        let readings = try source.read(clock: TickingPowerClock())
        #expect(readings[0].value == .counter(raw: 1_000_000, joulesPerUnit: 1e-6, wrapsAt: nil))
        #expect(readings[3].value == .counter(raw: 3_000_000, joulesPerUnit: 1e-6, wrapsAt: nil))
        #expect(source.channels[0].detail.contains("max_energy_range_uj unusable"))
        #expect(source.channels[3].detail.contains("'lots' is not an unsigned integer"))
    }

    @Test func malformedOrMissingCountersAreFaultsNotFailures() throws {
        let tree = try Self.zenTree()
        let device = "devices/virtual/powercap/intel-rapl"
        try tree.write("\(device)/intel-rapl:0/energy_uj", "abc")
        try tree.write("\(device)/intel-rapl:0/intel-rapl:0:0/energy_uj", "", newline: false)
        let source = try #require(try RAPLSource.detect(root: tree.path("class/powercap")))
        #expect(source.channels.count == 4)
        try tree.remove("\(device)/intel-rapl:0/intel-rapl:0:1/energy_uj")
        let readings = try source.read(clock: TickingPowerClock())
        guard case .fault(let garbage) = readings[0].value, case .fault(let empty) = readings[1].value,
            case .fault(let missing) = readings[2].value
        else {
            Issue.record("expected three faults, got \(readings.map(\.value))")
            return
        }
        #expect(garbage.contains("intel-rapl:0/energy_uj") && garbage.contains("'abc' is not an unsigned integer"))
        #expect(empty.contains("empty content"))
        #expect(missing.contains("intel-rapl:0:1/energy_uj") && missing.contains("No such file"))
        #expect(readings[3].value == .counter(raw: 3_000_000, joulesPerUnit: 1e-6, wrapsAt: 262_143_328_851))
    }

    // Tests may run as root, for whom a mode-000 file still reads: skipped where nothing refuses root.
    @Test(.enabled(if: FakeSysfsTree.canMakeUnreadable))
    func rootOnlyCounterIsPermissionDeniedWithTheFix() throws {
        let tree = try Self.zenTree()
        let root = tree.path("class/powercap")
        let counter = "devices/virtual/powercap/intel-rapl/intel-rapl:0/intel-rapl:0:0/energy_uj"
        #expect(try tree.makeUnreadable(counter))
        let error = #expect(throws: PowerError.self) { try RAPLSource.detect(root: root) }
        #expect(error?.code == .permissionDenied && error?.source == "rapl")
        let message = error?.message ?? ""
        #expect(message.contains("intel-rapl:0:0/energy_uj") && message.contains("CVE-2020-8694"))
        #expect(message.contains("sudo chmod o+r \(root)/intel-rapl:*/energy_uj") && message.contains("udev"))
    }

    @Test(.enabled(if: FakeSysfsTree.canMakeUnreadable))
    func counterThatBecomesUnreadableIsAFaultWithTheFix() throws {
        let tree = try Self.zenTree()
        let source = try #require(try RAPLSource.detect(root: tree.path("class/powercap")))
        #expect(try tree.makeUnreadable("devices/virtual/powercap/intel-rapl/intel-rapl:1/energy_uj"))
        guard case .fault(let message) = try source.read(clock: TickingPowerClock())[3].value else {
            Issue.record("expected a fault")
            return
        }
        #expect(message.contains("chmod o+r"))
    }

    @Test func zoneWithoutCounterOrNameIsNotAChannel() throws {
        let tree = try Self.zenTree()
        try tree.remove("devices/virtual/powercap/intel-rapl/intel-rapl:1/energy_uj")
        try tree.remove("devices/virtual/powercap/intel-rapl/intel-rapl:0/intel-rapl:0:1/name")
        let source = try #require(try RAPLSource.detect(root: tree.path("class/powercap")))
        #expect(source.channels.map(\.id) == ["rapl:package-0", "rapl:package-0/core"])
    }

    @Test func absentPowercapIsNil() throws {
        let tree = try FakeSysfsTree()
        #expect(try RAPLSource.detect(root: tree.root) == nil)
        #expect(try RAPLSource.detect(root: tree.path("no/such/dir")) == nil)
        try tree.write("not-a-dir", "x")
        #expect(try RAPLSource.detect(root: tree.path("not-a-dir")) == nil)
        // Another powercap control type only (a DTPM tree on an ARM board).
        try tree.write(in: "dtpm/dtpm:0", ["name": "soc", "power_uw": "1"])
        #expect(try RAPLSource.detect(root: tree.root) == nil)
    }

    @Test func unknownZoneNameIsOther() {
        #expect(RAPLSource.scope(forZoneName: "package-1-die-0") == .cpuPackage)
        #expect(RAPLSource.scope(forZoneName: "gpu") == .other)
        #expect(RAPLSource.parentZone(of: "intel-rapl:0:1") == "intel-rapl:0")
        #expect(RAPLSource.parentZone(of: "intel-rapl:1") == nil)
    }
}
