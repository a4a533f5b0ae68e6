import Foundation

extension Topology {
    /// A human-readable summary, one labelled row per aspect, labels padded to one column.
    public func renderTable() -> String {
        var rows: [(String, String)] = []
        func row(_ label: String, _ value: String) { rows.append((label, value)) }

        var cpu = cpuModel ?? "unknown"
        let details = [cpuVendor, architecture].compactMap { $0 }
        if !details.isEmpty { cpu += " (" + details.joined(separator: ", ") + ")" }
        row("CPU", cpu)
        var counts = "\(plural(packageCount, "package")), \(plural(coreCount, "core")), \(plural(puCount, "PU"))"
        if let threadsPerCore { counts += " (\(plural(threadsPerCore, "PU")) per core)" }
        row("Topology", counts)
        row("Core -> PUs", coreMap())

        if caches.isEmpty { row("Caches", "none reported") }
        let nameWidth = caches.map(\.name.count).max() ?? 0
        let sizeWidth = caches.map { formatBytes($0.sizeBytes).count }.max() ?? 0
        for (index, cache) in caches.enumerated() {
            var text = pad(cache.name, nameWidth) + "  " + pad(formatBytes(cache.sizeBytes), sizeWidth, left: true)
                + "  x\(cache.instanceCount)"
            text += cache.coresPerInstance > 1 ? "  shared by \(cache.coresPerInstance) cores" : "  per core"
            var geometry: [String] = []
            if let line = cache.lineSizeBytes { geometry.append("line \(line) B") }
            if cache.isFullyAssociative {
                geometry.append("fully associative")
            } else if let ways = cache.ways {
                geometry.append("\(ways)-way")
            }
            if !geometry.isEmpty { text += "  (" + geometry.joined(separator: ", ") + ")" }
            row(index == 0 ? "Caches" : "", text)
        }

        if numaNodes.isEmpty { row("NUMA nodes", "none reported") }
        for (index, node) in numaNodes.enumerated() {
            let name = node.osIndex.map { "node \($0)" } ?? "node ?"
            row(
                index == 0 ? "NUMA nodes" : "",
                "\(name): PUs \(formatRanges(node.puOSIndexes)), \(formatBytes(node.hwlocMemoryBytes)) (hwloc)")
        }
        if let note = numaNodes.first?.memoryNote { row("", "note: " + note) }

        row("Memory", "\(formatBytes(memoryBytes)) (\(memorySource.rawValue)); hwloc says \(formatBytes(hwlocMemoryBytes))")

        if accelerators.isEmpty {
            let classes = Topology.acceleratorPCIClasses.map { "0x" + hex4($0) }.joined(separator: "/")
            row("Accelerators", "none found (PCI classes \(classes))")
        }
        for (index, device) in accelerators.enumerated() {
            var text = "\(device.busID)  [\(device.pciID)] \(device.className)"
            let names = [device.vendorName, device.deviceName].compactMap { $0 }
            if !names.isEmpty { text += "  " + names.joined(separator: " ") }
            if let link = device.linkGigabytesPerSecond { text += String(format: "  link %.1f GB/s", link) }
            if !device.osDevices.isEmpty {
                text += "  osdev: " + device.osDevices.map { os in
                    os.subtype.map { "\(os.name) (\($0))" } ?? "\(os.name) (\(os.type))"
                }.joined(separator: ", ")
            }
            row(index == 0 ? "Accelerators" : "", text)
        }
        var hwloc = "\(hwlocVersion) (API \(hwlocAPIVersion)), source: \(source.rawValue)"
        if let describedByHwlocVersion, source == .xml { hwloc += " exported by hwloc \(describedByHwlocVersion)" }
        row("hwloc", hwloc)

        let labelWidth = rows.map(\.0.count).max() ?? 0
        return rows.map { pad($0.0, labelWidth) + "  " + $0.1 }.joined(separator: "\n") + "\n"
    }

    /// Pretty-printed JSON with sorted keys (stable diffs); decode with `JSONDecoder`.
    public func renderJSON() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(self)
        return String(decoding: data, as: UTF8.self)
    }

    /// "0: 0,1 | 1: 2,3" for up to 16 cores, then an ellipsis (the JSON has all of them).
    private func coreMap() -> String {
        let shown = cores.prefix(16).map { "\($0.logicalIndex): \(formatRanges($0.puOSIndexes))" }
        var text = shown.joined(separator: " | ")
        if cores.count > shown.count { text += " | ... (\(cores.count - shown.count) more)" }
        return text.isEmpty ? "none" : text
    }
}

/// "32 KiB", "1 MiB", "23.5 GiB": binary units, one decimal only where it is not a whole number.
func formatBytes(_ bytes: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    if value == value.rounded() { return "\(Int(value)) \(units[unit])" }
    return String(format: "%.1f", value) + " " + units[unit]
}

/// "0-3,8,10-11"
func formatRanges(_ indexes: [Int]) -> String {
    var parts: [String] = []
    var index = 0
    let sorted = indexes.sorted()
    while index < sorted.count {
        var end = index
        while end + 1 < sorted.count && sorted[end + 1] == sorted[end] + 1 { end += 1 }
        parts.append(end == index ? "\(sorted[index])" : "\(sorted[index])-\(sorted[end])")
        index = end + 1
    }
    return parts.isEmpty ? "none" : parts.joined(separator: ",")
}

private func plural(_ count: Int, _ noun: String) -> String {
    "\(count) \(noun)\(count == 1 ? "" : "s")"
}

private func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - text.count))
    return left ? fill + text : text + fill
}
