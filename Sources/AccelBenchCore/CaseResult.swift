/// What one case produced. A failed or skipped case is data, not an exception: the suite goes on.
public struct CaseResult: Codable, Sendable {
    public enum Status: String, Codable, Sendable {
        /// Measured, and the output matched the reference.
        case passed
        /// The output did not match the reference, or the case failed while running: no speed is reported.
        case failed
        /// The backend cannot run this case here (reason given).
        case skipped
        /// Not run: a roofline projection from a chip profile (`projection`). No samples, no correctness
        /// check; never a measurement.
        case projected
    }

    public var spec: CaseSpec
    public var status: Status
    /// Why it failed or was skipped.
    public var reason: String?
    public var kernelPath: String?
    public var work: Work
    public var unit: ThroughputUnit
    /// Throughput per sample in `unit` (median, p5, p95...). Only for passed cases.
    public var throughput: Summary?
    /// Seconds per call. Only for passed cases.
    public var seconds: Summary?
    public var measurement: Measurement?
    public var correctness: CorrectnessCheck?
    /// median / the ceiling named in `peak`, 0...1 (can exceed 1 when a ceiling was measured low).
    public var peakFraction: Double?
    public var peak: Peak?
    /// A second measure of the same timed calls (decode attention: KV bytes read per second), judged
    /// against its own ceiling.
    public var secondary: SecondaryThroughput?
    /// The process's peak resident memory while the case ran (prepare included), bytes; nil where the
    /// platform cannot reset and read it.
    public var peakResidentBytes: Int?
    /// Energy of the timed region per power channel, with efficiency (work per joule), method, scope
    /// and quality; nil when no power source was used.
    public var energy: EnergyWindow?
    /// The roofline projection of a `projected` result (profile, bound, FLOPs and bytes rules, efficiency).
    public var projection: Projection?
    /// The kernel against a reference operation timed in alternation with it (a cold GEMV against a
    /// plain read of the same weight bytes), where the case has one.
    public var paired: PairedComparison?

    public var medianThroughput: Double? { throughput?.median }

    /// A result with only its identity and status (a case that never got measured).
    public init(spec: CaseSpec, status: Status, work: Work, unit: ThroughputUnit, reason: String? = nil) {
        self.spec = spec
        self.status = status
        self.work = work
        self.unit = unit
        self.reason = reason
    }
}

/// A ceiling a result is judged against.
public struct Peak: Codable, Sendable, Equatable {
    public var value: Double
    public var unit: ThroughputUnit
    /// What it is, e.g. "measured fp32 FMA ceiling, 2 cores".
    public var label: String

    public init(value: Double, unit: ThroughputUnit, label: String) {
        self.value = value
        self.unit = unit
        self.label = label
    }
}

/// Throughput of the same samples by a second work rule (e.g. bytes read instead of FLOPs).
public struct SecondaryThroughput: Codable, Sendable {
    public var work: Work
    public var unit: ThroughputUnit
    public var throughput: Summary
    public var peak: Peak?
    /// median / peak.
    public var peakFraction: Double?

    public init(work: Work, unit: ThroughputUnit, throughput: Summary, peak: Peak?) {
        self.work = work
        self.unit = unit
        self.throughput = throughput
        self.peak = peak
        if let peak, peak.value > 0 { peakFraction = throughput.median / peak.value }
    }
}

/// A kernel judged against a reference operation timed in alternation with it (`PairedReference`,
/// `Measurer.measurePaired`): each pair gives both throughputs by the same measure and their ratio.
/// The ratio's median and its distribution-free 95% interval are the figure to quote: drift of the
/// machine between pairs cancels in each ratio.
public struct PairedComparison: Codable, Sendable {
    /// What the reference did.
    public var label: String
    public var unit: ThroughputUnit
    public var kernelWork: Work
    public var referenceWork: Work
    /// Throughput of the kernel's batch in each pair, in `unit`.
    public var kernel: Summary
    /// Throughput of the reference's batch in each pair, in `unit`.
    public var reference: Summary
    /// Kernel throughput / reference throughput, per pair.
    public var ratio: Summary
    /// 95% confidence interval of the ratio's median (order statistics); nil with fewer than 6 pairs.
    public var ratioLow95: Double?
    public var ratioHigh95: Double?
    public var measurement: PairedMeasurement

    /// Summarizes `measurement` of a kernel (doing `kernelWork` per call) paired with a reference
    /// (doing `referenceWork` per call); nil without pairs.
    public init?(label: String, kernelWork: Work, referenceWork: Work, measurement: PairedMeasurement) {
        guard !measurement.kernelSecondsPerCall.isEmpty else { return nil }
        let unit = ThroughputUnit(measuring: kernelWork.kind)
        let k = measurement.kernelSecondsPerCall.map { unit.value(work: kernelWork, seconds: $0) }
        let r = measurement.referenceSecondsPerCall.map { unit.value(work: referenceWork, seconds: $0) }
        let ratios = zip(k, r).map { $1 > 0 ? $0 / $1 : 0 }
        self.label = label
        self.unit = unit
        self.kernelWork = kernelWork
        self.referenceWork = referenceWork
        kernel = Summary(k)
        reference = Summary(r)
        ratio = Summary(ratios)
        let interval = Summary.medianInterval(sorted: ratios.sorted())
        ratioLow95 = interval?.low
        ratioHigh95 = interval?.high
        self.measurement = measurement
    }
}
