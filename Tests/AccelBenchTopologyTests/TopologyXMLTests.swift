import Foundation
import Testing

@testable import AccelBenchTopology

@Suite struct TopologyXMLTests {
    @Test func countsOfTheMicroVMFixture() throws {
        let topology = try Topology.load(xmlFile: Fixture.accelerators)
        #expect(topology.source == .xml)
        #expect(topology.packageCount == 1)
        #expect(topology.coreCount == 2)
        #expect(topology.physicalCoreCount == 2)
        #expect(topology.puCount == 2)
        #expect(topology.threadsPerCore == 1)
        #expect(topology.cores.map(\.puOSIndexes) == [[0], [1]])
        #expect(topology.cores.map(\.packageIndex) == [0, 0])
        #expect(topology.cpuModel == "AMD EPYC")
        #expect(topology.cpuVendor == "AuthenticAMD")
        #expect(topology.architecture == "x86_64")
        #expect(topology.hwlocVersion == Topology.hwlocLibraryVersion)
        #expect(topology.hwlocAPIVersion == Topology.hwlocAPIVersion)
        #expect(topology.describedByHwlocVersion == "2.9.0")  // the lstopo that exported the fixture
    }

    @Test func cachesOfTheMicroVMFixture() throws {
        let topology = try Topology.load(xmlFile: Fixture.accelerators)
        let summary = topology.caches.map { "\($0.name) \($0.sizeBytes / KiB)K x\($0.instanceCount) /\($0.coresPerInstance)" }
        #expect(summary == ["L1d 32K x2 /1", "L1i 32K x2 /1", "L2 1024K x2 /1", "L3 32768K x1 /2"])
        let l1d = try #require(topology.caches.first)
        #expect(l1d.type == .data)
        #expect(l1d.lineSizeBytes == 64)
        #expect(l1d.ways == 8)
        #expect(!l1d.isFullyAssociative)
        #expect(topology.cacheBytes(level: 1) == 32 * KiB)
        #expect(topology.cacheBytes(level: 2) == 1 * MiB)
        #expect(topology.cacheBytes(level: 3) == 32 * MiB)
        #expect(topology.cacheBytes(level: 4) == nil)
        #expect(topology.lastLevelCacheLevel == 3)
        #expect(topology.lastLevelCacheBytes == 32 * MiB)
    }

    @Test func xmlMemoryIsHwlocsAndLabelled() throws {
        let topology = try Topology.load(xmlFile: Fixture.accelerators)
        #expect(topology.memorySource == .hwloc)
        #expect(topology.memoryBytes == 4_657_541_120)
        #expect(topology.hwlocMemoryBytes == 4_657_541_120)
        let node = try #require(topology.numaNodes.first)
        #expect(topology.numaNodes.count == 1)
        #expect(node.osIndex == 0)
        #expect(node.puOSIndexes == [0, 1])
        #expect(node.hwlocMemoryBytes == 4_657_541_120)
        #expect(node.memoryNote.contains("XML"))
    }

    @Test func acceleratorsAreFoundWithClassIDsAndOSDevices() throws {
        let topology = try Topology.load(xmlFile: Fixture.accelerators)
        // Storage (0x0180), Ethernet (0x0200) and the host bridge device (0x0600) are not accelerators.
        #expect(topology.accelerators.map(\.busID) == ["0000:18:00.0", "0000:81:00.0"])

        let gpu = topology.accelerators[0]
        #expect(gpu.classID == 0x0302)
        #expect(gpu.vendorID == 0x10de)
        #expect(gpu.deviceID == 0x2330)
        #expect(gpu.pciID == "10de:2330")
        #expect(gpu.className == "3D controller")
        #expect(gpu.vendorName == "NVIDIA Corporation")
        #expect(gpu.deviceName == "GH100 [H100 SXM5 80GB]")
        #expect(abs((gpu.linkGigabytesPerSecond ?? 0) - 63.015) < 0.01)
        #expect(gpu.osDevices.map(\.name) == ["cuda0", "nvml0"])
        #expect(gpu.osDevices.map(\.type) == ["coproc", "gpu"])
        #expect(gpu.osDevices.map(\.subtype) == ["CUDA", "NVML"])
        #expect(gpu.osDevices[0].infos["GPUModel"] == "NVIDIA H100 80GB HBM3")

        let npu = topology.accelerators[1]
        #expect(npu.classID == 0x1200)
        #expect(npu.vendorID == 0x19e5)
        #expect(npu.deviceID == 0xd801)
        #expect(npu.className == "processing accelerator")
        #expect(npu.deviceName == "Ascend 910")
        #expect(npu.osDevices.isEmpty)
    }

    @Test func twoPackagesTwoNUMANodes() throws {
        let topology = try Topology.load(xmlFile: Fixture.twoPackages)
        #expect(topology.packageCount == 2)
        #expect(topology.coreCount == 8)
        #expect(topology.puCount == 16)
        #expect(topology.threadsPerCore == 2)
        #expect(topology.cores[5].puOSIndexes == [10, 11])
        #expect(topology.cores.map(\.packageIndex) == [0, 0, 0, 0, 1, 1, 1, 1])
        #expect(topology.cpuModel == "Intel(R) Xeon(R) Gold 6448Y")
        #expect(topology.numaNodes.map(\.osIndex) == [0, 1])
        #expect(topology.numaNodes.map(\.puOSIndexes) == [Array(0...7), Array(8...15)])
        #expect(topology.numaNodes.map(\.hwlocMemoryBytes) == [16 * GiB, 16 * GiB])
        #expect(topology.memoryBytes == 32 * GiB)

        let l3 = try #require(topology.caches.last)
        #expect(l3.name == "L3")
        #expect(l3.instanceCount == 2)
        #expect(l3.coresPerInstance == 4)
        #expect(l3.ways == nil)  // a synthetic topology knows no associativity
        #expect(topology.cacheBytes(level: 1) == 48 * KiB)
        #expect(topology.cacheBytes(level: 2) == 2 * MiB)
        #expect(topology.cacheBytes(level: 3) == 32 * MiB)
        #expect(topology.lastLevelCacheBytes == 64 * MiB)  // both packages' L3 together
        #expect(topology.accelerators.isEmpty)
    }

    @Test func xmlTextGivesTheSameAsTheFile() throws {
        let text = try String(contentsOfFile: Fixture.accelerators, encoding: .utf8)
        #expect(try Topology.load(xml: text) == Topology.load(xmlFile: Fixture.accelerators))
    }

    @Test func missingFileSaysHowToMakeOne() {
        let path = "/nonexistent/machine.xml"
        let error = #expect(throws: TopologyError.self) { try Topology.load(xmlFile: path) }
        #expect(error?.code == .xmlFileNotFound)
        #expect(error?.message.contains(path) == true)
        #expect(error?.message.contains("lstopo --of xml") == true)
        #expect(error?.description.hasPrefix("[topology.xml_file_not_found]") == true)
    }

    @Test func directoryIsNotAnXMLFile() {
        let error = #expect(throws: TopologyError.self) { try Topology.load(xmlFile: NSTemporaryDirectory()) }
        #expect(error?.code == .xmlFileNotFound)
    }

    @Test func truncatedXMLIsRejected() {
        let error = #expect(throws: TopologyError.self) { try Topology.load(xmlFile: Fixture.truncated) }
        #expect(error?.code == .xmlInvalid)
        #expect(error?.message.contains("lstopo -i") == true)
    }

    @Test(arguments: ["", "not xml at all", "<?xml version=\"1.0\"?><html></html>"])
    func invalidXMLTextIsRejected(text: String) {
        let error = #expect(throws: TopologyError.self) { try Topology.load(xml: text) }
        #expect(error?.code == .xmlInvalid)
    }
}
