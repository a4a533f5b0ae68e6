import AccelBenchCore

/// What a chip is published to deliver: one JSON file per chip (`Profiles/<id>.json`, schema
/// `Profiles/chip-profile.schema.json`). Every peak is dense (sparsity never folded in); an absent
/// figure is unknown, never 0. Profiles are nominal figures: a result judged against one says so, and a
/// projection from one is labelled `projected`, never measured.
public struct ChipProfile: Codable, Sendable, Equatable {
    /// Dense peaks per dtype: TFLOPS for floating point, TOPS for integers.
    public struct Peaks: Codable, Sendable, Equatable {
        public var fp64: Double?
        public var fp32: Double?
        public var tf32: Double?
        public var fp16: Double?
        public var bf16: Double?
        public var int8: Double?
        public var int4: Double?

        public init(fp64: Double? = nil, fp32: Double? = nil, tf32: Double? = nil, fp16: Double? = nil, bf16: Double? = nil, int8: Double? = nil, int4: Double? = nil) {
            (self.fp64, self.fp32, self.tf32, self.fp16, self.bf16, self.int8, self.int4) = (fp64, fp32, tf32, fp16, bf16, int8, int4)
        }

        /// The dtype names in the order tables print them.
        public static let names = ["fp64", "fp32", "tf32", "fp16", "bf16", "int8", "int4"]

        public subscript(name: String) -> Double? {
            switch name {
            case "fp64": fp64
            case "fp32": fp32
            case "tf32": tf32
            case "fp16": fp16
            case "bf16": bf16
            case "int8": int8
            case "int4": int4
            default: nil
            }
        }
    }

    public struct Memory: Codable, Sendable, Equatable {
        public var type: String?
        public var capacityGB: Double?
        public var bandwidthGBps: Double?

        public init(type: String? = nil, capacityGB: Double? = nil, bandwidthGBps: Double? = nil) {
            (self.type, self.capacityGB, self.bandwidthGBps) = (type, capacityGB, bandwidthGBps)
        }
    }

    public struct Interconnect: Codable, Sendable, Equatable {
        public var name: String?
        public var bandwidthGBps: Double?

        public init(name: String? = nil, bandwidthGBps: Double? = nil) {
            (self.name, self.bandwidthGBps) = (name, bandwidthGBps)
        }
    }

    public var id: String
    public var vendor: String
    public var model: String
    /// Short stack name (CANN, BANG, DTK, XPU, MACA, MUSA, CoreX, CUDA, ROCm, CPU...).
    public var stack: String
    /// The stack as the source table names it ("DTK (ROCm/HIP-compatible)").
    public var stackDetail: String?
    public var year: Int?
    public var peakTFLOPS: Peaks
    public var memory: Memory?
    public var tdpWatts: Double?
    public var interconnect: Interconnect?
    /// high, medium-high, medium, low, none; `measured` for the CPU profile derived from this machine.
    public var confidence: String
    public var source: String
    public var notes: String?

    public init(
        id: String, vendor: String, model: String, stack: String, stackDetail: String? = nil, year: Int? = nil,
        peakTFLOPS: Peaks, memory: Memory? = nil, tdpWatts: Double? = nil, interconnect: Interconnect? = nil,
        confidence: String, source: String, notes: String? = nil
    ) {
        self.id = id
        self.vendor = vendor
        self.model = model
        self.stack = stack
        self.stackDetail = stackDetail
        self.year = year
        self.peakTFLOPS = peakTFLOPS
        self.memory = memory
        self.tdpWatts = tdpWatts
        self.interconnect = interconnect
        self.confidence = confidence
        self.source = source
        self.notes = notes
    }

    public var bandwidthGBps: Double? { memory?.bandwidthGBps }

    /// The profile's peak a case's FLOPs are held to: its own float type for matmul and attention (the
    /// KV type for attention), int8 for q8_0 and w8a8 products, int4 for q4_0; nil for STREAM (traffic
    /// only).
    public static func peakName(for spec: CaseSpec) -> String? {
        switch spec.workload {
        case .stream: return nil
        case .matmul, .attention: return spec.dtype.rawValue
        case .qgemv, .qgemm, .llm: return spec.dtype == .q4_0 ? "int4" : "int8"
        }
    }

    /// The CPU profile of this machine, derived at run time from its topology and measured ceilings
    /// (the CLI passes them in): fp32/bf16/int8 peaks from the measured FMA, bf16-dot and int8-dot
    /// ceilings of all cores, bandwidth from the read-only STREAM; TDP unknown. Its confidence is
    /// `measured`: a measured ceiling, not a datasheet figure.
    public static func derivedCPU(
        brand: String, vendor: String?, cores: Int, fp32GFLOPS: Double?, bf16GFLOPS: Double?, int8GOPS: Double?,
        readGBps: Double?, memoryGB: Double?
    ) -> ChipProfile {
        ChipProfile(
            id: derivedCPUID, vendor: vendor ?? "CPU", model: "\(brand) (\(cores) cores)", stack: "CPU",
            stackDetail: "accelbench CPU backends (own SIMD kernels, OpenBLAS)",
            peakTFLOPS: Peaks(fp32: fp32GFLOPS.map { $0 / 1e3 }, bf16: bf16GFLOPS.map { $0 / 1e3 }, int8: int8GOPS.map { $0 / 1e3 }),
            memory: Memory(capacityGB: memoryGB, bandwidthGBps: readGBps),
            confidence: "measured",
            source: "derived at run time: hwloc topology and the ceilings accelbench measured on this machine (all cores)",
            notes: "fp32 = measured FMA ceiling, bf16 = vdpbf16ps ceiling, int8 = vpdpbusd ceiling, bandwidth = read-only STREAM; TDP unknown")
    }

    /// The id of the derived CPU profile.
    public static let derivedCPUID = "cpu-host"
}
