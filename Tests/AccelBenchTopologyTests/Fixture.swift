import Foundation

/// Files under Tests/AccelBenchTopologyTests/Fixtures (copied as a resource folder).
enum Fixture {
    /// This 2-core AMD EPYC microVM (`lstopo --of xml --whole-io`) plus two hand-added host bridges:
    /// an NVIDIA H100 (class 0x0302, 0000:18:00.0 behind a PCI bridge, osdevs cuda0 + nvml0) and a
    /// Huawei Ascend 910 (class 0x1200, 0000:81:00.0, no osdev).
    static let accelerators = path("this-machine-plus-accelerators.xml")
    /// Synthetic 2 packages x (1 NUMA node of 16 GiB, 32 MiB L3, 4 cores x 2 PUs), CPUModel added by hand.
    static let twoPackages = path("synthetic-2pkg-2numa.xml")
    /// An XML file cut off inside the first object.
    static let truncated = path("truncated.xml")
    /// The first lines of a /proc/meminfo.
    static let meminfo = path("meminfo-sample.txt")

    static func path(_ name: String) -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
            fatalError("fixture \(name) missing from the test bundle")
        }
        return url.path
    }
}

let KiB = 1024
let MiB = 1024 * KiB
let GiB = 1024 * MiB
