#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the measurement loop reads time. A parameter so the loop is tested with a fake clock.
public protocol MeasurementClock: Sendable {
    /// Monotonic time in seconds from an arbitrary origin.
    func now() -> Double
}

/// CLOCK_MONOTONIC: not affected by wall-clock adjustments.
public struct MonotonicClock: MeasurementClock {
    public init() {}

    public func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}

/// When the measurement loop stops taking samples.
///
/// It stops as soon as all three of `minSamples`, `minSeconds` and `maxNoise` hold (converged), or when
/// `timeoutSeconds` of sampling have passed (the noise target was not met: the result says so) and at
/// least `timeoutFloorSamples` samples (or `minSamples`, if fewer) were taken, or after `maxSamples`.
public struct StoppingRule: Codable, Sendable, Equatable {
    /// Samples a timeout cannot cut below (unless `minSamples` asks for fewer): calls longer than the
    /// timeout (an LLM decode of 128 tokens takes seconds) still get a median and a spread from five
    /// samples, llama-bench's default repetitions, instead of one.
    public static let timeoutFloorSamples = 5

    /// At least this many samples (10 by default, the least a rank test between two runs can use).
    public var minSamples: Int
    /// At least this much sampling time, seconds.
    public var minSeconds: Double
    /// Relative noise target: the samples' robust CV (IQR / (1.349 x median)) must be at most this.
    public var maxNoise: Double
    /// Sampling gives up waiting for `maxNoise` after this many seconds.
    public var timeoutSeconds: Double
    /// Hard cap on the number of samples.
    public var maxSamples: Int
    /// Warm-up time before the first sample (at least one call is always made), seconds.
    public var warmupSeconds: Double
    /// Calls are batched so that one sample lasts at least this long, seconds (keeps timer
    /// resolution and call overhead out of the figures for short kernels).
    public var minSampleSeconds: Double

    public init(
        minSamples: Int = 10, minSeconds: Double = 0.5, maxNoise: Double = 0.02,
        timeoutSeconds: Double = 5, maxSamples: Int = 10_000, warmupSeconds: Double = 0.1,
        minSampleSeconds: Double = 0.002
    ) {
        self.minSamples = minSamples
        self.minSeconds = minSeconds
        self.maxNoise = maxNoise
        self.timeoutSeconds = timeoutSeconds
        self.maxSamples = maxSamples
        self.warmupSeconds = warmupSeconds
        self.minSampleSeconds = minSampleSeconds
    }

    /// Whether sampling stops after the latest of `values`, `elapsed` seconds in: converged once at
    /// least `convergeAt` values, `minSeconds` and the noise target hold; timeout past
    /// `timeoutSeconds` once there are at least `floor` values; nil: go on. The noise test sorts every
    /// value so far, so it runs after each value while there are few, then every n/32 values (long
    /// timeouts with short samples stay linear-ish).
    func stop(after values: [Double], elapsed: Double, convergeAt: Int, floor: Int) -> StopReason? {
        let n = values.count
        if n >= convergeAt && elapsed >= minSeconds && n % max(1, n / 32) == 0
            && Summary.robustCV(sorted: values.sorted()) <= maxNoise
        {
            return .converged
        }
        return elapsed >= timeoutSeconds && n >= floor ? .timeout : nil
    }

    /// The rule of the `quick` suite: short timeouts so the whole suite stays within two minutes.
    public static let quick = StoppingRule(minSamples: 10, minSeconds: 0.3, maxNoise: 0.03, timeoutSeconds: 2.5)
    public static let standard = StoppingRule()
    public static let full = StoppingRule(minSamples: 20, minSeconds: 1.0, maxNoise: 0.01, timeoutSeconds: 20)
}

/// Which rule ended the sampling.
public enum StopReason: String, Codable, Sendable {
    /// min samples, min time and the noise target all held.
    case converged
    /// The timeout passed before the noise target was met.
    case timeout
    /// The sample cap was reached before the noise target was met.
    case maxSamples = "max_samples"
}

/// The timings of one case: seconds per call for each sample.
public struct Measurement: Codable, Sendable, Equatable {
    /// Seconds per call, one entry per sample (a sample times `callsPerSample` back-to-back calls).
    public var secondsPerCall: [Double]
    public var callsPerSample: Int
    public var warmupCalls: Int
    public var stopReason: StopReason
    /// Wall time spent sampling (warm-up excluded), seconds.
    public var samplingSeconds: Double
    public var rule: StoppingRule
    /// Energy over exactly the sampled region, when a meter was given.
    public var energy: EnergyWindow?

    public var summary: Summary { Summary(secondsPerCall) }
    /// Calls made inside the sampled region (the energy window).
    public var timedCalls: Int { secondsPerCall.count * callsPerSample }
}

/// The timings of a kernel and a reference timed in alternation (`Measurer.measurePaired`): entry i
/// of each array is pair i.
public struct PairedMeasurement: Codable, Sendable, Equatable {
    /// Pairs taken even past the timeout: the fewest that give a 95% interval for the median ratio.
    public static let minimumPairs = 6

    public var kernelSecondsPerCall: [Double]
    public var referenceSecondsPerCall: [Double]
    /// Calls per batch, the same on both sides.
    public var callsPerSample: Int
    public var stopReason: StopReason
    /// Wall time of the pairs, seconds.
    public var samplingSeconds: Double

    public init(
        kernelSecondsPerCall: [Double], referenceSecondsPerCall: [Double], callsPerSample: Int, stopReason: StopReason,
        samplingSeconds: Double
    ) {
        precondition(kernelSecondsPerCall.count == referenceSecondsPerCall.count, "PairedMeasurement: unpaired samples")
        self.kernelSecondsPerCall = kernelSecondsPerCall
        self.referenceSecondsPerCall = referenceSecondsPerCall
        self.callsPerSample = callsPerSample
        self.stopReason = stopReason
        self.samplingSeconds = samplingSeconds
    }
}

/// The measurement loop: warm-up, then samples until the stopping rule holds.
public struct Measurer: Sendable {
    public let clock: any MeasurementClock
    public let rule: StoppingRule
    /// Opened right before the first sample and closed right after the last; sampling lasts at least
    /// its `minimumWindowSeconds` (the timed work is repeated until the window is long enough).
    public let energy: (any EnergyMeter)?

    public init(clock: any MeasurementClock = MonotonicClock(), rule: StoppingRule, energy: (any EnergyMeter)? = nil) {
        self.clock = clock
        self.rule = rule
        self.energy = energy
    }

    /// Times `body`, which performs one call of the kernel under test. `beforeSample` runs outside
    /// the timed region before each sample (e.g. rotating input buffers).
    public func measure(beforeSample: () -> Void = {}, _ body: () -> Void) -> Measurement {
        // Warm-up: at least one call; the fastest warm-up call sizes the batch.
        var warmupCalls = 0
        var fastest = Double.infinity
        let warmupStart = clock.now()
        repeat {
            let t0 = clock.now()
            body()
            let t1 = clock.now()
            fastest = min(fastest, t1 - t0)
            warmupCalls += 1
        } while clock.now() - warmupStart < rule.warmupSeconds
        let callsPerSample = Measurer.callsPerSample(fastestCall: fastest, minSampleSeconds: rule.minSampleSeconds)

        var samples: [Double] = []
        samples.reserveCapacity(min(rule.maxSamples, 1024))
        var rule = self.rule
        if let energy {
            rule.minSeconds = max(rule.minSeconds, energy.minimumWindowSeconds)
            rule.timeoutSeconds = max(rule.timeoutSeconds, rule.minSeconds)
            energy.begin()
        }
        let start = clock.now()
        var stopReason = StopReason.maxSamples
        while samples.count < rule.maxSamples {
            beforeSample()
            let t0 = clock.now()
            for _ in 0..<callsPerSample { body() }
            let t1 = clock.now()
            samples.append((t1 - t0) / Double(callsPerSample))
            let elapsed = t1 - start
            if let reason = rule.stop(
                after: samples, elapsed: elapsed, convergeAt: rule.minSamples,
                floor: min(rule.minSamples, StoppingRule.timeoutFloorSamples))
            {
                stopReason = reason
                break
            }
        }
        let window = energy?.end()
        return Measurement(
            secondsPerCall: samples, callsPerSample: callsPerSample, warmupCalls: warmupCalls,
            stopReason: stopReason, samplingSeconds: clock.now() - start, rule: rule, energy: window)
    }

    /// Times a kernel and a reference operation in alternation: each pair is one batch of
    /// `callsPerSample` kernel calls and one of reference calls, back to back, the order swapped from
    /// one pair to the next (kernel first, then reference first), so a drift in the machine's speed
    /// reaches both sides of a pair alike. Sampling stops by the same rule as `measure`, applied to
    /// the per-pair ratio of the two timings (converged: at least 10 pairs), and never before 6 pairs,
    /// the fewest that give a 95% interval for the median ratio. No energy window: this pass mixes two
    /// kinds of work.
    /// - Parameter callsPerSample: calls per batch; nil: one warm-up call of each side sizes it (as
    ///   `measure` does) from the faster of the two.
    public func measurePaired(callsPerSample: Int?, kernel: () -> Void, reference: () -> Void) -> PairedMeasurement {
        // Warm-up of the reference's code path and threads (and of the kernel's, if it is not the
        // call `measure` just timed).
        let calls: Int
        if let callsPerSample {
            reference()
            calls = max(1, callsPerSample)
        } else {
            let t0 = clock.now()
            kernel()
            let t1 = clock.now()
            reference()
            let t2 = clock.now()
            calls = Measurer.callsPerSample(fastestCall: min(t1 - t0, t2 - t1), minSampleSeconds: rule.minSampleSeconds)
        }
        func timed(_ body: () -> Void) -> Double {
            let t0 = clock.now()
            for _ in 0..<calls { body() }
            return (clock.now() - t0) / Double(calls)
        }
        let minPairs = max(10, rule.minSamples)
        var kernelSeconds: [Double] = [], referenceSeconds: [Double] = [], ratios: [Double] = []
        var stopReason = StopReason.maxSamples
        let start = clock.now()
        while kernelSeconds.count < rule.maxSamples {
            let k: Double, r: Double
            if kernelSeconds.count % 2 == 0 {
                k = timed(kernel)
                r = timed(reference)
            } else {
                r = timed(reference)
                k = timed(kernel)
            }
            kernelSeconds.append(k)
            referenceSeconds.append(r)
            ratios.append(k > 0 ? r / k : 0)
            if let reason = rule.stop(
                after: ratios, elapsed: clock.now() - start, convergeAt: minPairs, floor: PairedMeasurement.minimumPairs)
            {
                stopReason = reason
                break
            }
        }
        return PairedMeasurement(
            kernelSecondsPerCall: kernelSeconds, referenceSecondsPerCall: referenceSeconds, callsPerSample: calls,
            stopReason: stopReason, samplingSeconds: clock.now() - start)
    }

    static func callsPerSample(fastestCall: Double, minSampleSeconds: Double) -> Int {
        guard fastestCall > 0, fastestCall < minSampleSeconds else { return 1 }
        return min(1 << 20, Int((minSampleSeconds / fastestCall).rounded(.up)))
    }
}
