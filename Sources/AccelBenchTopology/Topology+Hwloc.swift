import CHwloc
import Foundation

extension Topology {
    /// Describes the running machine: hwloc discovery with PCI devices, memory from /proc/meminfo.
    ///
    /// hwloc honours its environment variables (HWLOC_XMLFILE, HWLOC_SYNTHETIC, ...); when they
    /// make it describe another machine, memory comes from hwloc and `memorySource` says so.
    public static func detect() throws -> Topology {
        try HwlocHandle.withLoaded(.thisSystem(withIO: true)) { topology in
            let isThisSystem = hwloc_topology_is_thissystem(topology) != 0
            return read(
                topology, source: .detected,
                osMemoryBytes: isThisSystem ? try? Topology.totalMemoryBytes() : nil,
                fallbackCPUModel: isThisSystem ? cpuinfoModelName() : nil)
        }
    }

    /// Describes the machine in an hwloc XML file (`lstopo --of xml FILE`); memory is hwloc's figure.
    public static func load(xmlFile path: String) throws -> Topology {
        try HwlocHandle.withLoaded(.xmlFile(path)) { read($0, source: .xml, osMemoryBytes: nil, fallbackCPUModel: nil) }
    }

    /// Describes the machine in hwloc XML text; memory is hwloc's figure.
    public static func load(xml: String) throws -> Topology {
        try HwlocHandle.withLoaded(.xmlBuffer(xml)) { read($0, source: .xml, osMemoryBytes: nil, fallbackCPUModel: nil) }
    }

    /// "2.9.0": the hwloc release this module was built against (HWLOC_VERSION).
    public static var hwlocLibraryVersion: String { HWLOC_VERSION }

    /// "2.8.0": the API level of the running hwloc library (`hwloc_get_api_version()`).
    public static var hwlocAPIVersion: String {
        let version = hwloc_get_api_version()
        return "\(version >> 16).\((version >> 8) & 0xff).\(version & 0xff)"
    }
}

// MARK: - Reading a loaded hwloc topology

extension Topology {
    static func read(
        _ topology: hwloc_topology_t, source: Source, osMemoryBytes: Int?, fallbackCPUModel: String?
    ) -> Topology {
        let root = hwloc_get_root_obj(topology)!
        let packages = hwlocObjects(topology, HWLOC_OBJ_PACKAGE)
        let pus = hwlocObjects(topology, HWLOC_OBJ_PU)
        let hwlocTotal = Int(root.pointee.total_memory)

        let cpuModel = packages.lazy.compactMap { hwlocInfo($0, "CPUModel") }.first
            ?? hwlocInfo(root, "CPUModel") ?? fallbackCPUModel
        let cpuVendor = packages.lazy.compactMap { hwlocInfo($0, "CPUVendor") }.first ?? hwlocInfo(root, "CPUVendor")

        let note = numaMemoryNote(source: source, hwlocTotal: hwlocTotal, osTotal: osMemoryBytes)
        let numaNodes = hwlocObjects(topology, HWLOC_OBJ_NUMANODE).map { node in
            NUMANode(
                osIndex: hwlocOSIndex(node),
                puOSIndexes: cpusetOSIndexes(node.pointee.cpuset),
                hwlocMemoryBytes: Int(node.pointee.attr.pointee.numanode.local_memory),
                memoryNote: note)
        }

        return Topology(
            source: source,
            hwlocVersion: hwlocLibraryVersion,
            hwlocAPIVersion: hwlocAPIVersion,
            describedByHwlocVersion: hwlocInfo(root, "hwlocVersion"),
            cpuModel: cpuModel,
            cpuVendor: cpuVendor,
            architecture: hwlocInfo(root, "Architecture"),
            packageCount: packages.count,
            puCount: pus.count,
            cores: readCores(topology, pus: pus),
            caches: readCaches(topology),
            numaNodes: numaNodes,
            memoryBytes: osMemoryBytes ?? hwlocTotal,
            memorySource: osMemoryBytes == nil ? .hwloc : .procMeminfo,
            hwlocMemoryBytes: hwlocTotal,
            accelerators: readAccelerators(topology))
    }

    private static func readCores(_ topology: hwloc_topology_t, pus: [hwloc_obj_t]) -> [Core] {
        // Some platforms report PUs without cores: each PU then counts as a core.
        let coreObjects = hwlocObjects(topology, HWLOC_OBJ_CORE)
        return (coreObjects.isEmpty ? pus : coreObjects).enumerated().map { index, core in
            Core(
                logicalIndex: index,
                osIndex: hwlocOSIndex(core),
                packageIndex: hwloc_get_ancestor_obj_by_type(topology, HWLOC_OBJ_PACKAGE, core)
                    .map { Int($0.pointee.logical_index) },
                puOSIndexes: cpusetOSIndexes(core.pointee.cpuset))
        }
    }

    private struct CacheKey: Hashable {
        var level: Int, type: CacheType, size: Int, line: Int?, ways: Int?, full: Bool, cores: Int
    }

    private static func readCaches(_ topology: hwloc_topology_t) -> [Cache] {
        var order: [CacheKey] = []
        var counts: [CacheKey: Int] = [:]
        let hasCores = hwloc_get_nbobjs_by_type(topology, HWLOC_OBJ_CORE) > 0
        for depth in 0..<hwloc_topology_get_depth(topology) {
            guard hwloc_obj_type_is_cache(hwloc_get_depth_type(topology, depth)) != 0 else { continue }
            for index in 0..<max(0, Int(hwloc_get_nbobjs_by_depth(topology, depth))) {
                guard let cache = hwloc_get_obj_by_depth(topology, depth, UInt32(index)),
                    let attributes = cache.pointee.attr?.pointee.cache
                else { continue }
                let sharing = hwloc_get_nbobjs_inside_cpuset_by_type(
                    topology, cache.pointee.cpuset, hasCores ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU)
                let type: CacheType
                switch attributes.type {
                case HWLOC_OBJ_CACHE_DATA: type = .data
                case HWLOC_OBJ_CACHE_INSTRUCTION: type = .instruction
                default: type = .unified
                }
                let ways = Int(attributes.associativity)
                let key = CacheKey(
                    level: Int(attributes.depth), type: type, size: Int(attributes.size),
                    line: attributes.linesize > 0 ? Int(attributes.linesize) : nil,
                    ways: ways > 0 ? ways : nil, full: ways == -1, cores: max(1, Int(sharing)))
                if counts[key] == nil { order.append(key) }
                counts[key, default: 0] += 1
            }
        }
        let typeRank: [CacheType: Int] = [.data: 0, .instruction: 1, .unified: 2]
        return order.map { key in
            Cache(
                level: key.level, type: key.type, sizeBytes: key.size, lineSizeBytes: key.line, ways: key.ways,
                isFullyAssociative: key.full, instanceCount: counts[key]!, coresPerInstance: key.cores)
        }.sorted {
            ($0.level, typeRank[$0.type]!, $0.sizeBytes) < ($1.level, typeRank[$1.type]!, $1.sizeBytes)
        }
    }

    private static func readAccelerators(_ topology: hwloc_topology_t) -> [PCIDevice] {
        var devices: [PCIDevice] = []
        var previous: hwloc_obj_t? = nil
        while let object = hwloc_get_next_pcidev(topology, previous) {
            previous = object
            guard let pci = object.pointee.attr?.pointee.pcidev,
                acceleratorPCIClasses.contains(Int(pci.class_id))
            else { continue }
            var osDevices: [OSDevice] = []
            var child = object.pointee.io_first_child
            while let current = child {
                if current.pointee.type == HWLOC_OBJ_OS_DEVICE {
                    osDevices.append(
                        OSDevice(
                            name: current.pointee.name.map { String(cString: $0) } ?? "",
                            type: osDeviceTypeName(current.pointee.attr.pointee.osdev.type),
                            subtype: current.pointee.subtype.map { String(cString: $0) },
                            infos: hwlocInfos(current)))
                }
                child = current.pointee.next_sibling
            }
            let busID = String(format: "%04x:%02x:%02x.%01x", UInt32(pci.domain), pci.bus, pci.dev, pci.func)
            devices.append(
                PCIDevice(
                    busID: busID, vendorID: Int(pci.vendor_id), deviceID: Int(pci.device_id),
                    classID: Int(pci.class_id), vendorName: hwlocInfo(object, "PCIVendor"),
                    deviceName: hwlocInfo(object, "PCIDevice"),
                    linkGigabytesPerSecond: pci.linkspeed > 0 ? Double(pci.linkspeed) : nil,
                    osDevices: osDevices))
        }
        return devices.sorted { $0.busID < $1.busID }
    }

    private static func numaMemoryNote(source: Source, hwlocTotal: Int, osTotal: Int?) -> String {
        guard let osTotal else {
            return source == .xml
                ? "hwloc local_memory from the XML description"
                : "hwloc local_memory; /proc/meminfo was unavailable, so this is also Topology.memoryBytes"
        }
        let ratio = Double(hwlocTotal) / Double(max(osTotal, 1))
        if ratio > 0.9 && ratio < 1.1 {
            return "hwloc local_memory; agrees with /proc/meminfo MemTotal (within 10%)"
        }
        return "hwloc local_memory (Linux: sysfs node meminfo); hwloc's total \(formatBytes(hwlocTotal)) disagrees "
            + "with /proc/meminfo MemTotal \(formatBytes(osTotal)) (seen in microVMs): size buffers from Topology.memoryBytes"
    }

    private static func cpuinfoModelName() -> String? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
}

// MARK: - hwloc object helpers

/// Every object of `type` in logical order (empty when hwloc has none or the type spans depths).
func hwlocObjects(_ topology: hwloc_topology_t, _ type: hwloc_obj_type_t) -> [hwloc_obj_t] {
    let count = Int(hwloc_get_nbobjs_by_type(topology, type))
    guard count > 0 else { return [] }
    return (0..<count).compactMap { hwloc_get_obj_by_type(topology, type, UInt32($0)) }
}

/// The set bits of a finite bitmap (a cpuset's PU OS indexes), ascending.
func cpusetOSIndexes(_ set: hwloc_const_bitmap_t?) -> [Int] {
    guard let set, hwloc_bitmap_weight(set) > 0 else { return [] }
    var indexes: [Int] = []
    var bit = hwloc_bitmap_first(set)
    while bit >= 0 {
        indexes.append(Int(bit))
        bit = hwloc_bitmap_next(set, bit)
    }
    return indexes
}

/// hwloc's os_index, nil for HWLOC_UNKNOWN_INDEX.
func hwlocOSIndex(_ object: hwloc_obj_t) -> Int? {
    object.pointee.os_index == UInt32.max ? nil : Int(object.pointee.os_index)
}

func hwlocInfo(_ object: hwloc_obj_t, _ name: String) -> String? {
    hwloc_obj_get_info_by_name(object, name).map { String(cString: $0) }
}

func hwlocInfos(_ object: hwloc_obj_t) -> [String: String] {
    var result: [String: String] = [:]
    guard let list = object.pointee.infos else { return result }
    for index in 0..<Int(object.pointee.infos_count) {
        let entry = list[index]
        guard let name = entry.name, let value = entry.value else { continue }
        result[String(cString: name)] = String(cString: value)
    }
    return result
}

func osDeviceTypeName(_ type: hwloc_obj_osdev_type_t) -> String {
    switch type {
    case HWLOC_OBJ_OSDEV_BLOCK: return "block"
    case HWLOC_OBJ_OSDEV_GPU: return "gpu"
    case HWLOC_OBJ_OSDEV_NETWORK: return "network"
    case HWLOC_OBJ_OSDEV_OPENFABRICS: return "openfabrics"
    case HWLOC_OBJ_OSDEV_DMA: return "dma"
    case HWLOC_OBJ_OSDEV_COPROC: return "coproc"
    default: return "unknown"
    }
}
