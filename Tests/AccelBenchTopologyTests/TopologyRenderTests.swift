import Foundation
import Testing

@testable import AccelBenchTopology

@Suite struct TopologyRenderTests {
    @Test func jsonRoundTrips() throws {
        for path in [Fixture.accelerators, Fixture.twoPackages] {
            let topology = try Topology.load(xmlFile: path)
            let json = try topology.renderJSON()
            let decoded = try JSONDecoder().decode(Topology.self, from: Data(json.utf8))
            #expect(decoded == topology)
        }
    }

    @Test func jsonIsSortedAndPretty() throws {
        let json = try Topology.load(xmlFile: Fixture.accelerators).renderJSON()
        #expect(json.contains("\n  \"accelerators\" : ["))
        #expect(json.contains("\"memorySource\" : \"hwloc\""))
        #expect(json.contains("\"classID\" : 770"))  // 0x0302
        let keys = json.split(separator: "\n").filter { $0.hasPrefix("  \"") }.map { $0.split(separator: "\"")[1] }
        #expect(keys == keys.sorted())
        #expect(keys.first == "accelerators")
    }

    @Test func osMemorySourceEncodesWithoutEscapes() throws {
        var topology = try Topology.load(xmlFile: Fixture.twoPackages)
        topology.memorySource = .procMeminfo
        #expect(try topology.renderJSON().contains("\"memorySource\" : \"os:/proc/meminfo\""))
    }

    @Test func tableOfTheAcceleratorFixture() throws {
        let table = try Topology.load(xmlFile: Fixture.accelerators).renderTable()
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines.first == "CPU           AMD EPYC (AuthenticAMD, x86_64)")
        #expect(lines.contains("Topology      1 package, 2 cores, 2 PUs (1 PU per core)"))
        #expect(lines.contains("Caches        L1d  32 KiB  x2  per core  (line 64 B, 8-way)"))
        #expect(lines.contains("              L3   32 MiB  x1  shared by 2 cores  (line 64 B, 16-way)"))
        #expect(table.contains("NUMA nodes    node 0: PUs 0-1, 4.3 GiB (hwloc)"))
        #expect(table.contains("Memory        4.3 GiB (hwloc); hwloc says 4.3 GiB"))
        #expect(table.contains("Accelerators  0000:18:00.0  [10de:2330] 3D controller  NVIDIA Corporation GH100 [H100 SXM5 80GB]"))
        #expect(table.contains("osdev: cuda0 (CUDA), nvml0 (NVML)"))
        #expect(table.contains("0000:81:00.0  [19e5:d801] processing accelerator"))
        #expect(table.contains("hwloc         \(Topology.hwlocLibraryVersion) (API \(Topology.hwlocAPIVersion)), source: xml exported by hwloc 2.9.0"))
    }

    @Test func tableSaysWhenNoAcceleratorIsFound() throws {
        let table = try Topology.load(xmlFile: Fixture.twoPackages).renderTable()
        #expect(table.contains("Accelerators  none found (PCI classes 0x0302/0x0380/0x1200/0x0300)"))
        #expect(table.contains("2 packages, 8 cores, 16 PUs (2 PUs per core)"))
        #expect(table.contains("L3   32 MiB  x2  shared by 4 cores  (line 64 B)"))
        #expect(table.contains("node 1: PUs 8-15, 16 GiB (hwloc)"))
    }

    @Test(arguments: [
        (0, "0 B"), (512, "512 B"), (32 * 1024, "32 KiB"), (1536, "1.5 KiB"), (4_657_541_120, "4.3 GiB"),
    ])
    func bytesFormat(bytes: Int, text: String) {
        #expect(formatBytes(bytes) == text)
    }

    @Test func rangesFormat() {
        #expect(formatRanges([0, 1, 2, 3, 8, 10, 11]) == "0-3,8,10-11")
        #expect(formatRanges([5]) == "5")
        #expect(formatRanges([]) == "none")
    }
}
