import Foundation
import Synchronization
import Testing
@testable import AccelBenchPower

@Suite struct EstimateSourceTests {
    struct Unavailable: Error, CustomStringConvertible {
        var description: String { "counter gone" }
    }

    @Test func wattsAreTDPTimesIdlePlusBusyShare() throws {
        let utilization = Mutex(0.5)
        let source = try EstimateSource(
            tdpWatts: 120, idleFraction: 0.3, utilization: { utilization.withLock { $0 } },
            basis: "CPU profile 'AMD EPYC 9004'")
        let clock = TickingPowerClock()
        // 120 · (0.3 + 0.7 · u)
        for (busy, watts) in [(0.5, 78.0), (0, 36), (1, 120), (1.7, 120), (-0.2, 36), (0.25, 57)] {
            utilization.withLock { $0 = busy }
            let readings = try source.read(clock: clock)
            #expect(readings.count == 1 && readings[0].channel == "estimate:cpu")
            guard case .watts(let value) = readings[0].value else {
                Issue.record("expected watts for utilization \(busy), got \(readings[0].value)")
                continue
            }
            #expect(abs(value - watts) < 1e-9, "utilization \(busy)")
        }
    }

    @Test func labelledAsAnEstimateWithItsBasis() throws {
        let source = try EstimateSource(tdpWatts: 120, idleFraction: 0.3, utilization: { 0 }, basis: "CPU profile 'AMD EPYC 9004'")
        #expect(source.method == .estimate)
        let channel = try #require(source.channels.first)
        #expect(source.channels.count == 1)
        #expect(channel.id == "estimate:cpu")
        #expect(channel.method == .estimate && channel.quality == .estimate)
        #expect(channel.kind == .sampledWatts && channel.scope == .cpuPackage)
        #expect(channel.detail == "TDP 120 W from CPU profile 'AMD EPYC 9004' x utilization (idle draw 30% of TDP); "
            + "estimated, not comparable with measurements")

        let board = try EstimateSource(
            tdpWatts: 72.5, idleFraction: 0.125, utilization: { 0 }, basis: "board profile 'NPU-X'", name: "npu0",
            scope: .acceleratorBoard)
        #expect(board.channels[0].id == "estimate:npu0" && board.channels[0].scope == .acceleratorBoard)
        #expect(board.channels[0].detail.hasPrefix("TDP 72.5 W from board profile 'NPU-X' x utilization (idle draw 12.5% of TDP)"))
    }

    @Test func badDeclarationsAreInvalidConfiguration() {
        for (tdp, idle) in [(0.0, 0.3), (-5, 0.3), (.nan, 0.3), (.infinity, 0.3), (100, 1.5), (100, -0.1), (100, .nan)] {
            let error = #expect(throws: PowerError.self) {
                try EstimateSource(tdpWatts: tdp, idleFraction: idle, utilization: { 0 }, basis: "test")
            }
            #expect(error?.code == .invalidConfiguration)
        }
    }

    @Test func unusableUtilizationIsAFault() throws {
        let nan = try EstimateSource(tdpWatts: 100, idleFraction: 0.2, utilization: { .nan }, basis: "test")
        guard case .fault(let message) = try nan.read(clock: TickingPowerClock())[0].value else {
            Issue.record("expected a fault")
            return
        }
        #expect(message.contains("not a number"))
        let failing = try EstimateSource(tdpWatts: 100, idleFraction: 0.2, utilization: { throw Unavailable() }, basis: "test")
        #expect(try failing.read(clock: TickingPowerClock())[0].value == .fault("estimate:cpu: utilization unavailable: counter gone"))
    }

    /// /proc/stat with the aggregate line and two per-CPU lines (which are ignored).
    static func writeStat(_ tree: FakeSysfsTree, user: Int, system: Int, idle: Int, iowait: Int, guest: Int = 0) throws {
        try tree.write("stat", """
            cpu  \(user) 0 \(system) \(idle) \(iowait) 0 0 0 \(guest) 0
            cpu0 1 2 3 4 5 6 7 8 9 10
            cpu1 1 2 3 4 5 6 7 8 9 10
            intr 12345 0 0
            ctxt 987654
            btime 1700000000
            """)
    }

    @Test func cpuEstimateFollowsProcStatDeltas() throws {
        let tree = try FakeSysfsTree()
        try Self.writeStat(tree, user: 1000, system: 500, idle: 8000, iowait: 500)
        let source = try EstimateSource.cpu(tdpWatts: 200, idleFraction: 0.25, basis: "CPU profile 'test'", procRoot: tree.root)
        #expect(source.channels[0].detail.contains("CPU utilization from \(tree.root)/stat"))
        #expect(source.channels[0].quality == .estimate)
        let clock = TickingPowerClock()

        // +30 busy (user 20, system 10; guest time is inside user already), +70 idle (60 idle, 10 iowait): 30%.
        try Self.writeStat(tree, user: 1020, system: 510, idle: 8060, iowait: 510, guest: 15)
        #expect(try source.read(clock: clock)[0].value == .watts(200 * (0.25 + 0.75 * 0.3)))
        // No jiffy since: the last figure again.
        #expect(try source.read(clock: clock)[0].value == .watts(200 * (0.25 + 0.75 * 0.3)))
        // Fully busy.
        try Self.writeStat(tree, user: 1120, system: 510, idle: 8060, iowait: 510, guest: 15)
        #expect(try source.read(clock: clock)[0].value == .watts(200))

        try tree.write("stat", "cpu  garbage")
        guard case .fault(let message) = try source.read(clock: clock)[0].value else {
            Issue.record("expected a fault")
            return
        }
        #expect(message.contains("cannot parse"))
        try tree.remove("stat")
        guard case .fault(let missing) = try source.read(clock: clock)[0].value else {
            Issue.record("expected a fault")
            return
        }
        #expect(missing.contains("No such file"))
    }

    @Test func cpuEstimateNeedsProcStat() throws {
        let tree = try FakeSysfsTree()
        let absent = #expect(throws: PowerError.self) {
            try EstimateSource.cpu(tdpWatts: 100, idleFraction: 0.3, basis: "test", procRoot: tree.root)
        }
        #expect(absent?.code == .unavailable)
        try tree.write("stat", "intr 1 2 3")
        let malformed = #expect(throws: PowerError.self) {
            try EstimateSource.cpu(tdpWatts: 100, idleFraction: 0.3, basis: "test", procRoot: tree.root)
        }
        #expect(malformed?.code == .malformed)
    }

    @Test func cpuEstimateOnThisMachine() throws {
        let source = try EstimateSource.cpu(tdpWatts: 100, idleFraction: 0.3, basis: "test")
        guard case .watts(let watts) = try source.read(clock: MonotonicPowerClock())[0].value else {
            Issue.record("expected watts from /proc/stat")
            return
        }
        #expect(watts >= 30 && watts <= 100)
    }
}
