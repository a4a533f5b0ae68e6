/// What a machine is made of, as hwloc (and, for memory, the OS) describes it.
///
/// Built by `Topology.detect()` for this machine or `Topology.load(xmlFile:)` / `load(xml:)` for a
/// machine described by an hwloc XML export (`lstopo --of xml`). A plain value: no hwloc handle is
/// kept, so it can be stored in records, compared and encoded. Binding threads needs a live handle:
/// see `TopologyBinder`.
public struct Topology: Codable, Sendable, Equatable {
    /// Where the description came from.
    public enum Source: String, Codable, Sendable {
        /// Discovered on the running machine.
        case detected
        /// Read from an hwloc XML description (possibly of another machine).
        case xml
    }

    /// Where `memoryBytes` came from.
    public enum MemorySource: String, Codable, Sendable {
        /// `MemTotal` of /proc/meminfo: what the kernel can hand out.
        case procMeminfo = "os:/proc/meminfo"
        /// The sum of hwloc's NUMA node memory (the only figure an XML description carries).
        case hwloc = "hwloc"
    }

    /// One physical core and the hardware threads (PUs) it runs.
    public struct Core: Codable, Sendable, Equatable {
        /// hwloc logical index (0..<coreCount, in topology order); `TopologyBinder` uses this index.
        public var logicalIndex: Int
        /// The OS's core id (not unique across packages on Linux); nil when hwloc does not know it.
        public var osIndex: Int?
        /// Logical index of the package holding this core; nil when hwloc reports no packages.
        public var packageIndex: Int?
        /// OS indexes of the core's PUs (what `taskset`/`sched_setaffinity` call CPUs).
        public var puOSIndexes: [Int]

        public init(logicalIndex: Int, osIndex: Int?, packageIndex: Int?, puOSIndexes: [Int]) {
            self.logicalIndex = logicalIndex
            self.osIndex = osIndex
            self.packageIndex = packageIndex
            self.puOSIndexes = puOSIndexes
        }
    }

    public enum CacheType: String, Codable, Sendable {
        case data, instruction, unified
    }

    /// One kind of cache: all instances at a level with the same type, size, geometry and sharing.
    /// A hybrid CPU with two L2 sizes yields two entries for level 2.
    public struct Cache: Codable, Sendable, Equatable {
        public var level: Int
        public var type: CacheType
        /// Size of one instance.
        public var sizeBytes: Int
        public var lineSizeBytes: Int?
        /// Number of ways; nil when unknown or when the cache is fully associative.
        public var ways: Int?
        public var isFullyAssociative: Bool
        /// How many instances of this cache the machine has.
        public var instanceCount: Int
        /// How many physical cores share one instance.
        public var coresPerInstance: Int

        public init(
            level: Int, type: CacheType, sizeBytes: Int, lineSizeBytes: Int?, ways: Int?,
            isFullyAssociative: Bool, instanceCount: Int, coresPerInstance: Int
        ) {
            self.level = level
            self.type = type
            self.sizeBytes = sizeBytes
            self.lineSizeBytes = lineSizeBytes
            self.ways = ways
            self.isFullyAssociative = isFullyAssociative
            self.instanceCount = instanceCount
            self.coresPerInstance = coresPerInstance
        }

        /// "L1d", "L1i", "L2", ...
        public var name: String {
            switch type {
            case .data: return "L\(level)d"
            case .instruction: return "L\(level)i"
            case .unified: return "L\(level)"
            }
        }

        /// Size of all instances together.
        public var totalBytes: Int { sizeBytes * instanceCount }
    }

    /// A NUMA node. Its memory is hwloc's figure, which can be wrong (see `memoryNote`).
    public struct NUMANode: Codable, Sendable, Equatable {
        public var osIndex: Int?
        /// OS indexes of the PUs local to this node.
        public var puOSIndexes: [Int]
        /// hwloc's `local_memory` for this node (on Linux read from sysfs node meminfo).
        public var hwlocMemoryBytes: Int
        /// How far `hwlocMemoryBytes` can be trusted, in words.
        public var memoryNote: String

        public init(osIndex: Int?, puOSIndexes: [Int], hwlocMemoryBytes: Int, memoryNote: String) {
            self.osIndex = osIndex
            self.puOSIndexes = puOSIndexes
            self.hwlocMemoryBytes = hwlocMemoryBytes
            self.memoryNote = memoryNote
        }
    }

    /// An OS device hwloc attached to a PCI device ("cuda0", "nvml0", "card1", "opencl0d0", ...).
    public struct OSDevice: Codable, Sendable, Equatable {
        public var name: String
        /// hwloc's OS device type: "gpu", "coproc", "block", "network", "openfabrics", "dma".
        public var type: String
        /// hwloc's subtype, e.g. "CUDA", "NVML", "OpenCL", "RSMI", "LevelZero"; nil when none.
        public var subtype: String?
        /// hwloc info attributes (GPUModel, CUDAGlobalMemorySize in KiB, ...).
        public var infos: [String: String]

        public init(name: String, type: String, subtype: String?, infos: [String: String]) {
            self.name = name
            self.type = type
            self.subtype = subtype
            self.infos = infos
        }
    }

    /// A PCI device whose class suggests a compute device (see `acceleratorPCIClasses`).
    public struct PCIDevice: Codable, Sendable, Equatable {
        /// "domain:bus:dev.func", e.g. "0000:18:00.0".
        public var busID: String
        public var vendorID: Int
        public var deviceID: Int
        /// PCI class and subclass, e.g. 0x0302.
        public var classID: Int
        /// From pci.ids through hwloc; nil when hwloc was built without it or the id is unknown.
        public var vendorName: String?
        public var deviceName: String?
        /// Negotiated link bandwidth hwloc reports, in GB/s; nil when unknown (VMs, XML without it).
        public var linkGigabytesPerSecond: Double?
        public var osDevices: [OSDevice]

        public init(
            busID: String, vendorID: Int, deviceID: Int, classID: Int, vendorName: String?,
            deviceName: String?, linkGigabytesPerSecond: Double?, osDevices: [OSDevice]
        ) {
            self.busID = busID
            self.vendorID = vendorID
            self.deviceID = deviceID
            self.classID = classID
            self.vendorName = vendorName
            self.deviceName = deviceName
            self.linkGigabytesPerSecond = linkGigabytesPerSecond
            self.osDevices = osDevices
        }

        /// "10de:2330"
        public var pciID: String { hex4(vendorID) + ":" + hex4(deviceID) }

        /// "3D controller", "processing accelerator", ...
        public var className: String { Topology.pciClassName(classID) }
    }

    /// PCI classes reported as accelerators: 3D controller, display (other), processing accelerator,
    /// and VGA (a GPU that also drives a display).
    public static let acceleratorPCIClasses: [Int] = [0x0302, 0x0380, 0x1200, 0x0300]

    public static func pciClassName(_ classID: Int) -> String {
        switch classID {
        case 0x0300: return "VGA controller"
        case 0x0302: return "3D controller"
        case 0x0380: return "display controller"
        case 0x1200: return "processing accelerator"
        default: return "class 0x" + hex4(classID)
        }
    }

    public var source: Source
    /// Release of the hwloc this module was built against ("2.9.0", HWLOC_VERSION; Debian ships the
    /// library and its headers from one source package, so it is also the running library's).
    public var hwlocVersion: String
    /// API level of the running library from `hwloc_get_api_version()` ("2.8.0" for hwloc 2.9.0:
    /// the API version only moves when the API changes, so it lags the release).
    public var hwlocAPIVersion: String
    /// Release of the hwloc that discovered the machine (the running one for `detect()`, the
    /// exporting one for XML); nil when the XML does not say.
    public var describedByHwlocVersion: String?
    /// Brand string (hwloc's CPUModel, else /proc/cpuinfo "model name"); nil when unknown.
    public var cpuModel: String?
    public var cpuVendor: String?
    /// hwloc's Architecture info ("x86_64", "aarch64"); nil when the description lacks it.
    public var architecture: String?
    /// Sockets as hwloc counts them (0 if hwloc found no package objects).
    public var packageCount: Int
    /// Physical cores; equals `cores.count`.
    public var coreCount: Int
    /// Hardware threads (hwloc PUs, logical CPUs).
    public var puCount: Int
    public var cores: [Core]
    /// Ordered by level, then data/instruction/unified.
    public var caches: [Cache]
    public var numaNodes: [NUMANode]
    /// Total memory: /proc/meminfo MemTotal when detected on Linux, hwloc's NUMA total for XML.
    public var memoryBytes: Int
    public var memorySource: MemorySource
    /// hwloc's own total (sum of NUMA node memory), kept next to `memoryBytes` whatever its source.
    public var hwlocMemoryBytes: Int
    public var accelerators: [PCIDevice]

    public init(
        source: Source, hwlocVersion: String, hwlocAPIVersion: String, describedByHwlocVersion: String?,
        cpuModel: String?, cpuVendor: String?,
        architecture: String?, packageCount: Int, puCount: Int, cores: [Core], caches: [Cache],
        numaNodes: [NUMANode], memoryBytes: Int, memorySource: MemorySource, hwlocMemoryBytes: Int,
        accelerators: [PCIDevice]
    ) {
        self.source = source
        self.hwlocVersion = hwlocVersion
        self.hwlocAPIVersion = hwlocAPIVersion
        self.describedByHwlocVersion = describedByHwlocVersion
        self.cpuModel = cpuModel
        self.cpuVendor = cpuVendor
        self.architecture = architecture
        self.packageCount = packageCount
        self.coreCount = cores.count
        self.puCount = puCount
        self.cores = cores
        self.caches = caches
        self.numaNodes = numaNodes
        self.memoryBytes = memoryBytes
        self.memorySource = memorySource
        self.hwlocMemoryBytes = hwlocMemoryBytes
        self.accelerators = accelerators
    }
}

// MARK: - Helpers for the rest of the harness

extension Topology {
    /// Physical cores (not hardware threads): the default thread count for compute-bound kernels.
    public var physicalCoreCount: Int { coreCount }

    /// Per-instance size of the largest data or unified cache at `level`; nil when there is none.
    /// (On a hybrid CPU with two sizes at one level, the larger one.)
    public func cacheBytes(level: Int) -> Int? {
        caches.filter { $0.level == level && $0.type != .instruction }.map(\.sizeBytes).max()
    }

    /// Highest level holding a data or unified cache; nil when hwloc reports no caches.
    public var lastLevelCacheLevel: Int? {
        caches.filter { $0.type != .instruction }.map(\.level).max()
    }

    /// Total last-level cache of the machine: all instances of the highest data/unified level
    /// added up (2 packages x 32 MiB L3 -> 64 MiB). A buffer meant to miss every cache while all
    /// cores run must be larger than this. 0 when hwloc reports no caches. Per-instance size:
    /// `cacheBytes(level: lastLevelCacheLevel!)`.
    public var lastLevelCacheBytes: Int {
        guard let level = lastLevelCacheLevel else { return 0 }
        return caches.filter { $0.level == level && $0.type != .instruction }
            .reduce(0) { $0 + $1.totalBytes }
    }

    /// PUs per core when uniform (2 with SMT, 1 without); nil on a machine mixing both.
    public var threadsPerCore: Int? {
        let counts = Set(cores.map(\.puOSIndexes.count))
        return counts.count == 1 ? counts.first : nil
    }
}

func hex4(_ value: Int) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}
