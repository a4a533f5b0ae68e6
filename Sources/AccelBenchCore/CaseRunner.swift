/// Runs one case through the fixed sequence: prepare, poison, run, check, measure, check again.
///
/// Correctness is checked on the first call and again on the output of the last timed call, so a
/// kernel that is only fast when it is wrong cannot report a speed.
public struct CaseRunner: Sendable {
    public let measurer: Measurer
    public let seed: UInt64
    /// Passed to backends (see `CaseContext.lastLevelCacheBytes`).
    public let lastLevelCacheBytes: Int
    /// The ceiling a case's throughput in a unit is judged against, if one is known.
    public let peak: @Sendable (CaseSpec, ThroughputUnit) -> Peak?
    /// Idle power per channel id, watts, measured before the suite (dynamic power = average - idle).
    public let idleWatts: [String: Double]

    public init(
        measurer: Measurer, seed: UInt64 = 0x5EED, lastLevelCacheBytes: Int = 0,
        peak: @escaping @Sendable (CaseSpec, ThroughputUnit) -> Peak? = { _, _ in nil },
        idleWatts: [String: Double] = [:]
    ) {
        self.measurer = measurer
        self.seed = seed
        self.lastLevelCacheBytes = lastLevelCacheBytes
        self.peak = peak
        self.idleWatts = idleWatts
    }

    public func run(_ spec: CaseSpec, on backend: any Backend, pool: WorkerPool) -> CaseResult {
        let work = spec.workload.work(spec.shape, dtype: spec.dtype)
        let unit = spec.workload.unit
        var result = CaseResult(spec: spec, status: .skipped, work: work, unit: unit)
        if let reason = backend.unsupportedReason(spec) {
            result.reason = reason
            return result
        }
        if let projecting = backend as? any ProjectingBackend {
            return CaseRunner.project(spec, on: projecting, result: result)
        }
        let prepared: any PreparedCase
        do {
            prepared = try backend.prepare(
                spec, context: CaseContext(pool: pool, seed: seed, lastLevelCacheBytes: lastLevelCacheBytes))
        } catch {
            result.status = .failed
            result.reason = "prepare failed: \(error)"
            return result
        }
        result.kernelPath = prepared.kernelPath

        prepared.poisonOutputs()
        prepared.run()
        let first = prepared.check()
        result.correctness = first
        guard first.passed else {
            result.status = .failed
            result.reason = "incorrect output: \(first.explanation)"
            backend.endPhase()
            return result
        }

        prepared.poisonOutputs()
        var measurement = measurer.measure(beforeSample: { prepared.beforeSample() }, { prepared.run() })
        if let reference = prepared.pairedReference {
            let pairs = measurer.measurePaired(
                callsPerSample: reference.kernel == nil ? measurement.callsPerSample : nil,
                kernel: reference.kernel ?? { prepared.run() }, reference: reference.run)
            result.paired = PairedComparison(
                label: reference.label, kernelWork: reference.kernelWork, referenceWork: reference.work, measurement: pairs)
            if reference.kernel != nil {
                // The pairs ran a unit of the call; the final check must see a whole call's outputs.
                prepared.poisonOutputs()
                prepared.run()
            }
        }
        backend.endPhase()
        let last = prepared.check()
        result.correctness = last.value >= first.value ? last : first
        guard last.passed else {
            result.status = .failed
            result.reason = "incorrect output after the timed calls: \(last.explanation)"
            return result
        }

        result.status = .passed
        if var window = measurement.energy {
            // Efficiency: all the work of the window's calls over each channel's energy.
            let windowWork = Work(amount: work.amount * Double(measurement.timedCalls), kind: work.kind, rule: work.rule)
            for i in window.channels.indices {
                window.channels[i].idleWatts = idleWatts[window.channels[i].id]
                if let joules = window.channels[i].joules, joules > 0 {
                    window.channels[i].efficiency = unit.value(work: windowWork, seconds: joules)
                    window.channels[i].efficiencyUnit = unit.perWatt
                }
            }
            measurement.energy = window
            result.energy = window
        }
        result.measurement = measurement
        result.seconds = measurement.summary
        result.throughput = Summary(measurement.secondsPerCall.map { unit.value(work: work, seconds: $0) })
        if let secondWork = prepared.secondaryWork ?? spec.workload.secondaryWork(spec.shape, dtype: spec.dtype) {
            let secondUnit = ThroughputUnit(measuring: secondWork.kind)
            result.secondary = SecondaryThroughput(
                work: secondWork, unit: secondUnit,
                throughput: Summary(measurement.secondsPerCall.map { secondUnit.value(work: secondWork, seconds: $0) }),
                peak: nil)
        }
        attachPeaks(&result)
        return result
    }

    /// Judges a passed result against this runner's ceilings: its throughput and its secondary measure
    /// each get the ceiling of their unit and the fraction of it (also for results measured in a worker
    /// process, which knows no ceilings).
    public func attachPeaks(_ result: inout CaseResult) {
        let spec = result.spec
        if let peak = peak(spec, result.unit), peak.unit == result.unit, peak.value > 0, let median = result.throughput?.median {
            result.peak = peak
            result.peakFraction = median / peak.value
        }
        if let secondary = result.secondary {
            let secondPeak = peak(spec, secondary.unit).flatMap { $0.unit == secondary.unit ? $0 : nil }
            result.secondary = SecondaryThroughput(
                work: secondary.work, unit: secondary.unit, throughput: secondary.throughput, peak: secondPeak)
        }
    }

    /// A projecting backend's result: status `projected`, no samples, the profile's peak and the
    /// fraction of it the projection reaches.
    static func project(_ spec: CaseSpec, on backend: any ProjectingBackend, result: CaseResult) -> CaseResult {
        var result = result
        guard let projection = backend.project(spec) else {
            result.reason = "\(backend.name) cannot project this case"
            return result
        }
        result.status = .projected
        result.projection = projection
        result.kernelPath = "roofline projection (profile \(projection.profile))"
        if let peak = backend.peak(for: spec), peak.unit == result.unit, peak.value > 0 {
            result.peak = peak
            result.peakFraction = projection.throughput / peak.value
        }
        return result
    }
}
