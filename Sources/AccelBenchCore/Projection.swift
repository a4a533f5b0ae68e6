/// A roofline projection of a case on a chip that is not measured (a chip profile's published peaks):
/// seconds = max(FLOPs / (peak · computeEfficiency), bytes / (bandwidth · bandwidthEfficiency)).
///
/// A projection is never a measurement: a result that carries one has status `projected`, no samples
/// (`measurement`, `throughput` and `seconds` are nil) and no correctness check. Reports label it
/// `projected` everywhere, and nothing that compares or signs measured results may take it as one.
public struct Projection: Codable, Sendable, Equatable {
    public enum Bound: String, Codable, Sendable {
        /// FLOPs / peak is the larger term.
        case compute
        /// bytes / bandwidth is the larger term.
        case memory
    }

    /// The chip profile's id (e.g. "ascend-910b2").
    public var profile: String
    /// The profile's peak the FLOPs were divided by (e.g. "fp16"); nil for pure traffic (STREAM).
    public var peakDType: String?
    /// That dense peak, TFLOPS (TOPS for integer dtypes).
    public var computePeakTFLOPS: Double?
    public var bandwidthGBps: Double
    public var efficiency: ProjectionEfficiency
    public var flops: Double
    public var flopsRule: String
    public var bytes: Double
    public var bytesRule: String
    public var computeSeconds: Double
    public var memorySeconds: Double
    /// The projected seconds per call: the larger of the two terms.
    public var seconds: Double
    public var bound: Bound
    /// The case's work per `seconds`, in the case's unit.
    public var throughput: Double

    public init(
        profile: String, peakDType: String?, computePeakTFLOPS: Double?, bandwidthGBps: Double, efficiency: ProjectionEfficiency,
        flops: Double, flopsRule: String, bytes: Double, bytesRule: String, work: Work, unit: ThroughputUnit
    ) {
        self.profile = profile
        self.peakDType = peakDType
        self.computePeakTFLOPS = computePeakTFLOPS
        self.bandwidthGBps = bandwidthGBps
        self.efficiency = efficiency
        self.flops = flops
        self.flopsRule = flopsRule
        self.bytes = bytes
        self.bytesRule = bytesRule
        if let peak = computePeakTFLOPS, peak > 0, flops > 0 {
            computeSeconds = flops / (peak * 1e12 * efficiency.compute)
        } else {
            computeSeconds = 0
        }
        memorySeconds = bytes / (bandwidthGBps * 1e9 * efficiency.bandwidth)
        seconds = max(computeSeconds, memorySeconds)
        bound = computeSeconds >= memorySeconds ? .compute : .memory
        throughput = unit.value(work: work, seconds: seconds)
    }

    /// One line: "compute-bound: fp16 peak 353.9 TFLOPS x 0.7; 1.07 GB at 1600 GB/s x 0.8".
    public var explanation: String {
        let perSecond = peakDType?.hasPrefix("int") == true ? "TOPS" : "TFLOPS"
        let peak = computePeakTFLOPS.map { "\(peakDType ?? "") peak \(Format.number($0)) \(perSecond) x \(Format.number(efficiency.compute)) -> \(Format.number(computeSeconds * 1e3)) ms" } ?? "no compute term"
        return "profile \(profile), \(bound.rawValue)-bound: \(peak); bytes \(Format.number(bytes / 1e9)) GB (\(bytesRule)) at \(Format.number(bandwidthGBps)) GB/s x \(Format.number(efficiency.bandwidth)) -> \(Format.number(memorySeconds * 1e3)) ms"
    }
}

/// The fraction of a profile's peaks a projection assumes a real kernel reaches (a stated assumption,
/// not a measurement).
public struct ProjectionEfficiency: Codable, Sendable, Equatable {
    /// Of the dense compute peak, 0 < x <= 1.
    public var compute: Double
    /// Of the memory bandwidth, 0 < x <= 1.
    public var bandwidth: Double

    /// 70 % of compute, 80 % of bandwidth: what well-tuned GEMM and streaming kernels commonly reach.
    public static let standard = ProjectionEfficiency(compute: 0.7, bandwidth: 0.8)

    public init(compute: Double, bandwidth: Double) {
        self.compute = compute
        self.bandwidth = bandwidth
    }

    /// Parses "C" (both) or "C,B" (compute, bandwidth), each in (0, 1].
    public static func parse(_ text: String) throws -> ProjectionEfficiency {
        let parts = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard (1...2).contains(parts.count), parts.allSatisfy({ $0 != nil && $0! > 0 && $0! <= 1 }) else {
            throw AccelBenchError(
                .invalidArgument,
                "--projection-efficiency '\(text)': write one fraction for both terms or COMPUTE,BANDWIDTH, each in (0, 1], e.g. 0.7,0.8")
        }
        return ProjectionEfficiency(compute: parts[0]!, bandwidth: parts[parts.count - 1]!)
    }
}

/// A backend that projects cases instead of running them. `CaseRunner` asks it for a projection after
/// `unsupportedReason` and never calls `prepare`.
public protocol ProjectingBackend: Backend {
    /// The roofline projection of a case `unsupportedReason` accepted; nil when it cannot be projected.
    func project(_ spec: CaseSpec) -> Projection?
    /// The ceiling a projected throughput is judged against (the profile's peak in the case's unit).
    func peak(for spec: CaseSpec) -> Peak?
}

extension Workload {
    /// The memory traffic a projection charges one call with, and its rule; nil for llm (its traffic
    /// depends on the model's weights, which the projecting backend knows).
    ///
    /// - matmul: A, B and C once each, (M·K + K·N + M·N) x element bytes;
    /// - attention: Q and O once (fp32, as the harness's cases hold them) and K and V once (KV dtype);
    /// - qgemv/qgemm: the quantized weights (scales included) + fp32 activations in and out;
    /// - stream: its STREAM bytes.
    public func projectedBytes(_ shape: Shape, dtype: DType) -> (bytes: Double, rule: String)? {
        switch shape {
        case let .matmul(m, n, k):
            let elements = Double(m) * Double(k) + Double(k) * Double(n) + Double(m) * Double(n)
            return (elements * Double(dtype.bytes), "(M·K + K·N + M·N)·\(dtype.bytes) B: A, B and C once")
        case .stream:
            return (work(shape, dtype: dtype).amount, "STREAM bytes")
        case let .attention(a):
            return (
                2 * Double(a.queryElements) * 4 + 2 * Double(a.kvElements) * Double(dtype.bytes),
                "Q+O once (fp32) + K+V once (\(dtype.bytes) B/element)"
            )
        case let .quantized(m, n, k, _):
            let weights = Workload.weightBytes(m: m, k: k, dtype: dtype)
            return (
                weights + (Double(n) * Double(k) + Double(n) * Double(m)) * 4,
                "weight bytes (\(dtype.rawValue), scales included) + fp32 activations X (N·K) and Y (N·M)"
            )
        case .llm:
            return nil
        }
    }
}
