import AccelBenchCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

// Node (or chassis) power from a Redfish BMC over HTTP(S).
//
// Two Redfish resources carry power; the newer one is preferred when the chassis links it:
// - `GET /redfish/v1/Chassis/{id}/EnvironmentMetrics` (DMTF 2021.1+): `PowerWatts.Reading` (watts, a
//   sensor excerpt whose `DataSourceUri` names the Sensor with its `SensingInterval`) and, when present,
//   `EnergykWh.Reading`, a cumulative energy counter in kilowatt-hours.
// - `GET /redfish/v1/Chassis/{id}/Power` (deprecated since 2020.4, still what most BMCs serve):
//   `PowerControl[0].PowerConsumedWatts`; its `PowerMetrics` (`AverageConsumedWatts` over
//   `IntervalInMin` minutes, `Min`/`MaxConsumedWatts`) is recorded as telemetry only: an average over
//   minutes says nothing about a benchmark region of seconds.
//
// The chassis id comes from the configuration or, when not configured, from `GET /redfish/v1/Chassis`
// (`Members[].@odata.id`): the first member that reports power is used and the others are named in the
// channel's detail. Requests are plain GETs with HTTP Basic authentication sent with every request
// (Redfish services accept it; no session token to leak or expire), run synchronously on a URLSession
// behind a semaphore with a request timeout. Redirects are not followed (a redirect to another host
// would carry the credentials there): the error names the target so the configuration can point at it.
//
// Credentials are never logged, never in an error message or a channel's detail; the configuration's
// description masks them.

/// Where and how to reach a Redfish BMC. The CLI fills it from flags and the environment
/// (`ACCELBENCH_REDFISH_URL`, `ACCELBENCH_REDFISH_USER`, `ACCELBENCH_REDFISH_PASSWORD`).
public struct RedfishConfiguration: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public static let urlVariable = "ACCELBENCH_REDFISH_URL"
    public static let userVariable = "ACCELBENCH_REDFISH_USER"
    public static let passwordVariable = "ACCELBENCH_REDFISH_PASSWORD"

    /// `https://bmc.example` or `https://10.0.0.5:8443` (a trailing `/redfish/v1` is accepted); no
    /// credentials in the URL.
    public var baseURL: URL
    /// The chassis to read (`Chassis/{id}`); nil: discovered from the Chassis collection.
    public var chassisID: String?
    public var username: String?
    public var password: String?
    /// Accept any server certificate (self-signed BMC certificates). Off by default. Honoured where
    /// URLSession asks its delegate about server trust (Darwin); FoundationNetworking on Linux verifies
    /// inside libcurl without asking, so `detect` refuses the option there with the fix.
    public var insecureSkipTLSVerification: Bool
    /// Per-request timeout, seconds: a BMC that does not answer in time is a `.timeout`.
    public var requestTimeoutSeconds: Double

    public init(
        baseURL: URL, chassisID: String? = nil, username: String? = nil, password: String? = nil,
        insecureSkipTLSVerification: Bool = false, requestTimeoutSeconds: Double = 5
    ) {
        self.baseURL = baseURL
        self.chassisID = chassisID
        self.username = username
        self.password = password
        self.insecureSkipTLSVerification = insecureSkipTLSVerification
        self.requestTimeoutSeconds = requestTimeoutSeconds
    }

    /// The configuration the environment describes, nil when `ACCELBENCH_REDFISH_URL` is unset or empty.
    /// The environment is passed in (the CLI passes `ProcessInfo.processInfo.environment`).
    public static func fromEnvironment(
        _ environment: [String: String], chassisID: String? = nil, insecureSkipTLSVerification: Bool = false,
        requestTimeoutSeconds: Double = 5
    ) throws -> RedfishConfiguration? {
        guard let text = environment[urlVariable]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        guard let url = URL(string: text), url.scheme != nil, url.host != nil else {
            // The text may hold credentials (https://user:pass@bmc): never echo it.
            throw PowerError(.invalidConfiguration, source: "redfish",
                             "\(urlVariable) is not a URL like https://bmc.example or https://10.0.0.5:8443")
        }
        func nonEmpty(_ key: String) -> String? { environment[key].flatMap { $0.isEmpty ? nil : $0 } }
        return RedfishConfiguration(
            baseURL: url, chassisID: chassisID, username: nonEmpty(userVariable), password: nonEmpty(passwordVariable),
            insecureSkipTLSVerification: insecureSkipTLSVerification, requestTimeoutSeconds: requestTimeoutSeconds)
    }

    /// The base URL without any user information, for messages.
    public var displayURL: String { RedfishConfiguration.redact(baseURL) }

    public var description: String {
        let user = username.map { "user \($0)" } ?? "no user"
        let password = password == nil ? "no password" : "password set"
        return "Redfish \(displayURL) (\(chassisID.map { "chassis \($0)" } ?? "chassis discovered"), \(user), \(password)"
            + (insecureSkipTLSVerification ? ", TLS not verified" : "") + String(format: ", timeout %g s)", requestTimeoutSeconds)
    }

    public var debugDescription: String { description }

    /// Keeps `dump()` and debuggers from printing the password.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "baseURL": displayURL, "chassisID": chassisID as Any, "username": username as Any,
            "password": password == nil ? "nil" : "<redacted>",
            "insecureSkipTLSVerification": insecureSkipTLSVerification, "requestTimeoutSeconds": requestTimeoutSeconds,
        ])
    }

    static func redact(_ url: URL) -> String {
        guard var parts = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return "<unparseable URL>" }
        parts.user = nil
        parts.password = nil
        return parts.string ?? "<unparseable URL>"
    }
}

/// Node or chassis power read from a Redfish BMC.
///
/// Channels (one source per BMC):
/// - `redfish:node` (or `redfish:chassis` when the chassis is an enclosure or rack): sampled watts from
///   `EnvironmentMetrics.PowerWatts.Reading` when the chassis links EnvironmentMetrics with a power
///   reading, else `Power.PowerControl[0].PowerConsumedWatts`. Quality `.bmc`.
/// - `redfish:node-energy` (or `redfish:chassis-energy`): `EnvironmentMetrics.EnergykWh.Reading` when
///   present, as a counter in millijoules (`raw = round(kWh × 3.6e9)`, `joulesPerUnit` 0.001, never
///   wraps); the channel's `resolution` is the reading's own step in joules as far as it can be told.
///
/// Each `read` is one GET (the resource both channels come from), stamped at the midpoint of the
/// request. A `null` reading (the BMC says the sensor is unavailable), a negative or non-finite value
/// is a `.fault` reading; an unparseable body or a missing field throws `.malformed` naming the path
/// and the field; HTTP 401/403 throws `.unauthorized`; no answer in time throws `.timeout`.
public final class RedfishSource: PowerSource {
    public let method = PowerMethod.redfish
    public let channels: [PowerChannel]
    /// BMC sensors update about once a second at best; polling faster only loads the BMC.
    public let minimumSampleIntervalSeconds = 1.0
    /// The chassis read, e.g. "1" or "System.Embedded.1".
    public let chassisID: String
    public let scope: PowerScope

    enum WattsField: Sendable {
        /// EnvironmentMetrics PowerWatts.Reading (and EnergykWh.Reading when `energyChannel`).
        case environmentMetrics
        /// Power PowerControl[0].PowerConsumedWatts.
        case powerControl
    }

    private let client: RedfishClient
    private let readPath: String
    private let wattsField: WattsField
    private let wattsChannel: String
    private let energyChannel: String?
    /// The deprecated Power resource, read by `telemetry` for its PowerMetrics averages.
    private let powerPath: String?

    init(
        client: RedfishClient, chassisID: String, scope: PowerScope, readPath: String, wattsField: WattsField,
        hasEnergy: Bool, powerPath: String?, channels: [PowerChannel]
    ) {
        self.client = client
        self.chassisID = chassisID
        self.scope = scope
        self.readPath = readPath
        self.wattsField = wattsField
        self.wattsChannel = "redfish:\(scope.rawValue)"
        self.energyChannel = hasEnergy ? "redfish:\(scope.rawValue)-energy" : nil
        self.powerPath = powerPath
        self.channels = channels
    }

    deinit {
        client.close()
    }

    /// Finds the chassis power on the BMC the configuration names.
    ///
    /// - Returns: nil when `configuration` is nil (no BMC configured: the normal case).
    /// - Throws: `.invalidConfiguration` (bad URL, credentials in the URL, unknown chassis id, the
    ///   insecure option where it cannot be honoured), `.unauthorized` (HTTP 401/403), `.timeout`,
    ///   `.unavailable` (connection refused, TLS failure, no chassis reporting power), `.malformed`.
    public static func detect(configuration: RedfishConfiguration?) throws -> RedfishSource? {
        guard let configuration else { return nil }
        let client = try RedfishClient(configuration)
        do {
            return try discover(client: client, configuration: configuration)
        } catch {
            client.close()
            throw error
        }
    }

    private static func discover(client: RedfishClient, configuration: RedfishConfiguration) throws -> RedfishSource {
        let collectionPath = "/redfish/v1/Chassis"
        var candidates: [String]
        var listed: [String] = []
        if let id = configuration.chassisID {
            guard !id.isEmpty, !id.contains("/"), let escaped = id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) else {
                throw PowerError(.invalidConfiguration, source: "redfish", "chassis id '\(id)' is not a Redfish resource id (no '/')")
            }
            candidates = ["\(collectionPath)/\(escaped)"]
        } else {
            let collection = try client.getJSON(collectionPath)
            guard case let .value(membersValue) = collection.lookup("Members"), let members = membersValue as? [Any] else {
                throw collection.malformed("Members", "an array of chassis links")
            }
            candidates = try members.enumerated().map { index, member in
                guard let link = member as? [String: Any], let path = link["@odata.id"] as? String, path.hasPrefix("/") else {
                    throw collection.malformed("Members[\(index)].@odata.id", "a resource path")
                }
                return path
            }
            listed = candidates.map(lastComponent)
            if candidates.isEmpty {
                throw PowerError(.unavailable, source: "redfish",
                                 "the BMC at \(client.display) lists no chassis in \(collectionPath): it reports no power")
            }
        }

        var notes: [String] = []
        for chassisPath in candidates {
            guard let chassis = try client.getJSONIfPresent(chassisPath) else {
                guard configuration.chassisID != nil else {
                    notes.append("\(chassisPath) not found")
                    continue
                }
                let known = (try? client.getJSON(collectionPath)).flatMap { doc -> [String]? in
                    guard case let .value(v) = doc.lookup("Members"), let members = v as? [[String: Any]] else { return nil }
                    return members.compactMap { ($0["@odata.id"] as? String).map(lastComponent) }
                } ?? []
                throw PowerError(.invalidConfiguration, source: "redfish",
                                 "the BMC at \(client.display) has no chassis '\(configuration.chassisID!)'"
                                     + (known.isEmpty ? "" : "; it lists: \(known.joined(separator: ", "))"))
            }
            let id = (chassis.string("Id")) ?? lastComponent(chassisPath)
            let chassisType = chassis.string("ChassisType")
            let scope: PowerScope = ["Enclosure", "Rack", "RackGroup"].contains(chassisType ?? "") ? .chassis : .node
            let environmentPath = chassis.link("EnvironmentMetrics")
            var powerPath = chassis.link("Power")
            if environmentPath == nil && powerPath == nil { powerPath = chassisPath + "/Power" }
            let base = "chassis \(id)" + (chassisType.map { " (\($0))" } ?? "")

            // Newer resource first.
            if let environmentPath {
                let found = try client.getJSONIfPresent(environmentPath)
                if found == nil {
                    notes.append("\(environmentPath) not found")
                } else if let document = found, case .missing = document.lookup("PowerWatts", "Reading") {
                    notes.append("\(environmentPath) has no PowerWatts.Reading")
                } else if let document = found {
                    let interval = sensingInterval(client: client, document: document, field: "PowerWatts")
                    var channels = [PowerChannel(
                        id: "redfish:\(scope.rawValue)", method: .redfish, scope: scope, kind: .sampledWatts, quality: .bmc,
                        resolution: 1, updateIntervalSeconds: interval.seconds,
                        detail: "EnvironmentMetrics PowerWatts.Reading of \(base) at \(client.display)\(environmentPath): "
                            + "the BMC's power sensor reading\(interval.text); averaging is the BMC's own (vendor-specific); "
                            + "resolution 1 W assumed (Redfish states none); sample stamped at the middle of the request"
                            + otherChassis(listed, chosen: id) + "; " + client.transportDetail)]
                    var hasEnergy = false
                    if case let .value(kWh) = document.lookup("EnergykWh", "Reading"), let reading = number(kWh) {
                        hasEnergy = true
                        let decimals = decimalPlaces(reading)
                        let step = pow(10, -Double(decimals)) * 3.6e6
                        channels.append(PowerChannel(
                            id: "redfish:\(scope.rawValue)-energy", method: .redfish, scope: scope, kind: .energyCounter, quality: .bmc,
                            resolution: step, updateIntervalSeconds: interval.seconds,
                            detail: "EnvironmentMetrics EnergykWh.Reading of \(base) at \(client.display)\(environmentPath): "
                                + "cumulative kWh (a float) turned into a counter in millijoules (raw = round(kWh × 3.6e9), "
                                + "0.001 J per unit, no wrap; a BMC reset of EnergykWh reads as a counter going backwards); "
                                + String(format: "the reading had %d decimal places at detection, so its step is taken as %g kWh = %g J", decimals, pow(10, -Double(decimals)), step)
                                + " (coarser than the true step when the reading ended in zeros)"))
                    }
                    return RedfishSource(
                        client: client, chassisID: id, scope: scope, readPath: environmentPath, wattsField: .environmentMetrics,
                        hasEnergy: hasEnergy, powerPath: powerPath, channels: channels)
                }
            }
            if let powerPath {
                guard let document = try client.getJSONIfPresent(powerPath) else {
                    notes.append("\(powerPath) not found")
                    continue
                }
                if case .missing = document.lookup("PowerControl", 0, "PowerConsumedWatts") {
                    notes.append("\(powerPath) has no PowerControl[0].PowerConsumedWatts")
                    continue
                }
                var averaging = "the BMC's PowerMetrics average over "
                if case let .value(v) = document.lookup("PowerControl", 0, "PowerMetrics", "IntervalInMin"), let minutes = number(v) {
                    averaging += String(format: "%g min", minutes)
                } else {
                    averaging += "an unstated interval"
                }
                let channel = PowerChannel(
                    id: "redfish:\(scope.rawValue)", method: .redfish, scope: scope, kind: .sampledWatts, quality: .bmc,
                    resolution: 1, updateIntervalSeconds: nil,
                    detail: "Power PowerControl[0].PowerConsumedWatts of \(base) at \(client.display)\(powerPath): "
                        + "the BMC's current power reading, averaged the BMC's own way (vendor-specific, often over 1-10 s; "
                        + "update interval unknown); \(averaging) (AverageConsumedWatts, Min/MaxConsumedWatts) is recorded "
                        + "as telemetry only, too coarse for a timed region; resolution 1 W assumed (Redfish states none); "
                        + "sample stamped at the middle of the request" + otherChassis(listed, chosen: id) + "; " + client.transportDetail)
                return RedfishSource(
                    client: client, chassisID: id, scope: scope, readPath: powerPath, wattsField: .powerControl,
                    hasEnergy: false, powerPath: powerPath, channels: [channel])
            }
        }
        throw PowerError(.unavailable, source: "redfish",
                         "no chassis of the BMC at \(client.display) reports power"
                             + (notes.isEmpty ? "" : " (\(notes.joined(separator: "; ")))")
                             + (configuration.chassisID == nil ? "" : "; try another chassis id or none to discover one"))
    }

    public func read(clock: any PowerClock) throws -> [PowerReading] {
        let before = clock.now()
        let document = try client.getJSON(readPath)
        let time = (before + clock.now()) / 2
        var readings: [PowerReading] = []
        switch wattsField {
        case .environmentMetrics:
            readings.append(PowerReading(channel: wattsChannel, time: time, value: try wattsValue(document, "PowerWatts", "Reading")))
            if let energyChannel {
                readings.append(PowerReading(channel: energyChannel, time: time, value: try energyValue(document)))
            }
        case .powerControl:
            readings.append(PowerReading(channel: wattsChannel, time: time,
                                         value: try wattsValue(document, "PowerControl", 0, "PowerConsumedWatts")))
        }
        return readings
    }

    /// The Power resource's PowerMetrics (averages over minutes) and limits, when the chassis has one;
    /// empty when it has none or the request fails (telemetry never fails a measurement).
    public func telemetry(clock: any PowerClock) -> [PowerTelemetry] {
        guard let powerPath, let document = try? client.getJSON(powerPath) else { return [] }
        let time = clock.now()
        var values: [String: String] = [:]
        let fields: [(String, [RedfishDocument.Component])] = [
            ("power_consumed_w", ["PowerControl", 0, "PowerConsumedWatts"]),
            ("average_consumed_w", ["PowerControl", 0, "PowerMetrics", "AverageConsumedWatts"]),
            ("min_consumed_w", ["PowerControl", 0, "PowerMetrics", "MinConsumedWatts"]),
            ("max_consumed_w", ["PowerControl", 0, "PowerMetrics", "MaxConsumedWatts"]),
            ("average_interval_min", ["PowerControl", 0, "PowerMetrics", "IntervalInMin"]),
            ("power_capacity_w", ["PowerControl", 0, "PowerCapacityWatts"]),
            ("power_limit_w", ["PowerControl", 0, "PowerLimit", "LimitInWatts"]),
        ]
        for (name, path) in fields {
            if case let .value(v) = document.lookup(path), let x = RedfishSource.number(v) {
                values[name] = String(format: "%g", x)
            }
        }
        return values.isEmpty ? [] : [PowerTelemetry(channel: wattsChannel, time: time, values: values)]
    }

    private func wattsValue(_ document: RedfishDocument, _ path: RedfishDocument.Component...) throws -> PowerReading.Value {
        let name = RedfishDocument.name(path)
        switch document.lookup(path) {
        case .missing:
            throw document.malformed(name, "a number of watts")
        case .null:
            return .fault("redfish \(document.path) \(name) is null: the BMC reports the sensor unavailable")
        case let .value(v):
            guard let watts = RedfishSource.number(v) else { throw document.malformed(name, "a number of watts") }
            guard watts.isFinite, watts >= 0 else {
                return .fault("redfish \(document.path) \(name) is \(watts) W: implausible, dropped")
            }
            return .watts(watts)
        }
    }

    private func energyValue(_ document: RedfishDocument) throws -> PowerReading.Value {
        switch document.lookup("EnergykWh", "Reading") {
        case .missing:
            throw document.malformed("EnergykWh.Reading", "a number of kWh (it was present at detection)")
        case .null:
            return .fault("redfish \(document.path) EnergykWh.Reading is null: the BMC reports the sensor unavailable")
        case let .value(v):
            guard let kWh = RedfishSource.number(v) else { throw document.malformed("EnergykWh.Reading", "a number of kWh") }
            let millijoules = (kWh * 3.6e9).rounded()
            guard kWh.isFinite, kWh >= 0, millijoules < 1.8e19 else {
                return .fault("redfish \(document.path) EnergykWh.Reading is \(kWh) kWh: implausible, dropped")
            }
            return .counter(raw: UInt64(millijoules), joulesPerUnit: 1e-3, wrapsAt: nil)
        }
    }

    // MARK: helpers

    /// A JSON number as a Double; nil for anything else, booleans included (JSONSerialization gives
    /// NSNumbers for both, and `true as? Double` would read as 1).
    static func number(_ value: Any) -> Double? {
        if let number = value as? NSNumber {
            return String(describing: type(of: number)).contains("Boolean") ? nil : number.doubleValue
        }
        if value is Bool { return nil }
        return value as? Double
    }

    /// Decimal places of a reading as JSON printed it (0...6): the shortest decimal that round-trips.
    static func decimalPlaces(_ value: Double) -> Int {
        for places in 0...6 {
            let scaled = value * pow(10, Double(places))
            if abs(scaled - scaled.rounded()) <= 1e-9 * abs(scaled) { return places }
        }
        return 6
    }

    /// Seconds of an ISO 8601 duration as Redfish writes them ("PT1S", "PT0.5S", "PT1M30S", "P1DT2H").
    static func isoDurationSeconds(_ text: String) -> Double? {
        var rest = Substring(text.uppercased())
        guard rest.first == "P" else { return nil }
        rest = rest.dropFirst()
        var total = 0.0, number = "", inTime = false, any = false
        for ch in rest {
            if ch == "T" { inTime = true; continue }
            if ch.isNumber || ch == "." { number.append(ch); continue }
            guard let value = Double(number) else { return nil }
            number = ""
            switch (ch, inTime) {
            case ("D", false): total += value * 86400
            case ("W", false): total += value * 604800
            case ("H", true): total += value * 3600
            case ("M", true): total += value * 60
            case ("S", true): total += value
            default: return nil
            }
            any = true
        }
        return any && number.isEmpty ? total : nil
    }

    private static func sensingInterval(client: RedfishClient, document: RedfishDocument, field: String) -> (seconds: Double?, text: String) {
        guard case let .value(v) = document.lookup(.key(field), .key("DataSourceUri")), let uri = v as? String, uri.hasPrefix("/"),
              let sensor = try? client.getJSON(uri), let interval = sensor.string("SensingInterval"),
              let seconds = isoDurationSeconds(interval), seconds > 0
        else { return (nil, " (sensing interval not stated)") }
        return (seconds, " (Sensor \(uri) SensingInterval \(interval))")
    }

    private static func otherChassis(_ listed: [String], chosen: String) -> String {
        let others = listed.filter { $0 != chosen }
        guard !others.isEmpty else { return "" }
        return "; chosen as the first chassis reporting power, the BMC also lists \(others.joined(separator: ", ")) "
            + "(choose one with the chassis id option)"
    }

    private static func lastComponent(_ path: String) -> String {
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        let last = trimmed.split(separator: "/").last.map(String.init) ?? trimmed
        return last.removingPercentEncoding ?? last
    }
}

// MARK: - JSON documents

/// A parsed Redfish JSON body and the URL path it came from (for messages).
struct RedfishDocument {
    enum Component: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
        case key(String)
        case index(Int)
        init(stringLiteral value: String) { self = .key(value) }
        init(integerLiteral value: Int) { self = .index(value) }
    }

    enum Field {
        case missing
        case null
        case value(Any)
    }

    let path: String
    let root: [String: Any]

    func lookup(_ components: Component...) -> Field { lookup(components) }

    func lookup(_ components: [Component]) -> Field {
        var current: Any = root
        for component in components {
            switch component {
            case let .key(key):
                guard let object = current as? [String: Any], let next = object[key] else { return .missing }
                current = next
            case let .index(index):
                guard let array = current as? [Any], index >= 0, index < array.count else { return .missing }
                current = array[index]
            }
            if current is NSNull { return .null }
        }
        return .value(current)
    }

    func string(_ key: String) -> String? {
        if case let .value(v) = lookup(.key(key)) { return v as? String }
        return nil
    }

    /// `{ "Power": { "@odata.id": "/redfish/v1/Chassis/1/Power" } }` → the path.
    func link(_ key: String) -> String? {
        if case let .value(v) = lookup(.key(key), .key("@odata.id")), let path = v as? String, path.hasPrefix("/") { return path }
        return nil
    }

    func malformed(_ field: String, _ expected: String) -> PowerError {
        PowerError(.malformed, source: "redfish", "GET \(path): field \(field) missing or not \(expected)")
    }

    static func name(_ components: [Component]) -> String {
        var text = ""
        for component in components {
            switch component {
            case let .key(key): text += text.isEmpty ? key : ".\(key)"
            case let .index(index): text += "[\(index)]"
            }
        }
        return text
    }
}

// MARK: - HTTP

/// Synchronous GETs against one BMC. Immutable after init; URLSession is thread-safe.
final class RedfishClient: Sendable {
    let origin: String
    let display: String
    let timeoutSeconds: Double
    let transportDetail: String
    private let session: URLSession
    private let delegate: RedfishSessionDelegate
    private let authorization: String?
    /// Masks the password should any text from the server or the transport echo it.
    private let secrets: [String]

    init(_ configuration: RedfishConfiguration) throws {
        let url = configuration.baseURL
        guard let parts = URLComponents(url: url, resolvingAgainstBaseURL: false),
              let scheme = parts.scheme?.lowercased(), scheme == "https" || scheme == "http",
              let host = parts.host, !host.isEmpty
        else {
            throw PowerError(.invalidConfiguration, source: "redfish",
                             "the Redfish URL \(configuration.displayURL) is not http(s)://HOST[:PORT]: set \(RedfishConfiguration.urlVariable) to the BMC's address")
        }
        if parts.user != nil || parts.password != nil {
            throw PowerError(.invalidConfiguration, source: "redfish",
                             "the Redfish URL \(configuration.displayURL) carried credentials: remove them from the URL and set \(RedfishConfiguration.userVariable) and \(RedfishConfiguration.passwordVariable)")
        }
        let path = parts.percentEncodedPath
        guard ["", "/", "/redfish/v1", "/redfish/v1/"].contains(path), parts.query == nil else {
            throw PowerError(.invalidConfiguration, source: "redfish",
                             "the Redfish URL \(configuration.displayURL) has a path: give the BMC's address only (https://HOST[:PORT])")
        }
        guard configuration.requestTimeoutSeconds > 0, configuration.requestTimeoutSeconds.isFinite else {
            throw PowerError(.invalidConfiguration, source: "redfish", "the Redfish request timeout must be > 0 s")
        }
        #if !canImport(Security)
        if configuration.insecureSkipTLSVerification {
            throw PowerError(.invalidConfiguration, source: "redfish",
                             "the insecure (skip TLS verification) option cannot be honoured on this platform: FoundationNetworking verifies "
                                 + "certificates inside libcurl without asking URLSession's delegate. Add the BMC's certificate (or its CA) "
                                 + "to the system trust store (Debian/Ubuntu: copy it to /usr/local/share/ca-certificates/ and run "
                                 + "update-ca-certificates) and use the host name it was issued for, or use the BMC's http:// address")
        }
        #endif
        let hostPart = host.contains(":") ? "[\(host)]" : host
        origin = "\(scheme)://\(hostPart)" + (parts.port.map { ":\($0)" } ?? "")
        display = origin
        timeoutSeconds = configuration.requestTimeoutSeconds
        transportDetail = scheme == "http"
            ? "plain HTTP (credentials and readings unencrypted)"
            : (configuration.insecureSkipTLSVerification ? "HTTPS, TLS certificate NOT verified (insecure option)" : "HTTPS, TLS certificate verified")

        if configuration.username != nil || configuration.password != nil {
            let pair = "\(configuration.username ?? ""):\(configuration.password ?? "")"
            let encoded = Data(pair.utf8).base64EncodedString()
            authorization = "Basic \(encoded)"
            secrets = [configuration.password, encoded].compactMap { $0 }.filter { $0.count >= 3 }
        } else {
            authorization = nil
            secrets = []
        }
        let config = URLSessionConfiguration.ephemeral
        // The deadline is enforced by `get` (FoundationNetworking truncates these to whole seconds, so a
        // 0.5 s timeout would become 0); URLSession's own timeouts are only a backstop.
        config.timeoutIntervalForRequest = configuration.requestTimeoutSeconds.rounded(.up) + 1
        config.timeoutIntervalForResource = configuration.requestTimeoutSeconds.rounded(.up) + 1
        config.requestCachePolicy = .reloadIgnoringLocalCacheData
        config.urlCache = nil
        config.httpShouldSetCookies = false
        config.httpCookieAcceptPolicy = .never
        config.urlCredentialStorage = nil
        delegate = RedfishSessionDelegate(acceptAnyServerTrust: configuration.insecureSkipTLSVerification)
        session = URLSession(configuration: config, delegate: delegate, delegateQueue: nil)
    }

    func close() {
        session.invalidateAndCancel()
    }

    /// GET `path` (an absolute resource path) and parse the body as a JSON object.
    func getJSON(_ path: String) throws -> RedfishDocument {
        try getJSON(path, notFoundIsNil: false)!
    }

    /// Like `getJSON`, nil on HTTP 404 (a linked resource the BMC does not serve after all).
    func getJSONIfPresent(_ path: String) throws -> RedfishDocument? {
        try getJSON(path, notFoundIsNil: true)
    }

    private func getJSON(_ path: String, notFoundIsNil: Bool) throws -> RedfishDocument? {
        guard let body = try get(path, notFoundIsNil: notFoundIsNil) else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: body), let root = object as? [String: Any] else {
            let start = String(decoding: body.prefix(40), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
            throw PowerError(.malformed, source: "redfish",
                             scrub("GET \(display)\(path): the body is not a JSON object (\(body.count) bytes, starting '\(start)')"))
        }
        return RedfishDocument(path: path, root: root)
    }

    private final class Outcome: @unchecked Sendable {
        // Sendable: written once by the completion handler before `done` is signalled, read after.
        var data: Data?
        var response: URLResponse?
        var error: (any Error)?
    }

    func get(_ path: String, notFoundIsNil: Bool = false) throws -> Data? {
        guard let url = URL(string: origin + path) else {
            throw PowerError(.malformed, source: "redfish", "the BMC linked a resource path that is not a URL path: \(path)")
        }
        let where_ = "\(display)\(path)"
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeoutSeconds.rounded(.up) + 1)
        request.httpMethod = "GET"
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        request.setValue("4.0", forHTTPHeaderField: "OData-Version")
        if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }

        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        let task = session.dataTask(with: request) { data, response, error in
            outcome.data = data
            outcome.response = response
            outcome.error = error
            done.signal()
        }
        task.resume()
        defer { delegate.forget(task.taskIdentifier) }
        if done.wait(timeout: .now() + timeoutSeconds) == .timedOut {
            task.cancel()
            throw PowerError(.timeout, source: "redfish",
                             String(format: "GET %@: no answer within %g s; check that the BMC is up and reachable", where_, timeoutSeconds))
        }
        if let status = delegate.authenticationChallenge(task.taskIdentifier) {
            // A 401 with WWW-Authenticate: the delegate cancelled the challenge (the credentials were
            // sent with the request and are all there is; FoundationNetworking would otherwise stall).
            throw unauthorized(status, where_)
        }
        if let error = outcome.error {
            throw mapTransportError(error, where_)
        }
        guard let http = outcome.response as? HTTPURLResponse else {
            throw PowerError(.malformed, source: "redfish", "GET \(where_): not an HTTP response")
        }
        let body = outcome.data ?? Data()
        switch http.statusCode {
        case 200..<300:
            return body
        case 404 where notFoundIsNil:
            return nil
        case 401, 403:
            throw unauthorized(http.statusCode, where_)
        case 300..<400:
            let location = (http.value(forHTTPHeaderField: "Location")).flatMap { URL(string: $0) }.map(RedfishConfiguration.redact) ?? "no Location"
            throw PowerError(.unavailable, source: "redfish",
                             scrub("GET \(where_): HTTP \(http.statusCode) redirect to \(location), not followed (credentials stay with the configured host): set \(RedfishConfiguration.urlVariable) to the address the BMC redirects to"))
        default:
            throw PowerError(.unavailable, source: "redfish",
                             scrub("GET \(where_): HTTP \(http.statusCode)" + redfishMessage(body).map { ": \($0)" }.orEmpty))
        }
    }

    private func unauthorized(_ status: Int, _ where_: String) -> PowerError {
        let fix = authorization == nil
            ? "no credentials configured: set \(RedfishConfiguration.userVariable) and \(RedfishConfiguration.passwordVariable)"
            : "check \(RedfishConfiguration.userVariable) / \(RedfishConfiguration.passwordVariable) (the account needs at least the ReadOnly role)"
        return PowerError(.unauthorized, source: "redfish", "GET \(where_): HTTP \(status) \(status == 403 ? "Forbidden" : "Unauthorized"): \(fix)")
    }

    private func mapTransportError(_ error: any Error, _ where_: String) -> PowerError {
        let ns = error as NSError
        let text = scrub(ns.localizedDescription == "(null)" ? "" : ns.localizedDescription)
        let why = text.isEmpty ? "" : " (\(text))"
        guard ns.domain == NSURLErrorDomain else {
            return PowerError(.unavailable, source: "redfish", scrub("GET \(where_): \(error)"))
        }
        switch ns.code {
        case NSURLErrorTimedOut:
            return PowerError(.timeout, source: "redfish",
                              String(format: "GET %@: no answer within %g s%@; check that the BMC is up and reachable", where_, timeoutSeconds, why))
        case NSURLErrorCannotConnectToHost, NSURLErrorNetworkConnectionLost, NSURLErrorNotConnectedToInternet:
            return PowerError(.unavailable, source: "redfish",
                              "GET \(where_): cannot connect\(why); check the address in \(RedfishConfiguration.urlVariable) and that the BMC's Redfish service is enabled")
        case NSURLErrorCannotFindHost, NSURLErrorDNSLookupFailed:
            return PowerError(.unavailable, source: "redfish", "GET \(where_): unknown host\(why); check \(RedfishConfiguration.urlVariable)")
        case NSURLErrorServerCertificateUntrusted, NSURLErrorServerCertificateHasBadDate, NSURLErrorServerCertificateHasUnknownRoot,
             NSURLErrorServerCertificateNotYetValid, NSURLErrorSecureConnectionFailed, NSURLErrorClientCertificateRejected:
            return tlsError(where_, why)
        default:
            if text.contains("SSL") || text.contains("TLS") || text.lowercased().contains("certificate") {
                return tlsError(where_, why)
            }
            return PowerError(.unavailable, source: "redfish", "GET \(where_): request failed\(why)")
        }
    }

    private func tlsError(_ where_: String, _ why: String) -> PowerError {
        PowerError(.unavailable, source: "redfish",
                   "GET \(where_): TLS failed\(why); BMCs often ship self-signed certificates: add the BMC's certificate (or its CA) to the "
                       + "system trust store and use the host name it was issued for, or (where supported) the insecure option")
    }

    /// The Redfish error body's message (`error.message`, then the first `@Message.ExtendedInfo` message).
    private func redfishMessage(_ body: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
              let error = object["error"] as? [String: Any] else { return nil }
        var parts: [String] = []
        if let message = error["message"] as? String { parts.append(message) }
        if let info = error["@Message.ExtendedInfo"] as? [[String: Any]], let first = info.first?["Message"] as? String { parts.append(first) }
        guard !parts.isEmpty else { return nil }
        return String(parts.joined(separator: " ").prefix(300))
    }

    func scrub(_ text: String) -> String {
        var text = text
        for secret in secrets { text = text.replacingOccurrences(of: secret, with: "<redacted>") }
        return text
    }
}

/// Refuses redirects (so credentials never follow one to another host), cancels HTTP authentication
/// challenges (noting them, so `get` reports `.unauthorized`) and, where URLSession asks about server
/// trust (Darwin) and the insecure option is on, accepts the server's certificate.
///
/// Sendable invariant (why `@unchecked` is sound): `challenged` is only touched under `lock`.
private final class RedfishSessionDelegate: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    let acceptAnyServerTrust: Bool
    private let lock = NSLock()
    private var challenged: [Int: Int] = [:]

    init(acceptAnyServerTrust: Bool) {
        self.acceptAnyServerTrust = acceptAnyServerTrust
    }

    /// The HTTP status of the authentication challenge `task` received, if any.
    func authenticationChallenge(_ task: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        return challenged[task]
    }

    func forget(_ task: Int) {
        lock.lock()
        challenged[task] = nil
        lock.unlock()
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
        completionHandler: @escaping @Sendable (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
    ) {
        #if canImport(Security)
        if challenge.protectionSpace.authenticationMethod == NSURLAuthenticationMethodServerTrust {
            if acceptAnyServerTrust, let trust = challenge.protectionSpace.serverTrust {
                completionHandler(.useCredential, URLCredential(trust: trust))
            } else {
                completionHandler(.performDefaultHandling, nil)
            }
            return
        }
        #endif
        lock.lock()
        challenged[task.taskIdentifier] = (challenge.failureResponse as? HTTPURLResponse)?.statusCode ?? 401
        lock.unlock()
        completionHandler(.cancelAuthenticationChallenge, nil)
    }
}

private extension Optional where Wrapped == String {
    var orEmpty: String { self ?? "" }
}
