import AccelBenchCore

/// `profile:<id>`: projects every case on a chip profile by the roofline instead of running it
/// (see `Projection`). Its results have status `projected` and carry no samples.
public struct ProfileBackend: ProjectingBackend {
    /// What a projection needs to know of an llm case's model: its weight bytes in the case's dtype and
    /// the FLOPs of one token step (2 per weight).
    public struct ModelCost: Sendable {
        public var weightBytes: Double
        public var flopsPerToken: Double

        public init(weightBytes: Double, flopsPerToken: Double) {
            self.weightBytes = weightBytes
            self.flopsPerToken = flopsPerToken
        }
    }

    public let profile: ChipProfile
    public let efficiency: ProjectionEfficiency
    /// The cost of an llm case's model (the CLI knows the model presets); nil: llm is not projected.
    public let modelCost: (@Sendable (LLMShape, DType) -> ModelCost?)?

    public static let prefix = "profile:"

    public init(
        profile: ChipProfile, efficiency: ProjectionEfficiency = .standard,
        modelCost: (@Sendable (LLMShape, DType) -> ModelCost?)? = nil
    ) {
        self.profile = profile
        self.efficiency = efficiency
        self.modelCost = modelCost
    }

    public var name: String { ProfileBackend.prefix + profile.id }
    public var summary: String {
        "roofline projection on \(profile.vendor) \(profile.model) (efficiency \(efficiency.compute)/\(efficiency.bandwidth)); results are projected, not measured"
    }

    /// Every workload and dtype: a case is skipped only where the profile lacks the figure it needs.
    public var capabilities: [Workload: [DType]] {
        Dictionary(uniqueKeysWithValues: Workload.allCases.map { ($0, $0.dtypes) })
    }

    public func unsupportedReason(_ spec: CaseSpec) -> String? {
        if let peak = ChipProfile.peakName(for: spec), profile.peakTFLOPS[peak] == nil {
            return "profile \(profile.id) has no \(peak) peak"
        }
        if profile.bandwidthGBps == nil {
            return "profile \(profile.id) has no memory bandwidth"
        }
        if case let .llm(l) = spec.shape, modelCost?(l, spec.dtype) == nil {
            return "profile projection does not know the size of model \(l.model)"
        }
        return nil
    }

    public func prepare(_ spec: CaseSpec, context: CaseContext) throws -> any PreparedCase {
        throw AccelBenchError(.unsupportedCase, "\(name) projects cases; it has no kernels to run")
    }

    public func project(_ spec: CaseSpec) -> Projection? {
        guard let bandwidth = profile.bandwidthGBps else { return nil }
        let peakName = ChipProfile.peakName(for: spec)
        let peak = peakName.flatMap { profile.peakTFLOPS[$0] }
        let work = spec.workload.work(spec.shape, dtype: spec.dtype)
        let flops: Double, flopsRule: String, bytes: Double, bytesRule: String
        if case let .llm(l) = spec.shape {
            guard let cost = modelCost?(l, spec.dtype) else { return nil }
            flops = cost.flopsPerToken * Double(l.tokens)
            flopsRule = "2 FLOPs per weight per token"
            // pp: one batch reads the weights once; tg: every generated token reads them again.
            let passes = l.mode == .pp ? 1.0 : Double(l.tokens)
            bytes = cost.weightBytes * passes
            bytesRule = l.mode == .pp ? "weight bytes once per prompt batch" : "weight bytes per token step (KV cache not counted)"
        } else {
            guard let traffic = spec.workload.projectedBytes(spec.shape, dtype: spec.dtype) else { return nil }
            flops = work.kind == .flops ? work.amount : 0
            flopsRule = work.kind == .flops ? work.rule : "none (traffic only)"
            bytes = traffic.bytes
            bytesRule = traffic.rule
        }
        return Projection(
            profile: profile.id, peakDType: peak == nil ? nil : peakName, computePeakTFLOPS: peak, bandwidthGBps: bandwidth,
            efficiency: efficiency, flops: flops, flopsRule: flopsRule, bytes: bytes, bytesRule: bytesRule, work: work,
            unit: spec.workload.unit)
    }

    /// The profile's dense peak in the case's unit (GFLOPS; GB/s for STREAM), labelled as nominal.
    public func peak(for spec: CaseSpec) -> Peak? {
        switch spec.workload.unit {
        case .gflops:
            guard let name = ChipProfile.peakName(for: spec), let tflops = profile.peakTFLOPS[name] else { return nil }
            return Peak(value: tflops * 1e3, unit: .gflops, label: "profile \(profile.id) dense \(name) peak (nominal, confidence \(profile.confidence))")
        case .gbytesPerSecond:
            guard let bandwidth = profile.bandwidthGBps else { return nil }
            return Peak(value: bandwidth, unit: .gbytesPerSecond, label: "profile \(profile.id) memory bandwidth (nominal, confidence \(profile.confidence))")
        case .tokensPerSecond:
            return nil
        }
    }
}
