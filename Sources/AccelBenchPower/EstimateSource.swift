import AccelBenchCore
import Foundation
import Synchronization

/// Power estimated as TDP × utilization where nothing measures it: watts = tdp · (idle + (1 − idle) · u)
/// for a utilization u in 0...1. Always method `estimate`, quality `estimate`: a figure from this source
/// is a model, never a measurement, and its channel's detail says what it was modelled from.
public final class EstimateSource: PowerSource {
    public let method: PowerMethod = .estimate
    public let channels: [PowerChannel]
    public let minimumSampleIntervalSeconds: Double
    public let tdpWatts: Double
    /// Share of TDP drawn at zero utilization, 0...1.
    public let idleFraction: Double
    let utilization: @Sendable () throws -> Double

    /// - Parameters:
    ///   - tdpWatts: the declared thermal design power, watts (> 0).
    ///   - idleFraction: share of TDP drawn when idle, 0...1.
    ///   - utilization: busy fraction since the previous call, 0...1 (clamped); a thrown error or NaN
    ///     becomes a `.fault` reading.
    ///   - basis: where the TDP comes from, e.g. "CPU profile 'AMD EPYC 9004'"; goes into the detail.
    ///   - name: the channel id is "estimate:NAME".
    ///   - scope: what the estimate stands for (a CPU package by default).
    ///   - minimumSampleIntervalSeconds: how often a new utilization figure makes sense.
    public init(
        tdpWatts: Double, idleFraction: Double, utilization: @escaping @Sendable () throws -> Double, basis: String,
        name: String = "cpu", scope: PowerScope = .cpuPackage, minimumSampleIntervalSeconds: Double = 0.1,
        utilizationDescription: String = "utilization"
    ) throws {
        guard tdpWatts.isFinite, tdpWatts > 0 else {
            throw PowerError(.invalidConfiguration, source: "estimate", "TDP must be a positive number of watts, got \(tdpWatts)")
        }
        guard idleFraction.isFinite, (0...1).contains(idleFraction) else {
            throw PowerError(
                .invalidConfiguration, source: "estimate",
                "idle fraction must be in 0...1 (a share of TDP, not a percentage), got \(idleFraction)")
        }
        self.tdpWatts = tdpWatts
        self.idleFraction = idleFraction
        self.utilization = utilization
        self.minimumSampleIntervalSeconds = minimumSampleIntervalSeconds
        let idlePercent = Self.format(idleFraction * 100)
        let detail = "TDP \(Self.format(tdpWatts)) W from \(basis) x \(utilizationDescription) (idle draw \(idlePercent)% "
            + "of TDP); estimated, not comparable with measurements"
        self.channels = [
            PowerChannel(
                id: "estimate:\(name)", method: .estimate, scope: scope, kind: .sampledWatts, quality: .estimate,
                resolution: 0.001, updateIntervalSeconds: nil, detail: detail),
        ]
    }

    /// A CPU estimate from whole-machine utilization in `procRoot`/stat (busy jiffies over all jiffies
    /// between consecutive reads; the first read covers the time since this call). Throws
    /// `.unavailable` when /proc/stat cannot be read or parsed.
    public static func cpu(
        tdpWatts: Double, idleFraction: Double, basis: String, procRoot: String = "/proc"
    ) throws -> EstimateSource {
        let meter = try ProcStatUtilization(path: procRoot + "/stat")
        return try EstimateSource(
            tdpWatts: tdpWatts, idleFraction: idleFraction, utilization: { try meter.next() }, basis: basis,
            name: "cpu", scope: .cpuPackage, minimumSampleIntervalSeconds: 0.1,
            utilizationDescription: "CPU utilization from \(procRoot)/stat")
    }

    /// tdp · (idle + (1 − idle) · utilization), utilization clamped to 0...1.
    public func watts(utilization: Double) -> Double {
        tdpWatts * (idleFraction + (1 - idleFraction) * min(max(utilization, 0), 1))
    }

    public func read(clock: any PowerClock) throws -> [PowerReading] {
        let id = channels[0].id
        let value: PowerReading.Value
        do {
            let busy = try utilization()
            value = busy.isNaN ? .fault("\(id): utilization is not a number") : .watts(watts(utilization: busy))
        } catch let error as PowerError {
            value = .fault(error.message)
        } catch {
            value = .fault("\(id): utilization unavailable: \(error)")
        }
        return [PowerReading(channel: id, time: clock.now(), value: value)]
    }

    /// One decimal at most, no grouping, independent of the locale: 120, 72.5, 33.3.
    static func format(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() && abs(rounded) < 1e15 ? String(Int(rounded)) : "\(rounded)"
    }
}

/// Busy share of all CPUs between calls, from the aggregate "cpu" line of /proc/stat.
final class ProcStatUtilization: Sendable {
    struct Times: Equatable {
        var busy: UInt64
        var total: UInt64
    }

    let path: String
    /// The previous totals and the last utilization returned (repeated when no jiffy passed).
    let state: Mutex<(times: Times, last: Double)>

    init(path: String) throws {
        self.path = path
        self.state = Mutex((try Self.sample(path), 0))
    }

    func next() throws -> Double {
        let now = try Self.sample(path)
        return state.withLock { state in
            let total = now.total &- state.times.total
            let busy = now.busy &- state.times.busy
            // Counters never go back; if they do (a CPU went offline and took its jiffies along), start over.
            guard now.total >= state.times.total, now.busy >= state.times.busy else {
                state.times = now
                return state.last
            }
            guard total > 0 else { return state.last }
            state.times = now
            state.last = min(Double(busy) / Double(total), 1)
            return state.last
        }
    }

    /// cpu user nice system idle iowait irq softirq steal guest guest_nice (jiffies). Busy: all but idle
    /// and iowait; guest time is already counted in user/nice and is not added twice.
    static func sample(_ path: String) throws -> Times {
        let text: String
        switch PowerSysfs.readText(path) {
        case .success(let content): text = content
        case .failure(let failure):
            throw PowerError(.unavailable, source: "estimate", "cannot read \(failure.message); CPU utilization needs /proc/stat")
        }
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else {
            throw PowerError(.malformed, source: "estimate", "\(path): no aggregate 'cpu' line")
        }
        let fields = line.split(separator: " ").dropFirst()
        let values = fields.compactMap { UInt64($0) }
        guard values.count >= 4, values.count == fields.count else {
            throw PowerError(.malformed, source: "estimate", "\(path): cannot parse '\(line.prefix(80))'")
        }
        let field = { (index: Int) -> UInt64 in index < values.count ? values[index] : 0 }
        let idle = field(3) &+ field(4)
        let busy = field(0) &+ field(1) &+ field(2) &+ field(5) &+ field(6) &+ field(7)
        return Times(busy: busy, total: busy &+ idle)
    }
}
