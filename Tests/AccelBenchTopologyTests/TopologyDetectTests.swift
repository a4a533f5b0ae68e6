import Foundation
import Testing

@testable import AccelBenchTopology

@Suite struct TopologyDetectTests {
    @Test func detectsThisMachine() throws {
        let topology = try Topology.detect()
        #expect(topology.source == .detected)
        #expect(topology.coreCount >= 1)
        #expect(topology.puCount >= topology.coreCount)
        #expect(topology.packageCount >= 1)
        #expect(topology.cores.allSatisfy { !$0.puOSIndexes.isEmpty })
        #expect(topology.memoryBytes > 0)
        #expect(topology.hwlocVersion.hasPrefix("2."))
        #expect(topology.hwlocAPIVersion.hasPrefix("2."))
        // The running library adds its release to a discovered topology; it must match the headers.
        #expect(topology.describedByHwlocVersion == topology.hwlocVersion)
        #if os(Linux)
            #expect(topology.memorySource == .procMeminfo)
            #expect(topology.memoryBytes == (try Topology.totalMemoryBytes()))
        #endif
        #expect(topology.numaNodes.allSatisfy { !$0.memoryNote.isEmpty })
    }

    #if os(Linux)
        @Test func availableMemoryIsReadFromProc() throws {
            let available = try Topology.availableMemoryBytes()
            #expect(available > 0)
            #expect(available <= (try Topology.totalMemoryBytes()))
        }
    #endif

    @Test func availableMemoryFromAMeminfoFile() throws {
        #expect(try Topology.availableMemoryBytes(meminfoPath: Fixture.meminfo) == 24_374_172 * 1024)
        #expect(try Topology.totalMemoryBytes(meminfoPath: Fixture.meminfo) == 24_683_652 * 1024)
    }

    @Test func meminfoWithoutTheFieldIsAnError() {
        let info = MemInfo(parsing: "MemTotal:  1024 kB\nHugePages_Total:  0\n")
        #expect(info.fieldsBytes == ["MemTotal": 1024 * 1024, "HugePages_Total": 0])
        let error = #expect(throws: TopologyError.self) { try info.bytes("MemAvailable", path: "x") }
        #expect(error?.code == .memInfoUnreadable)
    }

    @Test func missingMeminfoIsAnError() {
        let error = #expect(throws: TopologyError.self) {
            try Topology.availableMemoryBytes(meminfoPath: "/nonexistent/meminfo")
        }
        #expect(error?.code == .memInfoUnreadable)
    }
}
