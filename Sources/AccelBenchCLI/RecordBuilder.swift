import AccelBenchCPU
import AccelBenchCore
import AccelBenchRecords
import AccelBenchTopology
import Foundation

/// Who the record is about, from the flags (operator, site, salt) and the machine's identity.
struct RecordSubjectInput: Sendable {
    var operatorName: String?
    var regionCode: String?
    var siteId: String?
    var nationalComputeId: String?
    /// The operator's secret salt for the node id (ACCELBENCH_NODE_SALT or --node-salt).
    var nodeSalt: String?
    var supersedes: String?
    /// The machine identity hashed into node_id (default: /etc/machine-id).
    var machineIdentity: String = RecordBuilder.machineIdentity()
}

/// Turns a run's result document into a capability record v1 (pure, but for the identity read once
/// by the caller): the mapping from the harness's results to the record's fixed-unit fields.
enum RecordBuilder {
    struct Built {
        var record: CapabilityRecord
        /// Projected results left out (a record holds measurements only).
        var projectedLeftOut: Int
    }

    static func build(
        from document: RunDocument, subject input: RecordSubjectInput, isaExtensions: [String] = RecordBuilder.isaExtensions(),
        runID: String = RecordCoding.uuidV7(), thresholds: CheckThresholds = CheckThresholds(), now: Date = Date()
    ) throws -> Built {
        let measured = document.results.filter { $0.status != .projected }
        var results: [CapabilityRecord.Result] = []
        var windows: [CapabilityRecord.Window] = []
        var efficiency: [CapabilityRecord.Efficiency] = []
        var accelerators = pciAccelerators(document.topology)
        var pluginRefs: [String: String] = [:]

        for (index, r) in measured.enumerated() {
            let id = "r\(index + 1)"
            var deviceRefs: [String] = []
            if r.spec.backend.hasPrefix("plugin:") {
                if pluginRefs[r.spec.backend] == nil {
                    let ref = "acc\(accelerators.count)"
                    let parts = r.spec.backend.split(separator: ":").map(String.init)
                    accelerators.append(CapabilityRecord.Accelerator(
                        ref: ref, type: "other", vendor: nil, model: parts.count > 2 ? parts[2] : parts.last, pciBusId: nil, pciId: nil,
                        memoryBytes: nil, driverVersion: nil, detectedBy: "plugin:\(parts.count > 1 ? parts[1] : "?")"))
                    pluginRefs[r.spec.backend] = ref
                }
                deviceRefs = [pluginRefs[r.spec.backend]!]
            }
            let unit = unitName(r.unit)
            var samples: [Double] = []
            var timedSeconds: Double?
            if r.status == .passed, let m = r.measurement {
                samples = m.secondsPerCall.map { r.unit.value(work: r.work, seconds: $0) }
                timedSeconds = m.secondsPerCall.reduce(0, +) * Double(m.callsPerSample)
            }
            var windowID: String?
            if let energy = r.energy, r.status == .passed, let m = r.measurement {
                let wid = "w\(windows.count + 1)"
                windowID = wid
                windows.append(CapabilityRecord.Window(
                    id: wid, result: id, durationS: energy.seconds,
                    channels: energy.channels.map { c in
                        CapabilityRecord.Channel(
                            id: c.id, method: c.method, scope: c.scope, level: c.qualityLevel, quality: c.quality, quantity: c.kind,
                            energyJ: c.joules, avgW: c.averageWatts, durationS: c.seconds, readings: c.readings,
                            sampleIntervalS: c.sampleIntervalSeconds, wraps: c.wraps, gaps: c.gaps, comparable: c.comparable, detail: c.detail)
                    },
                    errors: energy.errors,
                    telemetry: energy.telemetry.map { t in
                        CapabilityRecord.Telemetry(
                            channel: t.channel, atS: t.seconds,
                            values: t.values.keys.sorted().map { CapabilityRecord.NamedValue(name: $0, value: t.values[$0]!) })
                    }))
                let windowWork = r.work.amount * Double(m.timedCalls)
                for c in energy.channels {
                    guard let joules = c.joules, joules > 0, let value = c.efficiency, value > 0, value.isFinite else { continue }
                    efficiency.append(CapabilityRecord.Efficiency(
                        result: id, window: wid, channel: c.id, method: c.method, scope: c.scope, level: c.qualityLevel,
                        unit: efficiencyUnitName(r.unit),
                        value: value, windowWork: windowWork, energyJ: joules, comparable: c.comparable))
                }
            }
            results.append(CapabilityRecord.Result(
                id: id, metric: "\(r.spec.workload.rawValue).\(r.spec.dtype.rawValue).\(unit)", workload: r.spec.workload.rawValue,
                shape: r.spec.shape.description, dtype: r.spec.dtype.rawValue, backend: r.spec.backend, threads: r.spec.threads,
                kernelPath: r.kernelPath, deviceRefs: deviceRefs, status: r.status.rawValue, reason: r.reason, workPerCall: r.work.amount,
                workKind: r.work.kind.rawValue, workRule: r.work.rule, unit: unit, throughput: r.throughput.map(stats),
                samples: samples, samplesDigest: samples.isEmpty ? nil : try RecordCoding.digest(canonical: samples),
                callsPerSample: r.status == .passed ? r.measurement?.callsPerSample : nil,
                warmupCalls: r.status == .passed ? r.measurement?.warmupCalls : nil, timedSeconds: timedSeconds,
                samplingSeconds: r.status == .passed ? r.measurement?.samplingSeconds : nil,
                stopReason: r.status == .passed ? r.measurement?.stopReason.rawValue : nil,
                correctness: r.correctness.map { c in
                    CapabilityRecord.Correctness(
                        reference: "fp64", metric: c.metric, value: c.value.isFinite ? c.value : Double.greatestFiniteMagnitude,
                        toleranceName: c.toleranceName, tolerance: c.tolerance, nmse: c.nmse.flatMap { $0.isFinite ? $0 : nil },
                        nmseTolerance: c.nmseTolerance, elementsChecked: max(1, c.elementsChecked), nonFinite: c.nonFinite, passed: c.passed)
                },
                peak: r.status == .passed ? r.peak.map(peak) : nil, peakFraction: r.status == .passed ? r.peakFraction : nil,
                secondary: r.status == .passed ? r.secondary.map { s in
                    CapabilityRecord.Secondary(
                        unit: unitName(s.unit), workPerCall: s.work.amount, workKind: s.work.kind.rawValue, workRule: s.work.rule,
                        throughput: stats(s.throughput), peak: s.peak.map(peak), peakFraction: s.peakFraction)
                } : nil,
                peakResidentBytes: r.peakResidentBytes, powerWindow: windowID))
        }
        guard !results.isEmpty else {
            throw RecordError("no measured result to put in a record (projected results are not measurements)")
        }

        let commit = document.accelbench.commit
        let dirty = commit.hasSuffix("-dirty")
        let versions = document.versions
        var software: [CapabilityRecord.Software] = []
        if let v = versions["openblas"] { software.append(.init(name: "openblas", version: v + (versions["openblas_core"].map { " (core \($0))" } ?? ""), kind: "library")) }
        if let v = versions["hwloc"] { software.append(.init(name: "hwloc", version: v, kind: "library")) }
        for backend in Set(results.map(\.backend)).sorted() where backend.hasPrefix("plugin:") {
            software.append(.init(name: backend, version: "ABI 1", kind: "plugin"))
        }
        let caseList = measured.map(\.spec)
        let config = RecordConfig(rule: document.rule, seed: String(document.seed), suite: document.suite, versions: versions)
        let rule = document.rule
        let provenance = CapabilityRecord.Provenance(
            harness: CapabilityRecord.Harness(
                name: "accelbench", version: document.accelbench.version, commit: dirty ? String(commit.dropLast("-dirty".count)) : commit,
                dirty: dirty, compiler: document.accelbench.compiler, buildConfiguration: buildConfiguration),
            os: versions["os"], distribution: versions["distribution"], kernel: versions["kernel"], software: software,
            commandLine: document.command.isEmpty ? ["accelbench"] : document.command, startedAt: document.startedAt,
            finishedAt: document.finishedAt, suite: document.suite, seed: String(document.seed),
            suiteDigest: try RecordCoding.digest(canonical: caseList), configDigest: try RecordCoding.digest(canonical: config),
            loadAverageStart: Array(document.loadAverageStart.prefix(3)), loadAverageEnd: Array(document.loadAverageEnd.prefix(3)))

        let power = document.power
        let powerBlock = CapabilityRecord.Power(
            channelsAvailable: power?.channels.map(\.id) ?? [], notes: power?.notes ?? [],
            sampleIntervalS: power?.sampleIntervalSeconds ?? 0, idleSeconds: power?.idleSeconds ?? 0,
            idle: (power?.idleWatts ?? [:]).keys.sorted().map { CapabilityRecord.IdleChannel(channel: $0, avgW: power!.idleWatts[$0]!) },
            windows: windows)

        let salt = input.nodeSalt ?? ""
        let subject = CapabilityRecord.Subject(
            nodeId: RecordCoding.digest(Data((salt + "\n" + input.machineIdentity).utf8)),
            nodeIdMethod: "sha256(salt || LF || /etc/machine-id)", nodeIdSalted: !salt.isEmpty, operatorName: input.operatorName,
            regionCode: input.regionCode, siteId: input.siteId, nationalComputeId: input.nationalComputeId)

        var record = CapabilityRecord(
            runId: runID, supersedes: input.supersedes, subject: subject, system: system(document.topology, accelerators: accelerators, isa: isaExtensions),
            provenance: provenance, results: results, power: powerBlock, efficiency: efficiency,
            validity: CapabilityRecord.Validity(
                status: "valid", checks: [],
                protocolDescription: CapabilityRecord.ProtocolDescription(
                    warmupS: rule.warmupSeconds, minSamples: rule.minSamples, minSeconds: rule.minSeconds, maxNoise: rule.maxNoise,
                    timeoutS: rule.timeoutSeconds, minSampleS: rule.minSampleSeconds, threadsPinned: document.threadsPinned ?? false,
                    inputs: "seeded random inputs (seed \(document.seed)); outputs poisoned with NaN before each checked call; checked against float64 before and after the timed calls")),
            normalized: NormalizationRules.derive(results: results, efficiency: efficiency))
        record.ceilings = document.ceilings.map(ceilings) ?? []
        record.validity.checks = RecordChecks.evaluate(record, thresholds: thresholds, now: now)
        record.validity.status = RecordChecks.status(of: record.validity.checks)
        return Built(record: record, projectedLeftOut: document.results.count - measured.count)
    }

    /// What changes figures besides the cases: part of the config digest.
    struct RecordConfig: Encodable {
        var rule: StoppingRule
        var seed: String
        var suite: String
        var versions: [String: String]
    }

    static var buildConfiguration: String {
        #if DEBUG
            "debug"
        #else
            "release"
        #endif
    }

    static func unitName(_ unit: ThroughputUnit) -> String {
        switch unit {
        case .gflops: "gflops"
        case .gbytesPerSecond: "gb_per_s"
        case .tokensPerSecond: "tokens_per_s"
        }
    }

    /// The run's measured ceilings, in the record's units.
    static func ceilings(_ c: Ceilings) -> [CapabilityRecord.Ceiling] {
        let figures = [c.clock, c.fp32SingleCore, c.fp32AllCores] + [c.bf16SingleCore, c.bf16AllCores, c.int8SingleCore, c.int8AllCores].compactMap { $0 }
            + c.memory
        let units = ["GHz": "ghz", "GFLOPS": "gflops", "GOPS": "gops", "GB/s": "gb_per_s"]
        return figures.compactMap { f in
            guard let unit = units[f.unit], f.value > 0, f.value.isFinite else { return nil }
            return CapabilityRecord.Ceiling(
                id: f.id, label: f.label, value: f.value, unit: unit, method: f.method, p5: f.p5.flatMap { $0.isFinite ? $0 : nil },
                p95: f.p95.flatMap { $0.isFinite ? $0 : nil }, n: f.n.flatMap { $0 > 0 ? $0 : nil }, threads: max(1, f.threads))
        }
    }

    static func efficiencyUnitName(_ unit: ThroughputUnit) -> String {
        switch unit {
        case .gflops: "gflops_per_w"
        case .gbytesPerSecond: "gb_per_s_per_w"
        case .tokensPerSecond: "tokens_per_j"
        }
    }

    static func stats(_ s: Summary) -> CapabilityRecord.Stats {
        CapabilityRecord.Stats(
            n: s.n, median: s.median, mean: s.mean, min: s.min, max: s.max, p5: s.p5, p25: s.p25, p75: s.p75, p95: s.p95,
            stddev: s.stddev, cv: s.cv, robustCv: s.robustCV)
    }

    /// A ceiling measured in this run, or a chip profile's datasheet figure.
    static func peak(_ p: Peak) -> CapabilityRecord.Peak {
        if p.label.hasPrefix("measured") {
            return CapabilityRecord.Peak(value: p.value, kind: "measured_ceiling", label: p.label, profile: nil)
        }
        var profile: String?
        if let range = p.label.range(of: "profile ") {
            profile = p.label[range.upperBound...].split(whereSeparator: { $0 == " " || $0 == ")" }).first.map(String.init)
        }
        return CapabilityRecord.Peak(value: p.value, kind: "nominal_profile", label: p.label, profile: profile)
    }

    static func pciAccelerators(_ topology: Topology) -> [CapabilityRecord.Accelerator] {
        topology.accelerators.enumerated().map { i, d in
            let type: String
            switch d.classID {
            case 0x0300, 0x0302, 0x0380: type = "gpu"
            case 0x1200: type = "npu"
            default: type = "other"
            }
            return CapabilityRecord.Accelerator(
                ref: "acc\(i)", type: type, vendor: d.vendorName, model: d.deviceName, pciBusId: d.busID, pciId: d.pciID,
                memoryBytes: nil, driverVersion: nil, detectedBy: "pci")
        }
    }

    static func system(_ t: Topology, accelerators: [CapabilityRecord.Accelerator], isa: [String]) -> CapabilityRecord.SystemDescription {
        func cacheBytes(_ level: Int, data: Bool) -> Int? {
            t.caches.first { $0.level == level && (data ? $0.type != .instruction : $0.type == .unified) }.map(\.sizeBytes)
        }
        let cpu = CapabilityRecord.CPU(
            vendor: t.cpuVendor, model: t.cpuModel, arch: t.architecture, isaExtensions: isa, sockets: t.packageCount,
            cores: max(1, t.coreCount), threads: max(1, t.puCount), l1dBytes: cacheBytes(1, data: true), l2Bytes: cacheBytes(2, data: true),
            l3Bytes: cacheBytes(3, data: true))
        let links = accelerators.compactMap { a -> CapabilityRecord.Link? in
            guard let bus = a.pciBusId, let device = t.accelerators.first(where: { $0.busID == bus }) else { return nil }
            return CapabilityRecord.Link(type: "pcie", endpoints: ["host", a.ref], nominalGbPerS: device.linkGigabytesPerSecond)
        }
        let caches = t.caches.filter { $0.type != .instruction }.map { "\($0.name) \(Format.bytes($0.sizeBytes)) x\($0.instanceCount)" }
        let summary = "\(t.packageCount) package(s), \(t.coreCount) cores, \(t.puCount) threads, \(t.numaNodes.count) NUMA node(s)"
            + (caches.isEmpty ? "" : "; " + caches.joined(separator: ", "))
        return CapabilityRecord.SystemDescription(
            cpus: [cpu], memory: CapabilityRecord.Memory(capacityBytes: max(1, t.memoryBytes), numaNodes: max(1, t.numaNodes.count)),
            accelerators: accelerators, links: links, topologySummary: summary,
            detectedBy: "hwloc \(t.hwlocVersion)" + (isa.isEmpty ? "" : " + /proc/cpuinfo flags"))
    }

    /// The instruction-set extensions that matter to the kernels, as /proc/cpuinfo names them.
    static func isaExtensions(cpuinfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> [String] {
        guard let cpuinfo,
            let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") || $0.hasPrefix("Features") }),
            let colon = line.firstIndex(of: ":")
        else { return [] }
        let known: Set<String> = [
            "sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd", "avx512_vnni",
            "avx512_bf16", "avx512_fp16", "avx512vbmi", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16", "amx_fp16",
            "asimd", "asimddp", "asimdhp", "sve", "sve2", "bf16", "i8mm", "sme",
        ]
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init)).intersection(known).sorted()
    }

    /// This machine's identity for the node id: /etc/machine-id (systemd), else the D-Bus copy, else the host name.
    static func machineIdentity() -> String {
        for path in ["/etc/machine-id", "/var/lib/dbus/machine-id"] {
            if let text = try? String(contentsOfFile: path, encoding: .utf8) {
                let id = text.trimmingCharacters(in: .whitespacesAndNewlines)
                if !id.isEmpty { return id }
            }
        }
        return "hostname:" + ProcessInfo.processInfo.hostName
    }
}
