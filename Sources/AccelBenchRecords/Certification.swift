import AccelBenchJSON
import Foundation

/// Pass/fail limits for one SKU, from a thresholds file or the built-in defaults.
///
/// The file (JSON):
/// ```json
/// {"version": 1,
///  "skus": {"cpu-host": {"min_peak_fraction": {"fp32": 0.5, "bf16": 0.4, "int8": 0.3, "memory_bandwidth": 0.6},
///                        "max_noise": 0.1, "require_no_throttle": true, "min_power_level": 1},
///           "default": {"min_peak_fraction": {"fp32": 0.4}}}}
/// ```
/// Keys of `min_peak_fraction`: fp32, fp16, bf16 (matmul), int8 (w8a8 qgemm), memory_bandwidth (stream).
/// `min_power_level`: 0 estimate, 1 in-band counter, 2 BMC, 3 calibrated meter; absent = power not required.
/// Unknown keys are errors: a typo must not make a check disappear.
public struct CertificationThresholds: Sendable, Equatable {
    public var minPeakFraction: [String: Double]
    public var maxNoise: Double
    public var requireNoThrottle: Bool
    public var minPowerLevel: Int?

    public static let peakNames = ["fp32", "fp16", "bf16", "int8", "memory_bandwidth"]
    public static let builtin = CertificationThresholds(
        minPeakFraction: ["fp32": 0.5, "memory_bandwidth": 0.5], maxNoise: 0.10, requireNoThrottle: true, minPowerLevel: nil)

    public init(minPeakFraction: [String: Double], maxNoise: Double, requireNoThrottle: Bool, minPowerLevel: Int?) {
        self.minPeakFraction = minPeakFraction
        self.maxNoise = maxNoise
        self.requireNoThrottle = requireNoThrottle
        self.minPowerLevel = minPowerLevel
    }

    /// The thresholds for `sku` in a thresholds file (its entry, else "default"); errors name the key at fault.
    public static func parse(_ data: Data, sku: String) throws -> CertificationThresholds {
        let json: JSON
        do { json = try JSON.parse(data) } catch { throw RecordError("the thresholds file is not valid JSON: \(error)") }
        guard let top = json.objectValue else { throw RecordError("the thresholds file must be a JSON object with \"version\" and \"skus\"") }
        for key in top.keys where !["version", "skus"].contains(key) {
            throw RecordError("thresholds file: unknown key '\(key)' (known: version, skus)")
        }
        guard top["version"]?.intValue == 1 else { throw RecordError("thresholds file: \"version\" must be 1") }
        guard let skus = top["skus"]?.objectValue else { throw RecordError("thresholds file: \"skus\" must be an object of SKU -> thresholds") }
        guard let entry = skus[sku] ?? skus["default"] else {
            throw RecordError("thresholds file: no entry for SKU '\(sku)' and no \"default\" (entries: \(skus.keys.sorted().joined(separator: ", ")))")
        }
        let name = skus[sku] != nil ? sku : "default"
        guard let fields = entry.objectValue else { throw RecordError("thresholds file: skus.\(name) must be an object") }
        var out = CertificationThresholds(minPeakFraction: [:], maxNoise: builtin.maxNoise, requireNoThrottle: builtin.requireNoThrottle, minPowerLevel: nil)
        for (key, value) in fields {
            switch key {
            case "min_peak_fraction":
                guard let fractions = value.objectValue else { throw RecordError("thresholds file: skus.\(name).min_peak_fraction must be an object") }
                for (peak, f) in fractions {
                    guard peakNames.contains(peak) else {
                        throw RecordError("thresholds file: skus.\(name).min_peak_fraction.\(peak) is not one of \(peakNames.joined(separator: ", "))")
                    }
                    guard let x = f.doubleValue, x >= 0, x <= 1.05 else {
                        throw RecordError("thresholds file: skus.\(name).min_peak_fraction.\(peak) must be a fraction in 0...1.05")
                    }
                    out.minPeakFraction[peak] = x
                }
            case "max_noise":
                guard let x = value.doubleValue, x >= 0 else { throw RecordError("thresholds file: skus.\(name).max_noise must be a number >= 0") }
                out.maxNoise = x
            case "require_no_throttle":
                guard let b = value.boolValue else { throw RecordError("thresholds file: skus.\(name).require_no_throttle must be true or false") }
                out.requireNoThrottle = b
            case "min_power_level":
                if value.isNull { out.minPowerLevel = nil; continue }
                guard let l = value.intValue, (0...3).contains(l) else {
                    throw RecordError("thresholds file: skus.\(name).min_power_level must be 0...3 (estimate, in-band counter, BMC, calibrated meter) or null")
                }
                out.minPowerLevel = l
            default:
                throw RecordError("thresholds file: unknown key skus.\(name).\(key) (known: min_peak_fraction, max_noise, require_no_throttle, min_power_level)")
            }
        }
        return out
    }

    var json: JSON {
        var o: [String: JSON] = [
            "min_peak_fraction": .object(minPeakFraction.mapValues(JSON.number)), "max_noise": .number(maxNoise),
            "require_no_throttle": .bool(requireNoThrottle),
        ]
        o["min_power_level"] = minPowerLevel.map { .number(Double($0)) } ?? .null
        return .object(o)
    }
}

/// Decides certification from a record's results against a chip profile's peaks.
public enum Certifier {
    /// Peaks of the profile: fp32/fp16/bf16 in TFLOPS, int8 in TOPS, memory_bandwidth in GB/s.
    public struct ProfilePeaks: Sendable, Equatable {
        public var profile: String
        /// measured_ceiling (cpu-host, derived from this run's ceilings) or nominal_profile (a datasheet).
        public var kind: String
        public var values: [String: Double]

        public init(profile: String, kind: String, values: [String: Double]) {
            self.profile = profile
            self.kind = kind
            self.values = values
        }
    }

    /// Adds the `certify.*` checks and the certification block to the record's validity and sets its status.
    /// `eligible`: the result ids that ran on the profile's chip.
    public static func certify(
        _ record: inout CapabilityRecord, peaks: ProfilePeaks, sku: String, thresholds: CertificationThresholds, thresholdsSource: String,
        eligible: Set<String>
    ) throws {
        typealias Check = CapabilityRecord.Check
        var checks: [Check] = []
        let results = record.results.filter { eligible.contains($0.id) }
        let passed = results.filter { $0.status == "passed" && $0.throughput != nil }

        for name in thresholds.minPeakFraction.keys.sorted() {
            let minimum = thresholds.minPeakFraction[name]!
            let id = "certify.peak_fraction:\(name)"
            let candidates = passed.filter { r in
                switch name {
                case "memory_bandwidth": r.workload == "stream"
                case "int8": r.workload == "qgemm" && r.dtype == "w8a8"
                default: r.workload == "matmul" && r.dtype == name
                }
            }
            guard let peak = peaks.values[name], peak > 0 else {
                checks.append(Check(id: id, passed: false, threshold: minimum, note: "profile \(peaks.profile) has no \(name) peak"))
                continue
            }
            guard let best = candidates.max(by: { $0.throughput!.median < $1.throughput!.median }) else {
                let what = name == "memory_bandwidth" ? "stream" : name == "int8" ? "w8a8 qgemm" : "\(name) matmul"
                checks.append(Check(id: id, passed: false, threshold: minimum, note: "no passed \(what) result on this chip: select it (--workload/--dtype) or use a suite that has it"))
                continue
            }
            let peakInUnit = name == "memory_bandwidth" ? peak : peak * 1000
            let fraction = best.throughput!.median / peakInUnit
            checks.append(Check(
                id: id, passed: fraction >= minimum, value: fraction, threshold: minimum,
                note: "\(best.id) \(best.backend) \(best.shape) \(best.threads)T: median \(best.throughput!.median) \(best.unit) of \(peakInUnit) (\(peaks.kind) \(peaks.profile))"))
        }

        let incorrect = results.filter { $0.status == "failed" || ($0.status == "passed" && $0.correctness?.passed != true) }
        checks.append(Check(
            id: "certify.correctness", passed: incorrect.isEmpty && !passed.isEmpty, value: Double(incorrect.count), threshold: 0,
            note: passed.isEmpty ? "no passed result on this chip" : incorrect.isEmpty ? "\(passed.count) results matched their float64 references"
                : "failed: " + incorrect.prefix(5).map { "\($0.id) \($0.workload) \($0.shape)" }.joined(separator: ", ")))

        let noisiest = passed.max { $0.throughput!.robustCv < $1.throughput!.robustCv }
        let noise = noisiest?.throughput?.robustCv ?? 0
        checks.append(Check(
            id: "certify.noise", passed: noise <= thresholds.maxNoise, value: noise, threshold: thresholds.maxNoise,
            note: noisiest.map { "noisiest: \($0.id) \($0.workload) \($0.shape) \($0.threads)T" }))

        if thresholds.requireNoThrottle {
            let throttled = record.validity.checks.filter { $0.id.hasPrefix("throttle.none:") && !$0.passed }
            let evidence = record.validity.checks.contains { $0.id.hasPrefix("throttle.none:") }
            checks.append(Check(
                id: "certify.no_throttle", passed: throttled.isEmpty,
                note: !throttled.isEmpty ? "throttled in " + throttled.map(\.id).joined(separator: ", ")
                    : evidence ? "no throttle reason in the power telemetry" : "no throttle telemetry on this machine (no NVML/plugin clocks): none seen"))
        }
        if let level = thresholds.minPowerLevel {
            let best = record.power.windows.flatMap(\.channels).filter { $0.energyJ != nil }.map(\.level).max()
            checks.append(Check(
                id: "certify.power_level", passed: (best ?? -1) >= level, value: best.map(Double.init), threshold: Double(level),
                note: best == nil ? "no power channel measured energy (see accelbench power)" : nil))
        }

        record.validity.checks.removeAll { $0.id.hasPrefix("certify.") }
        record.validity.checks += checks
        let passedAll = checks.allSatisfy(\.passed)
        record.validity.certification = CapabilityRecord.Certification(
            profile: peaks.profile, sku: sku, thresholdsDigest: RecordCoding.digest(try thresholds.json.canonicalData()),
            thresholdsSource: thresholdsSource, passed: passedAll, checkIds: checks.map(\.id))
        record.validity.status = RecordChecks.status(of: record.validity.checks)
    }
}
