import Foundation
import Testing
@testable import AccelBenchPower

/// A clock that returns the given times in turn (then keeps the last).
private final class RedfishScriptedClock: PowerClock, @unchecked Sendable {
    // Sendable: `times` only under `lock`.
    private let lock = NSLock()
    private var times: [Double]

    init(_ times: [Double]) { self.times = times }

    func now() -> Double {
        lock.lock()
        defer { lock.unlock() }
        return times.count > 1 ? times.removeFirst() : times[0]
    }
}


@Suite struct RedfishSourceTests {
    static let user = "monitor"
    static let password = "s3cret-PA55word!"
    static var basic: String { "Basic " + Data("\(user):\(password)".utf8).base64EncodedString() }

    static let collection = #"{"@odata.id":"/redfish/v1/Chassis","Members":[{"@odata.id":"/redfish/v1/Chassis/1"}],"Members@odata.count":1}"#

    static func chassis(id: String = "1", type: String = "RackMount", power: Bool = true, environment: Bool = true) -> String {
        var links: [String] = []
        if power { links.append(#""Power":{"@odata.id":"/redfish/v1/Chassis/\#(id)/Power"}"#) }
        if environment { links.append(#""EnvironmentMetrics":{"@odata.id":"/redfish/v1/Chassis/\#(id)/EnvironmentMetrics"}"#) }
        return #"{"@odata.id":"/redfish/v1/Chassis/\#(id)","Id":"\#(id)","Name":"Computer System Chassis","ChassisType":"\#(type)"\#(links.isEmpty ? "" : ",")\#(links.joined(separator: ","))}"#
    }

    static func environmentMetrics(watts: String = "412.5", kWh: String? = "1234.567") -> String {
        var body = #"{"@odata.id":"/redfish/v1/Chassis/1/EnvironmentMetrics","TemperatureCelsius":{"Reading":24.5},"PowerWatts":{"DataSourceUri":"/redfish/v1/Chassis/1/Sensors/TotalPower","Reading":\#(watts)}"#
        if let kWh { body += #","EnergykWh":{"DataSourceUri":"/redfish/v1/Chassis/1/Sensors/TotalEnergy","Reading":\#(kWh)}"# }
        return body + "}"
    }

    static func power(watts: String = "344", id: String = "1") -> String {
        #"{"@odata.id":"/redfish/v1/Chassis/\#(id)/Power","PowerControl":[{"MemberId":"0","Name":"System Power Control","PowerConsumedWatts":\#(watts),"PowerCapacityWatts":800,"PowerMetrics":{"IntervalInMin":1,"MinConsumedWatts":271,"MaxConsumedWatts":489,"AverageConsumedWatts":319},"PowerLimit":{"LimitInWatts":null}}]}"#
    }

    /// A BMC with both resources, the energy counter and a Sensor with its sensing interval.
    static func fullBMC() -> [String: LoopbackHTTPServer.Reply] {
        [
            "/redfish/v1/Chassis": .json(status: 200, body: collection),
            "/redfish/v1/Chassis/1": .json(status: 200, body: chassis()),
            "/redfish/v1/Chassis/1/EnvironmentMetrics": .json(status: 200, body: environmentMetrics()),
            "/redfish/v1/Chassis/1/Sensors/TotalPower": .json(status: 200, body: #"{"Id":"TotalPower","Reading":412.5,"ReadingUnits":"W","SensingInterval":"PT1S"}"#),
            "/redfish/v1/Chassis/1/Power": .json(status: 200, body: power()),
        ]
    }

    func configuration(_ server: LoopbackHTTPServer, chassis: String? = nil, timeout: Double = 5, credentials: Bool = true) -> RedfishConfiguration {
        RedfishConfiguration(
            baseURL: server.baseURL, chassisID: chassis, username: credentials ? Self.user : nil,
            password: credentials ? Self.password : nil, requestTimeoutSeconds: timeout)
    }

    @Test func notConfiguredIsAbsent() throws {
        #expect(try RedfishSource.detect(configuration: nil) == nil)
        #expect(try RedfishConfiguration.fromEnvironment([:]) == nil)
        #expect(try RedfishConfiguration.fromEnvironment(["ACCELBENCH_REDFISH_URL": ""]) == nil)
    }

    @Test func environmentMetricsGiveWattsAndAnEnergyCounter() throws {
        let server = try LoopbackHTTPServer(Self.fullBMC())
        defer { server.stop() }
        let source = try #require(try RedfishSource.detect(configuration: configuration(server)))
        #expect(source.chassisID == "1")
        #expect(source.minimumSampleIntervalSeconds == 1)
        #expect(source.channels.map(\.id) == ["redfish:node", "redfish:node-energy"])
        let watts = source.channels[0], energy = source.channels[1]
        #expect(watts.method == .redfish && watts.scope == .node && watts.kind == .sampledWatts && watts.quality == .bmc)
        #expect(watts.updateIntervalSeconds == 1)
        #expect(watts.detail.contains("PowerWatts.Reading") && watts.detail.contains("PT1S") && watts.detail.contains("plain HTTP"))
        #expect(energy.kind == .energyCounter && energy.scope == .node)
        #expect(energy.resolution == 3600)  // 3 decimal places of kWh
        #expect(energy.detail.contains("millijoules") && energy.detail.contains("3 decimal places"))

        let first = try source.read(clock: RedfishScriptedClock([10, 11]))
        #expect(first == [
            PowerReading(channel: "redfish:node", time: 10.5, value: .watts(412.5)),
            PowerReading(channel: "redfish:node-energy", time: 10.5, value: .counter(raw: 4_444_441_200_000, joulesPerUnit: 1e-3, wrapsAt: nil)),
        ])
        server.set("/redfish/v1/Chassis/1/EnvironmentMetrics", .json(status: 200, body: Self.environmentMetrics(watts: "420", kWh: "1234.568")))
        let second = try source.read(clock: RedfishScriptedClock([12]))
        #expect(second[0].value == .watts(420))
        guard case let .counter(raw1, _, _) = first[1].value, case let .counter(raw2, _, _) = second[1].value else {
            Issue.record("not counters")
            return
        }
        #expect(raw2 - raw1 == 3_600_000)  // 0.001 kWh = 3600 J = 3.6e6 mJ

        let telemetry = source.telemetry(clock: RedfishScriptedClock([13]))
        #expect(telemetry.count == 1)
        #expect(telemetry.first?.channel == "redfish:node")
        #expect(telemetry.first?.values["average_consumed_w"] == "319")
        #expect(telemetry.first?.values["average_interval_min"] == "1")
        #expect(telemetry.first?.values["max_consumed_w"] == "489")
        #expect(telemetry.first?.values["power_limit_w"] == nil)

        // Basic authentication on every request, and nothing fetched beyond what was needed.
        let requests = server.requests
        #expect(!requests.isEmpty && requests.allSatisfy { $0.authorization == Self.basic })
        #expect(requests.map(\.path).prefix(4) == [
            "/redfish/v1/Chassis", "/redfish/v1/Chassis/1", "/redfish/v1/Chassis/1/EnvironmentMetrics", "/redfish/v1/Chassis/1/Sensors/TotalPower",
        ])
    }

    @Test func powerResourceOfAnEnclosureIsChassisScope() throws {
        let server = try LoopbackHTTPServer([
            "/redfish/v1/Chassis": .json(status: 200, body: Self.collection),
            "/redfish/v1/Chassis/1": .json(status: 200, body: Self.chassis(type: "Enclosure", environment: false)),
            "/redfish/v1/Chassis/1/Power": .json(status: 200, body: Self.power()),
        ])
        defer { server.stop() }
        let source = try #require(try RedfishSource.detect(configuration: configuration(server)))
        #expect(source.scope == .chassis)
        #expect(source.channels.map(\.id) == ["redfish:chassis"])
        let channel = source.channels[0]
        #expect(channel.kind == .sampledWatts && channel.updateIntervalSeconds == nil)
        #expect(channel.detail.contains("PowerControl[0].PowerConsumedWatts") && channel.detail.contains("1 min") && channel.detail.contains("telemetry only"))
        #expect(try source.read(clock: RedfishScriptedClock([5])) == [PowerReading(channel: "redfish:chassis", time: 5, value: .watts(344))])
    }

    @Test func environmentMetricsWithoutPowerFallBackToPower() throws {
        var routes = Self.fullBMC()
        routes["/redfish/v1/Chassis/1/EnvironmentMetrics"] = .json(status: 200, body: #"{"TemperatureCelsius":{"Reading":24.5}}"#)
        let server = try LoopbackHTTPServer(routes)
        defer { server.stop() }
        let source = try #require(try RedfishSource.detect(configuration: configuration(server)))
        #expect(source.channels.map(\.id) == ["redfish:node"])
        #expect(try source.read(clock: RedfishScriptedClock([1])).first?.value == .watts(344))
    }

    @Test func discoveryTakesTheFirstChassisReportingPower() throws {
        let server = try LoopbackHTTPServer([
            "/redfish/v1/Chassis": .json(status: 200, body: #"{"Members":[{"@odata.id":"/redfish/v1/Chassis/Backplane"},{"@odata.id":"/redfish/v1/Chassis/System.Embedded.1"}]}"#),
            "/redfish/v1/Chassis/Backplane": .json(status: 200, body: #"{"Id":"Backplane","ChassisType":"StorageEnclosure"}"#),
            "/redfish/v1/Chassis/System.Embedded.1": .json(status: 200, body: Self.chassis(id: "System.Embedded.1", environment: false)),
            "/redfish/v1/Chassis/System.Embedded.1/Power": .json(status: 200, body: Self.power(id: "System.Embedded.1")),
        ])
        defer { server.stop() }
        let source = try #require(try RedfishSource.detect(configuration: configuration(server)))
        #expect(source.chassisID == "System.Embedded.1")
        #expect(source.scope == .node)
        #expect(source.channels[0].detail.contains("also lists Backplane"))
    }

    @Test func configuredChassisSkipsDiscoveryAndUnknownOnesAreNamed() throws {
        let server = try LoopbackHTTPServer(Self.fullBMC())
        defer { server.stop() }
        let source = try #require(try RedfishSource.detect(configuration: configuration(server, chassis: "1")))
        #expect(source.chassisID == "1")
        #expect(!server.requests.map(\.path).contains("/redfish/v1/Chassis"))

        let error = thrownPowerError { _ = try RedfishSource.detect(configuration: configuration(server, chassis: "9")) }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains("no chassis '9'") == true && error?.message.contains("it lists: 1") == true)

        let slash = thrownPowerError { _ = try RedfishSource.detect(configuration: configuration(server, chassis: "1/Power")) }
        #expect(slash?.code == .invalidConfiguration)
    }

    @Test func noChassisReportingPowerIsUnavailable() throws {
        let server = try LoopbackHTTPServer([
            "/redfish/v1/Chassis": .json(status: 200, body: Self.collection),
            "/redfish/v1/Chassis/1": .json(status: 200, body: Self.chassis(environment: false)),
            "/redfish/v1/Chassis/1/Power": .json(status: 200, body: #"{"PowerControl":[]}"#),
        ])
        defer { server.stop() }
        let error = thrownPowerError { _ = try RedfishSource.detect(configuration: configuration(server)) }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("/redfish/v1/Chassis/1/Power has no PowerControl[0].PowerConsumedWatts") == true)

        server.set("/redfish/v1/Chassis", .json(status: 200, body: #"{"Members":[]}"#))
        #expect(thrownPowerError { _ = try RedfishSource.detect(configuration: configuration(server)) }?.code == .unavailable)
    }

    @Test func unauthorizedNamesTheFix() throws {
        let server = try LoopbackHTTPServer([
            "/redfish/v1/Chassis": .json(
                status: 401, body: #"{"error":{"code":"Base.1.8.GeneralError","message":"Unauthorized"}}"#,
                headers: ["WWW-Authenticate": #"Basic realm="Redfish""#]),
        ])
        defer { server.stop() }
        let error = thrownPowerError { _ = try RedfishSource.detect(configuration: configuration(server)) }
        #expect(error?.code == .unauthorized)
        #expect(error?.message.contains("HTTP 401") == true)
        #expect(error?.message.contains("ACCELBENCH_REDFISH_USER") == true && error?.message.contains("ACCELBENCH_REDFISH_PASSWORD") == true)
        #expect(error?.message.contains("/redfish/v1/Chassis") == true)

        let anonymous = thrownPowerError { _ = try RedfishSource.detect(configuration: configuration(server, credentials: false)) }
        #expect(anonymous?.code == .unauthorized)
        #expect(anonymous?.message.contains("no credentials configured") == true)

        server.set("/redfish/v1/Chassis", .json(status: 403, body: "{}"))
        #expect(thrownPowerError { _ = try RedfishSource.detect(configuration: configuration(server)) }?.code == .unauthorized)
    }

    @Test func aBMCThatNeverAnswersTimesOut() throws {
        let server = try LoopbackHTTPServer(["/redfish/v1/Chassis": .hang])
        defer { server.stop() }
        let start = Date()
        let error = thrownPowerError { _ = try RedfishSource.detect(configuration: configuration(server, timeout: 0.5)) }
        #expect(error?.code == .timeout)
        #expect(error?.message.contains("http://127.0.0.1:\(server.port)/redfish/v1/Chassis") == true)
        #expect(Date().timeIntervalSince(start) < 3)
    }

    @Test func aReadThatTimesOutThrowsAndTheNextOneWorks() throws {
        let server = try LoopbackHTTPServer(Self.fullBMC())
        defer { server.stop() }
        // 1 s, not less: detection must succeed first on a loaded machine.
        let source = try #require(try RedfishSource.detect(configuration: configuration(server, timeout: 1)))
        server.set("/redfish/v1/Chassis/1/EnvironmentMetrics", .hang)
        #expect(thrownPowerError { _ = try source.read(clock: MonotonicPowerClock()) }?.code == .timeout)
        server.set("/redfish/v1/Chassis/1/EnvironmentMetrics", .json(status: 200, body: Self.environmentMetrics()))
        #expect(try source.read(clock: MonotonicPowerClock()).count == 2)
    }

    @Test func garbageAndMissingFieldsAreMalformed() throws {
        let server = try LoopbackHTTPServer(["/redfish/v1/Chassis": .json(status: 200, body: "<html><body>Login</body></html>")])
        defer { server.stop() }
        let garbage = thrownPowerError { _ = try RedfishSource.detect(configuration: configuration(server)) }
        #expect(garbage?.code == .malformed)
        #expect(garbage?.message.contains("GET http://127.0.0.1:\(server.port)/redfish/v1/Chassis") == true)
        #expect(garbage?.message.contains("not a JSON object") == true)

        server.set("/redfish/v1/Chassis", .json(status: 200, body: #"{"Name":"Chassis Collection"}"#))
        let noMembers = thrownPowerError { _ = try RedfishSource.detect(configuration: configuration(server)) }
        #expect(noMembers?.code == .malformed)
        #expect(noMembers?.message.contains("field Members") == true)

        for (path, reply) in Self.fullBMC() { server.set(path, reply) }
        let source = try #require(try RedfishSource.detect(configuration: configuration(server)))
        server.set("/redfish/v1/Chassis/1/EnvironmentMetrics", .json(status: 200, body: #"{"PowerWatts":{"DataSourceUri":"x"},"EnergykWh":{"Reading":1}}"#))
        let missing = thrownPowerError { _ = try source.read(clock: MonotonicPowerClock()) }
        #expect(missing?.code == .malformed)
        #expect(missing?.message.contains("GET /redfish/v1/Chassis/1/EnvironmentMetrics") == true)
        #expect(missing?.message.contains("PowerWatts.Reading") == true)

        server.set("/redfish/v1/Chassis/1/EnvironmentMetrics", .json(status: 200, body: #"{"PowerWatts":{"Reading":"four hundred"},"EnergykWh":{"Reading":1}}"#))
        #expect(thrownPowerError { _ = try source.read(clock: MonotonicPowerClock()) }?.code == .malformed)

        server.set("/redfish/v1/Chassis/1/EnvironmentMetrics", .json(status: 200, body: "{\"PowerWatts\": {\"Reading\": 4"))
        #expect(thrownPowerError { _ = try source.read(clock: MonotonicPowerClock()) }?.code == .malformed)
    }

    @Test func missingPowerControlFieldAtReadIsMalformed() throws {
        let server = try LoopbackHTTPServer([
            "/redfish/v1/Chassis/1": .json(status: 200, body: Self.chassis(environment: false)),
            "/redfish/v1/Chassis/1/Power": .json(status: 200, body: Self.power()),
        ])
        defer { server.stop() }
        let source = try #require(try RedfishSource.detect(configuration: configuration(server, chassis: "1")))
        server.set("/redfish/v1/Chassis/1/Power", .json(status: 200, body: #"{"PowerControl":[]}"#))
        let error = thrownPowerError { _ = try source.read(clock: MonotonicPowerClock()) }
        #expect(error?.code == .malformed)
        #expect(error?.message.contains("/redfish/v1/Chassis/1/Power: field PowerControl[0].PowerConsumedWatts") == true)
    }

    @Test func nullAndImplausibleReadingsAreFaults() throws {
        let server = try LoopbackHTTPServer(Self.fullBMC())
        defer { server.stop() }
        let source = try #require(try RedfishSource.detect(configuration: configuration(server)))
        server.set("/redfish/v1/Chassis/1/EnvironmentMetrics", .json(status: 200, body: Self.environmentMetrics(watts: "null", kWh: "-1.5")))
        let readings = try source.read(clock: RedfishScriptedClock([3]))
        #expect(readings.count == 2)
        guard case let .fault(nullMessage) = readings[0].value, case let .fault(negativeMessage) = readings[1].value else {
            Issue.record("expected faults, got \(readings)")
            return
        }
        #expect(nullMessage.contains("PowerWatts.Reading is null"))
        #expect(negativeMessage.contains("EnergykWh.Reading is -1.5"))

        server.set("/redfish/v1/Chassis/1/EnvironmentMetrics", .json(status: 200, body: Self.environmentMetrics(watts: "-20")))
        guard case .fault = try source.read(clock: RedfishScriptedClock([4]))[0].value else {
            Issue.record("negative watts should be a fault")
            return
        }
    }

    @Test func connectionRefusedNamesTheURL() throws {
        let server = try LoopbackHTTPServer()
        let port = server.port
        server.stop()
        let config = RedfishConfiguration(baseURL: URL(string: "http://127.0.0.1:\(port)")!, username: Self.user, password: Self.password)
        let error = thrownPowerError { _ = try RedfishSource.detect(configuration: config) }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("http://127.0.0.1:\(port)/redfish/v1/Chassis") == true)
        #expect(error?.message.contains("cannot connect") == true)
    }

    @Test func redirectsAreNotFollowed() throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        server.set("/redfish/v1/Chassis", .json(status: 302, body: "{}", headers: ["Location": "http://127.0.0.1:\(server.port)/elsewhere"]))
        server.set("/elsewhere", .json(status: 200, body: Self.collection))
        let error = thrownPowerError { _ = try RedfishSource.detect(configuration: configuration(server)) }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("redirect to http://127.0.0.1:\(server.port)/elsewhere") == true)
        #expect(!server.requests.map(\.path).contains("/elsewhere"))
    }

    @Test func serverErrorsCarryTheRedfishMessage() throws {
        let server = try LoopbackHTTPServer([
            "/redfish/v1/Chassis": .json(status: 503, body: #"{"error":{"code":"Base.1.8.ServiceTemporarilyUnavailable","message":"Service busy, retry later."}}"#),
        ])
        defer { server.stop() }
        let error = thrownPowerError { _ = try RedfishSource.detect(configuration: configuration(server)) }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("HTTP 503: Service busy, retry later.") == true)
    }

    @Test func thePasswordNeverAppearsInAnyMessage() throws {
        let secret = Self.password
        let encoded = Data("\(Self.user):\(secret)".utf8).base64EncodedString()
        var texts: [String] = []
        func record(_ error: PowerError?) {
            guard let error else { return }
            texts += [error.message, error.description, "\(error)", String(reflecting: error)]
        }

        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let config = configuration(server, timeout: 1)
        let replies: [LoopbackHTTPServer.Reply] = [
            .json(status: 401, body: "{}"),
            .json(status: 403, body: "{}"),
            .hang,
            .json(status: 200, body: "not json \(secret)"),
            // A BMC that echoes what it was sent (a badly written one) must not leak it either.
            .json(status: 500, body: #"{"error":{"code":"x","message":"bad credentials \#(Self.user):\#(secret) / \#(encoded)"}}"#),
            .json(status: 302, body: "{}", headers: ["Location": "http://\(Self.user):\(secret)@127.0.0.1:1/x"]),
        ]
        for reply in replies {
            server.set("/redfish/v1/Chassis", reply)
            let error = thrownPowerError { _ = try RedfishSource.detect(configuration: config) }
            #expect(error != nil)
            record(error)
        }
        // Credentials in the URL are refused without being echoed.
        let inURL = RedfishConfiguration(baseURL: URL(string: "https://\(Self.user):\(secret)@bmc.example")!)
        record(thrownPowerError { _ = try RedfishSource.detect(configuration: inURL) })
        record(thrownPowerError { _ = try RedfishConfiguration.fromEnvironment(["ACCELBENCH_REDFISH_URL": "::\(secret)::"]) })
        // Refused connection.
        let closed = try LoopbackHTTPServer()
        closed.stop()
        var refused = config
        refused.baseURL = closed.baseURL
        record(thrownPowerError { _ = try RedfishSource.detect(configuration: refused) })
        // Read-time failures and a good source's details.
        for (path, reply) in Self.fullBMC() { server.set(path, reply) }
        let source = try #require(try RedfishSource.detect(configuration: config))
        texts += source.channels.map(\.detail)
        for reply in replies {
            server.set("/redfish/v1/Chassis/1/EnvironmentMetrics", reply)
            record(thrownPowerError { _ = try source.read(clock: MonotonicPowerClock()) })
        }
        // The configuration's own descriptions.
        var dumped = ""
        dump(config, to: &dumped)
        texts += [config.description, String(reflecting: config), "\(config)", dumped]

        #expect(texts.count > 40)
        for text in texts {
            #expect(!text.contains(secret), "password leaked: \(text)")
            #expect(!text.contains(encoded), "encoded credentials leaked: \(text)")
        }
    }

    @Test func configurationFromTheEnvironment() throws {
        let config = try #require(try RedfishConfiguration.fromEnvironment([
            "ACCELBENCH_REDFISH_URL": "https://10.0.0.5:8443", "ACCELBENCH_REDFISH_USER": "monitor", "ACCELBENCH_REDFISH_PASSWORD": "pw-123",
        ], chassisID: "1"))
        #expect(config.baseURL.absoluteString == "https://10.0.0.5:8443")
        #expect(config.username == "monitor" && config.password == "pw-123" && config.chassisID == "1")
        #expect(config.insecureSkipTLSVerification == false)
        #expect(config.description.contains("password set") && !config.description.contains("pw-123"))
        #expect(thrownPowerError { _ = try RedfishConfiguration.fromEnvironment(["ACCELBENCH_REDFISH_URL": "bmc"]) }?.code == .invalidConfiguration)

        let withPath = RedfishConfiguration(baseURL: URL(string: "https://bmc.example/ui/login")!)
        #expect(thrownPowerError { _ = try RedfishSource.detect(configuration: withPath) }?.code == .invalidConfiguration)
        let ftp = RedfishConfiguration(baseURL: URL(string: "ftp://bmc.example")!)
        #expect(thrownPowerError { _ = try RedfishSource.detect(configuration: ftp) }?.code == .invalidConfiguration)
    }

    @Test func aBaseURLEndingInRedfishV1IsAccepted() throws {
        let server = try LoopbackHTTPServer(Self.fullBMC())
        defer { server.stop() }
        var config = configuration(server)
        config.baseURL = server.baseURL.appendingPathComponent("redfish/v1")
        #expect(try RedfishSource.detect(configuration: config)?.chassisID == "1")
    }

    #if os(Linux)
    @Test func insecureIsRefusedWhereFoundationNetworkingCannotHonourIt() throws {
        let config = RedfishConfiguration(baseURL: URL(string: "https://bmc.example")!, insecureSkipTLSVerification: true)
        let error = thrownPowerError { _ = try RedfishSource.detect(configuration: config) }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains("trust store") == true)
    }
    #endif

    @Test func isoDurationsAndDecimalPlaces() {
        #expect(RedfishSource.isoDurationSeconds("PT1S") == 1)
        #expect(RedfishSource.isoDurationSeconds("PT0.5S") == 0.5)
        #expect(RedfishSource.isoDurationSeconds("PT1M30S") == 90)
        #expect(RedfishSource.isoDurationSeconds("P1DT2H") == 93600)
        #expect(RedfishSource.isoDurationSeconds("1S") == nil)
        #expect(RedfishSource.isoDurationSeconds("PT") == nil)
        #expect(RedfishSource.isoDurationSeconds("PT5") == nil)
        #expect(RedfishSource.decimalPlaces(1234.567) == 3)
        #expect(RedfishSource.decimalPlaces(12) == 0)
        #expect(RedfishSource.decimalPlaces(0.25) == 2)
        #expect(RedfishSource.decimalPlaces(1e-9) == 6)
    }
}
