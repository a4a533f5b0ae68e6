import Foundation

/// A capability record, version 1: what one node measurably delivers per precision and per watt, with the
/// evidence a registry (or a sceptical reader) needs to check it. The JSON form is fixed by
/// `Schema/capability-record-1.schema.json`; field names are the snake_case of these properties and the
/// unit of every number is in its name (`_bytes`, `_s`, `_w`, `_j`, `gflops`...).
///
/// Rules the model and the checker keep:
/// - measured and nominal numbers never mix: datasheet figures appear only as a result's `peak` with
///   `kind: nominal_profile`, for % of peak and the plausibility check;
/// - a projected (not measured) result can never enter a record;
/// - `normalized` is derived from `results` by the rules named in its `rules_version`, and each figure
///   points at the result it came from.
public struct CapabilityRecord: Codable, Sendable, Equatable {
    /// The schema's `$id`.
    public var schema: String = CapabilityRecord.schemaID
    /// SemVer of the record format: minor versions only add fields; a new major changes the DSSE payload type.
    public var schemaVersion: String = CapabilityRecord.schemaVersion
    /// A time-ordered UUID (version 7) minted for the run. The record's content id is the SHA-256 of
    /// its canonical payload, not this.
    public var runId: String
    /// The content id (`sha256:...`) of an earlier record of the same node this one replaces; records
    /// are never edited in place.
    public var supersedes: String?
    public var subject: Subject
    public var system: SystemDescription
    public var provenance: Provenance
    public var results: [Result]
    /// The host's ceilings measured in the same run (clock, FMA and dot throughput, STREAM): the
    /// `measured_ceiling` peaks of the results come from these. Empty when the run skipped them.
    public var ceilings: [Ceiling] = []
    public var power: Power
    public var efficiency: [Efficiency]
    public var validity: Validity
    public var normalized: Normalized

    public static let schemaID = "urn:accelbench:schema:capability-record:1"
    public static let schemaVersion = "1.0.0"

    public init(
        runId: String, supersedes: String? = nil, subject: Subject, system: SystemDescription, provenance: Provenance,
        results: [Result], power: Power, efficiency: [Efficiency], validity: Validity, normalized: Normalized
    ) {
        self.runId = runId
        self.supersedes = supersedes
        self.subject = subject
        self.system = system
        self.provenance = provenance
        self.results = results
        self.power = power
        self.efficiency = efficiency
        self.validity = validity
        self.normalized = normalized
    }

    // MARK: subject

    /// Who and what the record is about.
    public struct Subject: Codable, Sendable, Equatable {
        /// `sha256:` of (salt || machine identity): stable for the node, not reversible without the salt.
        public var nodeId: String
        /// How `node_id` was made, e.g. "sha256(salt || /etc/machine-id)", and whether a salt was given.
        public var nodeIdMethod: String
        public var nodeIdSalted: Bool
        public var operatorName: String?
        /// Optional site code (e.g. a GB/T 2260 region code) and site id, as the operator gives them.
        public var regionCode: String?
        public var siteId: String?
        /// An identifier assigned by a national or regional compute registry: opaque, never parsed.
        public var nationalComputeId: String?

        public init(
            nodeId: String, nodeIdMethod: String, nodeIdSalted: Bool, operatorName: String? = nil, regionCode: String? = nil,
            siteId: String? = nil, nationalComputeId: String? = nil
        ) {
            self.nodeId = nodeId
            self.nodeIdMethod = nodeIdMethod
            self.nodeIdSalted = nodeIdSalted
            self.operatorName = operatorName
            self.regionCode = regionCode
            self.siteId = siteId
            self.nationalComputeId = nationalComputeId
        }
    }

    // MARK: system

    /// The machine as detected at run time (never typed by hand).
    public struct SystemDescription: Codable, Sendable, Equatable {
        public var cpus: [CPU]
        public var memory: Memory
        public var accelerators: [Accelerator]
        public var links: [Link]
        /// One line, e.g. "1 package, 2 cores, 2 threads, 1 NUMA node; L1d 32 KiB x2, L2 1 MiB x2, L3 32 MiB".
        public var topologySummary: String
        /// Where the description came from, e.g. "hwloc 2.9.0 + /proc/cpuinfo".
        public var detectedBy: String

        public init(cpus: [CPU], memory: Memory, accelerators: [Accelerator], links: [Link], topologySummary: String, detectedBy: String) {
            self.cpus = cpus
            self.memory = memory
            self.accelerators = accelerators
            self.links = links
            self.topologySummary = topologySummary
            self.detectedBy = detectedBy
        }
    }

    public struct CPU: Codable, Sendable, Equatable {
        public var vendor: String?
        public var model: String?
        /// x86_64, aarch64, riscv64, loongarch64...
        public var arch: String?
        /// The instruction-set extensions the kernels can use (lowercase cpuinfo names: avx2, avx512f, avx512_vnni...).
        public var isaExtensions: [String]
        public var sockets: Int
        public var cores: Int
        public var threads: Int
        public var l1dBytes: Int?
        public var l2Bytes: Int?
        public var l3Bytes: Int?

        public init(
            vendor: String?, model: String?, arch: String?, isaExtensions: [String], sockets: Int, cores: Int, threads: Int,
            l1dBytes: Int?, l2Bytes: Int?, l3Bytes: Int?
        ) {
            self.vendor = vendor
            self.model = model
            self.arch = arch
            self.isaExtensions = isaExtensions
            self.sockets = sockets
            self.cores = cores
            self.threads = threads
            self.l1dBytes = l1dBytes
            self.l2Bytes = l2Bytes
            self.l3Bytes = l3Bytes
        }
    }

    public struct Memory: Codable, Sendable, Equatable {
        public var capacityBytes: Int
        public var numaNodes: Int

        public init(capacityBytes: Int, numaNodes: Int) {
            self.capacityBytes = capacityBytes
            self.numaNodes = numaNodes
        }
    }

    /// An accelerator seen on the PCI bus or reported by a device plugin.
    public struct Accelerator: Codable, Sendable, Equatable {
        /// "acc0", "acc1"...: what results' `device_refs` name.
        public var ref: String
        /// gpu, npu, fpga, asic, dsp, other (Redfish ProcessorType, plus NPU).
        public var type: String
        public var vendor: String?
        public var model: String?
        public var pciBusId: String?
        public var pciId: String?
        public var memoryBytes: Int?
        public var driverVersion: String?
        /// plugin:NAME when a device plugin reported it, pci when only the bus did.
        public var detectedBy: String

        public init(
            ref: String, type: String, vendor: String?, model: String?, pciBusId: String?, pciId: String?, memoryBytes: Int?,
            driverVersion: String?, detectedBy: String
        ) {
            self.ref = ref
            self.type = type
            self.vendor = vendor
            self.model = model
            self.pciBusId = pciBusId
            self.pciId = pciId
            self.memoryBytes = memoryBytes
            self.driverVersion = driverVersion
            self.detectedBy = detectedBy
        }
    }

    /// A link between the host and an accelerator (or two accelerators), as the bus reports it.
    public struct Link: Codable, Sendable, Equatable {
        /// pcie, nvlink, xgmi, hccs, cxl, other.
        public var type: String
        public var endpoints: [String]
        /// The bus's own figure, GB/s (nominal: measured link bandwidth would be a result).
        public var nominalGbPerS: Double?

        public init(type: String, endpoints: [String], nominalGbPerS: Double?) {
            self.type = type
            self.endpoints = endpoints
            self.nominalGbPerS = nominalGbPerS
        }
    }

    // MARK: provenance

    /// How the numbers were made: software, versions, command, times and digests.
    public struct Provenance: Codable, Sendable, Equatable {
        public var harness: Harness
        public var os: String?
        public var distribution: String?
        public var kernel: String?
        /// Libraries and drivers the results went through (openblas, hwloc, device plugins...).
        public var software: [Software]
        public var commandLine: [String]
        /// RFC 3339 UTC.
        public var startedAt: String
        public var finishedAt: String
        public var suite: String
        /// The inputs' random seed, in decimal (a string: JSON numbers above 2^53 lose digits).
        public var seed: String
        /// `sha256:` of the canonical JSON of the list of cases run (workload, backend, dtype, shape, threads).
        public var suiteDigest: String
        /// `sha256:` of the canonical JSON of the settings that change figures (stopping rule, seed, ISA, flags).
        public var configDigest: String
        /// 1/5/15-minute load averages at the start and end: other work on the machine lowers figures.
        public var loadAverageStart: [Double]
        public var loadAverageEnd: [Double]

        public init(
            harness: Harness, os: String?, distribution: String?, kernel: String?, software: [Software], commandLine: [String],
            startedAt: String, finishedAt: String, suite: String, seed: String, suiteDigest: String, configDigest: String,
            loadAverageStart: [Double], loadAverageEnd: [Double]
        ) {
            self.harness = harness
            self.os = os
            self.distribution = distribution
            self.kernel = kernel
            self.software = software
            self.commandLine = commandLine
            self.startedAt = startedAt
            self.finishedAt = finishedAt
            self.suite = suite
            self.seed = seed
            self.suiteDigest = suiteDigest
            self.configDigest = configDigest
            self.loadAverageStart = loadAverageStart
            self.loadAverageEnd = loadAverageEnd
        }
    }

    public struct Harness: Codable, Sendable, Equatable {
        public var name: String
        public var version: String
        public var commit: String
        public var dirty: Bool
        public var compiler: String
        public var buildConfiguration: String

        public init(name: String, version: String, commit: String, dirty: Bool, compiler: String, buildConfiguration: String) {
            self.name = name
            self.version = version
            self.commit = commit
            self.dirty = dirty
            self.compiler = compiler
            self.buildConfiguration = buildConfiguration
        }
    }

    public struct Software: Codable, Sendable, Equatable {
        public var name: String
        public var version: String
        /// library, driver, plugin, runtime.
        public var kind: String

        public init(name: String, version: String, kind: String) {
            self.name = name
            self.version = version
            self.kind = kind
        }
    }

    // MARK: results

    /// One measured case.
    public struct Result: Codable, Sendable, Equatable {
        /// "r1", "r2"...: what efficiency, validity and normalized entries point at.
        public var id: String
        /// Stable metric id: WORKLOAD.DTYPE.UNIT, e.g. "matmul.fp32.gflops".
        public var metric: String
        public var workload: String
        /// The shape as the CLI writes it (4096x4096x4096, b1:h32:kvh8:q2048:kv2048:d128:causal...).
        public var shape: String
        public var dtype: String
        public var backend: String
        public var threads: Int
        /// The kernel that ran, e.g. "swift-simd sgemm avx512 14x32".
        public var kernelPath: String?
        /// The accelerators the result ran on ([] = the host CPU).
        public var deviceRefs: [String]
        /// passed, failed or skipped (never projected).
        public var status: String
        public var reason: String?
        /// Work of one call: amount, kind (flops, bytes, tokens) and the counting rule.
        public var workPerCall: Double
        public var workKind: String
        public var workRule: String
        /// The unit of `throughput`, `samples` and `peak`: gflops, gb_per_s or tokens_per_s (GFLOPS counts
        /// integer operations for integer dtypes).
        public var unit: String
        public var throughput: Stats?
        /// Throughput of each sample, in `unit`, in the order taken (what comparisons rank).
        public var samples: [Double]
        /// `sha256:` of the canonical JSON of `samples`.
        public var samplesDigest: String?
        public var callsPerSample: Int?
        public var warmupCalls: Int?
        /// Seconds of timed calls (samples x calls x seconds per call) and of sampling wall time.
        public var timedSeconds: Double?
        public var samplingSeconds: Double?
        /// converged, timeout or max_samples.
        public var stopReason: String?
        public var correctness: Correctness?
        public var peak: Peak?
        /// median / peak value (0...; above 1 when a measured ceiling was low).
        public var peakFraction: Double?
        /// A second measure of the same calls (decode attention: KV bytes read per second).
        public var secondary: Secondary?
        public var peakResidentBytes: Int?
        /// The power window of this result's timed region ("w1"...), when power was measured.
        public var powerWindow: String?

        public init(
            id: String, metric: String, workload: String, shape: String, dtype: String, backend: String, threads: Int,
            kernelPath: String?, deviceRefs: [String], status: String, reason: String?, workPerCall: Double, workKind: String,
            workRule: String, unit: String, throughput: Stats?, samples: [Double], samplesDigest: String?, callsPerSample: Int?,
            warmupCalls: Int?, timedSeconds: Double?, samplingSeconds: Double?, stopReason: String?, correctness: Correctness?,
            peak: Peak?, peakFraction: Double?, secondary: Secondary?, peakResidentBytes: Int?, powerWindow: String?
        ) {
            self.id = id
            self.metric = metric
            self.workload = workload
            self.shape = shape
            self.dtype = dtype
            self.backend = backend
            self.threads = threads
            self.kernelPath = kernelPath
            self.deviceRefs = deviceRefs
            self.status = status
            self.reason = reason
            self.workPerCall = workPerCall
            self.workKind = workKind
            self.workRule = workRule
            self.unit = unit
            self.throughput = throughput
            self.samples = samples
            self.samplesDigest = samplesDigest
            self.callsPerSample = callsPerSample
            self.warmupCalls = warmupCalls
            self.timedSeconds = timedSeconds
            self.samplingSeconds = samplingSeconds
            self.stopReason = stopReason
            self.correctness = correctness
            self.peak = peak
            self.peakFraction = peakFraction
            self.secondary = secondary
            self.peakResidentBytes = peakResidentBytes
            self.powerWindow = powerWindow
        }

        /// What a comparison between two records matches results by.
        public var matchKey: String { "\(workload)|\(shape)|\(dtype)|\(backend)|\(threads)T" }
    }

    /// Order statistics of the samples, in the result's unit.
    public struct Stats: Codable, Sendable, Equatable {
        public var n: Int
        public var median: Double
        public var mean: Double
        public var min: Double
        public var max: Double
        public var p5: Double
        public var p25: Double
        public var p75: Double
        public var p95: Double
        public var stddev: Double
        public var cv: Double
        /// IQR / (1.349 x median): the noise figure the stopping rule and the checker use.
        public var robustCv: Double

        public init(n: Int, median: Double, mean: Double, min: Double, max: Double, p5: Double, p25: Double, p75: Double, p95: Double, stddev: Double, cv: Double, robustCv: Double) {
            self.n = n
            self.median = median
            self.mean = mean
            self.min = min
            self.max = max
            self.p5 = p5
            self.p25 = p25
            self.p75 = p75
            self.p95 = p95
            self.stddev = stddev
            self.cv = cv
            self.robustCv = robustCv
        }
    }

    public struct Correctness: Codable, Sendable, Equatable {
        /// fp64 reference the output was compared with.
        public var reference: String
        /// The error measure, e.g. "max_rel_err".
        public var metric: String
        public var value: Double
        public var toleranceName: String
        public var tolerance: Double
        public var nmse: Double?
        public var nmseTolerance: Double?
        public var elementsChecked: Int
        public var nonFinite: Int
        public var passed: Bool

        public init(
            reference: String, metric: String, value: Double, toleranceName: String, tolerance: Double, nmse: Double?,
            nmseTolerance: Double?, elementsChecked: Int, nonFinite: Int, passed: Bool
        ) {
            self.reference = reference
            self.metric = metric
            self.value = value
            self.toleranceName = toleranceName
            self.tolerance = tolerance
            self.nmse = nmse
            self.nmseTolerance = nmseTolerance
            self.elementsChecked = elementsChecked
            self.nonFinite = nonFinite
            self.passed = passed
        }
    }

    /// The ceiling a result is judged against. `measured_ceiling`: measured on this machine in this run
    /// (a measurement may exceed it slightly); `nominal_profile`: a datasheet figure from a chip profile
    /// (a measurement above 1.05 x it is implausible).
    public struct Peak: Codable, Sendable, Equatable {
        public var value: Double
        public var kind: String
        public var label: String
        /// The chip profile id for nominal peaks.
        public var profile: String?

        public init(value: Double, kind: String, label: String, profile: String?) {
            self.value = value
            self.kind = kind
            self.label = label
            self.profile = profile
        }
    }

    public struct Secondary: Codable, Sendable, Equatable {
        public var unit: String
        public var workPerCall: Double
        public var workKind: String
        public var workRule: String
        public var throughput: Stats
        public var peak: Peak?
        public var peakFraction: Double?

        public init(unit: String, workPerCall: Double, workKind: String, workRule: String, throughput: Stats, peak: Peak?, peakFraction: Double?) {
            self.unit = unit
            self.workPerCall = workPerCall
            self.workKind = workKind
            self.workRule = workRule
            self.throughput = throughput
            self.peak = peak
            self.peakFraction = peakFraction
        }
    }

    /// One measured machine ceiling.
    public struct Ceiling: Codable, Sendable, Equatable {
        /// Stable id, e.g. "fp32.fma.gflops.2t", "memory.read.gbs.2t".
        public var id: String
        public var label: String
        /// The ceiling: the 95th percentile of its samples (interference only ever lowers a sample).
        public var value: Double
        /// ghz, gflops, gops or gb_per_s.
        public var unit: String
        public var method: String
        public var p5: Double?
        public var p95: Double?
        public var n: Int?
        public var threads: Int

        public init(id: String, label: String, value: Double, unit: String, method: String, p5: Double?, p95: Double?, n: Int?, threads: Int) {
            self.id = id
            self.label = label
            self.value = value
            self.unit = unit
            self.method = method
            self.p5 = p5
            self.p95 = p95
            self.n = n
            self.threads = threads
        }
    }

    // MARK: power

    public struct Power: Codable, Sendable, Equatable {
        /// The channels the run read, and why others were absent or unusable.
        public var channelsAvailable: [String]
        public var notes: [String]
        public var sampleIntervalS: Double
        public var idleSeconds: Double
        public var idle: [IdleChannel]
        /// One window per measured result: the timed region's energy on every channel, never summed across scopes.
        public var windows: [Window]

        public init(channelsAvailable: [String], notes: [String], sampleIntervalS: Double, idleSeconds: Double, idle: [IdleChannel], windows: [Window]) {
            self.channelsAvailable = channelsAvailable
            self.notes = notes
            self.sampleIntervalS = sampleIntervalS
            self.idleSeconds = idleSeconds
            self.idle = idle
            self.windows = windows
        }
    }

    public struct IdleChannel: Codable, Sendable, Equatable {
        public var channel: String
        public var avgW: Double

        public init(channel: String, avgW: Double) {
            self.channel = channel
            self.avgW = avgW
        }
    }

    public struct Window: Codable, Sendable, Equatable {
        public var id: String
        public var result: String
        public var durationS: Double
        public var channels: [Channel]
        public var errors: [String]
        /// Evidence taken with the power: clocks, temperatures, throttle reasons.
        public var telemetry: [Telemetry]

        public init(id: String, result: String, durationS: Double, channels: [Channel], errors: [String], telemetry: [Telemetry]) {
            self.id = id
            self.result = result
            self.durationS = durationS
            self.channels = channels
            self.errors = errors
            self.telemetry = telemetry
        }
    }

    public struct Channel: Codable, Sendable, Equatable {
        /// "METHOD:NAME", e.g. "rapl:package-0".
        public var id: String
        /// rapl, hwmon, nvml, ipmi, redfish, meter, plugin, estimate.
        public var method: String
        /// node_wall, node, chassis, accelerator_board, platform, cpu_package, cpu_cores, dram...
        public var scope: String
        /// 0 estimate, 1 in-band counter, 2 BMC, 3 calibrated meter.
        public var level: Int
        public var quality: String
        /// energy_counter or sampled_watts.
        public var quantity: String
        public var energyJ: Double?
        public var avgW: Double?
        public var durationS: Double
        public var readings: Int
        public var sampleIntervalS: Double
        public var wraps: Int
        public var gaps: [String]
        public var comparable: Bool
        public var detail: String

        public init(
            id: String, method: String, scope: String, level: Int, quality: String, quantity: String, energyJ: Double?,
            avgW: Double?, durationS: Double, readings: Int, sampleIntervalS: Double, wraps: Int, gaps: [String],
            comparable: Bool, detail: String
        ) {
            self.id = id
            self.method = method
            self.scope = scope
            self.level = level
            self.quality = quality
            self.quantity = quantity
            self.energyJ = energyJ
            self.avgW = avgW
            self.durationS = durationS
            self.readings = readings
            self.sampleIntervalS = sampleIntervalS
            self.wraps = wraps
            self.gaps = gaps
            self.comparable = comparable
            self.detail = detail
        }
    }

    public struct Telemetry: Codable, Sendable, Equatable {
        public var channel: String
        public var atS: Double
        /// Readings by name, sorted (an array, not an object: names like sm_clock_mhz stay as written).
        public var values: [NamedValue]

        public init(channel: String, atS: Double, values: [NamedValue]) {
            self.channel = channel
            self.atS = atS
            self.values = values
        }
    }

    public struct NamedValue: Codable, Sendable, Equatable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Throughput per watt of one result on one channel: the window's work over its energy.
    public struct Efficiency: Codable, Sendable, Equatable {
        public var result: String
        public var window: String
        public var channel: String
        public var method: String
        public var scope: String
        public var level: Int
        /// gflops_per_w, gb_per_s_per_w or tokens_per_j.
        public var unit: String
        public var value: Double
        /// All the work of the window's calls (in the result's work kind) and the channel's energy: value = work / energy_j
        /// (scaled by 1e-9 for FLOPs and bytes).
        public var windowWork: Double
        public var energyJ: Double
        /// False for estimates and for channels that are not a measurement of the whole result's power.
        public var comparable: Bool

        public init(
            result: String, window: String, channel: String, method: String, scope: String, level: Int, unit: String, value: Double,
            windowWork: Double, energyJ: Double, comparable: Bool
        ) {
            self.result = result
            self.window = window
            self.channel = channel
            self.method = method
            self.scope = scope
            self.level = level
            self.unit = unit
            self.value = value
            self.windowWork = windowWork
            self.energyJ = energyJ
            self.comparable = comparable
        }
    }

    // MARK: validity

    /// The harness's own verdict, as named checks (a registry recomputes them: the status is a claim).
    public struct Validity: Codable, Sendable, Equatable {
        /// valid or invalid.
        public var status: String
        public var checks: [Check]
        public var protocolDescription: ProtocolDescription
        /// Set by `accelbench certify`: the profile, thresholds and the pass/fail verdict.
        public var certification: Certification?

        public init(status: String, checks: [Check], protocolDescription: ProtocolDescription, certification: Certification? = nil) {
            self.status = status
            self.checks = checks
            self.protocolDescription = protocolDescription
            self.certification = certification
        }

        enum CodingKeys: String, CodingKey {
            case status, checks, certification
            case protocolDescription = "protocol"
        }
    }

    public struct Check: Codable, Sendable, Equatable {
        /// A stable id: CHECK or CHECK:RESULT_ID, e.g. "correctness.passed:r3".
        public var id: String
        public var passed: Bool
        public var value: Double?
        public var threshold: Double?
        public var note: String?

        public init(id: String, passed: Bool, value: Double? = nil, threshold: Double? = nil, note: String? = nil) {
            self.id = id
            self.passed = passed
            self.value = value
            self.threshold = threshold
            self.note = note
        }
    }

    /// How the samples were taken.
    public struct ProtocolDescription: Codable, Sendable, Equatable {
        public var warmupS: Double
        public var minSamples: Int
        public var minSeconds: Double
        public var maxNoise: Double
        public var timeoutS: Double
        public var minSampleS: Double
        public var threadsPinned: Bool
        /// Fresh seeded random inputs, outputs poisoned with NaN before each checked call.
        public var inputs: String

        public init(warmupS: Double, minSamples: Int, minSeconds: Double, maxNoise: Double, timeoutS: Double, minSampleS: Double, threadsPinned: Bool, inputs: String) {
            self.warmupS = warmupS
            self.minSamples = minSamples
            self.minSeconds = minSeconds
            self.maxNoise = maxNoise
            self.timeoutS = timeoutS
            self.minSampleS = minSampleS
            self.threadsPinned = threadsPinned
            self.inputs = inputs
        }
    }

    public struct Certification: Codable, Sendable, Equatable {
        public var profile: String
        public var sku: String
        /// `sha256:` of the thresholds file's canonical JSON ("builtin" thresholds when none was given).
        public var thresholdsDigest: String
        public var thresholdsSource: String
        public var passed: Bool
        /// The ids of the `certify.*` checks in `checks` that decided it.
        public var checkIds: [String]

        public init(profile: String, sku: String, thresholdsDigest: String, thresholdsSource: String, passed: Bool, checkIds: [String]) {
            self.profile = profile
            self.sku = sku
            self.thresholdsDigest = thresholdsDigest
            self.thresholdsSource = thresholdsSource
            self.passed = passed
            self.checkIds = checkIds
        }
    }

    // MARK: normalized

    /// Figures derived from `results` for a national registry's view, by the rules `rules_version`
    /// names. Raw results never change when the rules do.
    public struct Normalized: Codable, Sendable, Equatable {
        public var rulesVersion: String
        /// Always "measured": nominal figures never enter this block.
        public var basis: String
        public var intelligentComputeFp16DenseTflops: Figure
        /// Reported next to FP16, never substituted for it, until the national rule says otherwise.
        public var intelligentComputeBf16DenseTflops: Figure
        public var generalComputeFp32Tflops: Figure
        public var int8DenseTops: Figure
        public var memoryBandwidthGbPerS: Figure
        /// Tokens per second of the reference LLM shapes (llm results: model, test, dtype).
        public var llmTokensPerS: [LLMFigure]
        /// The best comparable efficiency per figure above, with its method and scope.
        public var efficiency: [EfficiencyFigure]

        public init(
            rulesVersion: String, basis: String, intelligentComputeFp16DenseTflops: Figure, intelligentComputeBf16DenseTflops: Figure,
            generalComputeFp32Tflops: Figure, int8DenseTops: Figure, memoryBandwidthGbPerS: Figure, llmTokensPerS: [LLMFigure],
            efficiency: [EfficiencyFigure]
        ) {
            self.rulesVersion = rulesVersion
            self.basis = basis
            self.intelligentComputeFp16DenseTflops = intelligentComputeFp16DenseTflops
            self.intelligentComputeBf16DenseTflops = intelligentComputeBf16DenseTflops
            self.generalComputeFp32Tflops = generalComputeFp32Tflops
            self.int8DenseTops = int8DenseTops
            self.memoryBandwidthGbPerS = memoryBandwidthGbPerS
            self.llmTokensPerS = llmTokensPerS
            self.efficiency = efficiency
        }
    }

    /// One derived figure: its value and the result it came from, or why there is none.
    public struct Figure: Codable, Sendable, Equatable {
        public var value: Double?
        public var derivedFrom: String?
        /// The rule that picked it, e.g. "best passed matmul fp32 median, all threads, GFLOPS / 1000".
        public var rule: String
        public var absentReason: String?

        public init(value: Double?, derivedFrom: String?, rule: String, absentReason: String?) {
            self.value = value
            self.derivedFrom = derivedFrom
            self.rule = rule
            self.absentReason = absentReason
        }
    }

    public struct LLMFigure: Codable, Sendable, Equatable {
        public var model: String
        /// ppN or tgN[:dD].
        public var test: String
        public var dtype: String
        public var threads: Int
        public var value: Double
        public var derivedFrom: String

        public init(model: String, test: String, dtype: String, threads: Int, value: Double, derivedFrom: String) {
            self.model = model
            self.test = test
            self.dtype = dtype
            self.threads = threads
            self.value = value
            self.derivedFrom = derivedFrom
        }
    }

    public struct EfficiencyFigure: Codable, Sendable, Equatable {
        /// The normalized figure it belongs to, e.g. "general_compute_fp32_tflops".
        public var figure: String
        public var value: Double
        public var unit: String
        public var method: String
        public var scope: String
        public var comparable: Bool
        public var derivedFrom: String

        public init(figure: String, value: Double, unit: String, method: String, scope: String, comparable: Bool, derivedFrom: String) {
            self.figure = figure
            self.value = value
            self.unit = unit
            self.method = method
            self.scope = scope
            self.comparable = comparable
            self.derivedFrom = derivedFrom
        }
    }
}
