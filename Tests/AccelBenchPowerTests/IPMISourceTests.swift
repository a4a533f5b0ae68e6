import Foundation
import Testing
@testable import AccelBenchPower

/// IPMISource against a fake `ipmitool`: a shell script in a temporary directory, first on the PATH
/// handed to `detect`, printing what real ipmitool prints.
@Suite struct IPMISourceTests {
    /// `ipmitool dcmi power reading` on a Dell iDRAC-class BMC.
    static let dcmiOutput = """

            Instantaneous power reading:                   238 Watts
            Minimum during sampling period:                 95 Watts
            Maximum during sampling period:                412 Watts
            Average power reading over sample period:      230 Watts
            IPMI timestamp:                           Thu Nov 30 02:40:11 2026
            Sampling period:                          00000001 Seconds.
            Power reading state is:                   activated


        """

    @Test func readsNodePowerFromRealDCMIOutput() throws {
        let fake = try FakeIPMITool(body: FakeIPMITool.printing(Self.dcmiOutput))
        defer { fake.remove() }
        let source = try #require(try IPMISource.detect(environment: fake.environment))
        #expect(source.method == .ipmi)
        #expect(source.minimumSampleIntervalSeconds == 1)
        let channel = try #require(source.channels.first)
        #expect(source.channels.count == 1)
        #expect(channel.id == "ipmi:node" && channel.method == .ipmi)
        #expect(channel.scope == .node && channel.quality == .bmc && channel.kind == .sampledWatts)
        #expect(channel.updateIntervalSeconds == 1)
        #expect(channel.detail.contains("sampling period of 1 s"))
        #expect(channel.detail.contains("local BMC"))

        let readings = try source.read(clock: IPMITestClock(start: 10))
        #expect(readings == [PowerReading(channel: "ipmi:node", time: 10, value: .watts(238))])
        #expect(source.telemetry(clock: IPMITestClock(start: 99)) == [PowerTelemetry(channel: "ipmi:node", time: 10, values: [
            "minimum_w": "95", "maximum_w": "412", "average_w": "230", "sampling_period_s": "1",
            "bmc_timestamp": "Thu Nov 30 02:40:11 2026",
        ])])
        #expect(try fake.invocations() == ["dcmi power reading", "dcmi power reading"])
    }

    @Test func remoteBMCGetsConfiguredArgumentsAndThePasswordOnlyThroughTheEnvironment() throws {
        let output = Self.dcmiOutput.replacingOccurrences(of: "00000001 Seconds.", with: "00000005 Seconds.")
        let fake = try FakeIPMITool(body: """
            [ "$IPMI_PASSWORD" = "s3cret-pw" ] || { echo "RAKP 2 HMAC is invalid" >&2; exit 1; }
            \(FakeIPMITool.printing(output))
            """)
        defer { fake.remove() }
        var environment = fake.environment
        environment["IPMI_PASSWORD"] = "s3cret-pw"
        let arguments = ["-I", "lanplus", "-H", "bmc1.example", "-U", "operator", "-E"]
        let source = try #require(try IPMISource.detect(arguments: arguments, environment: environment))
        #expect(try fake.invocations() == ["-I lanplus -H bmc1.example -U operator -E dcmi power reading"])
        let channel = try #require(source.channels.first)
        #expect(channel.updateIntervalSeconds == 5)
        #expect(channel.detail.contains("sampling period of 5 s") && channel.detail.contains("bmc1.example"))
        #expect(!channel.detail.contains("s3cret-pw") && !channel.detail.contains("operator"))
        #expect(try source.read(clock: IPMITestClock(start: 1)).first?.value == .watts(238))

        // A wrong password: unauthorized, and neither the password nor the user name in the message.
        environment["IPMI_PASSWORD"] = "wrong"
        let error = try #require(throws: PowerError.self) {
            try IPMISource.detect(arguments: arguments, environment: environment)
        }
        #expect(error.code == .unauthorized)
        #expect(!error.message.contains("wrong") && !error.message.contains("operator"))
        #expect(error.message.contains("-U ***") && error.message.contains("IPMI_PASSWORD"))
    }

    @Test func authenticationFailureIsUnauthorized() throws {
        let fake = try FakeIPMITool(body: """
            echo "Activate Session error:" >&2
            echo "	Invalid user name" >&2
            echo "Error: Unable to establish LAN session" >&2
            exit 1
            """)
        defer { fake.remove() }
        var environment = fake.environment
        environment["IPMI_PASSWORD"] = "pw"
        let error = try #require(throws: PowerError.self) {
            try IPMISource.detect(arguments: ["-I", "lan", "-H", "10.0.0.7", "-U", "nobody", "-E"], environment: environment)
        }
        #expect(error.code == .unauthorized && error.source == "ipmi")
        #expect(error.message.contains("Invalid user name"))
    }

    @Test func unreachableBMCIsATimeout() throws {
        let fake = try FakeIPMITool(body: """
            echo "Error: Unable to establish IPMI v2 / RMCP+ session" >&2
            exit 1
            """)
        defer { fake.remove() }
        var environment = fake.environment
        environment["IPMI_PASSWORD"] = "pw"
        let error = try #require(throws: PowerError.self) {
            try IPMISource.detect(arguments: ["-I", "lanplus", "-H", "10.0.0.7", "-U", "admin", "-E"], environment: environment)
        }
        #expect(error.code == .timeout)
        #expect(error.message.contains("-H"))
    }

    @Test func hangingCommandIsKilledAtTheTimeout() throws {
        let fake = try FakeIPMITool(body: "exec sleep 20")
        defer { fake.remove() }
        let start = Date()
        let error = try #require(throws: PowerError.self) {
            try IPMISource.detect(environment: fake.environment, timeoutSeconds: 0.3)
        }
        #expect(error.code == .timeout)
        #expect(error.message.contains("0.3 s"))
        #expect(Date().timeIntervalSince(start) < 5)
    }

    @Test func timeoutAfterDetectionIsThrownByRead() throws {
        // The first run answers, every later one hangs.
        let fake = try FakeIPMITool(body: """
            if [ -e "$(dirname "$0")/answered" ]; then exec sleep 20; fi
            touch "$(dirname "$0")/answered"
            \(FakeIPMITool.printing(Self.dcmiOutput))
            """)
        defer { fake.remove() }
        let source = try #require(try IPMISource.detect(environment: fake.environment, timeoutSeconds: 0.3))
        let error = try #require(throws: PowerError.self) { try source.read(clock: IPMITestClock(start: 1)) }
        #expect(error.code == .timeout)
    }

    @Test func malformedOutputIsMalformed() throws {
        let fake = try FakeIPMITool(body: FakeIPMITool.printing("""
            Current Power:                   332 Watts
            Sampling period:                 1000 ms
            """))
        defer { fake.remove() }
        let error = try #require(throws: PowerError.self) { try IPMISource.detect(environment: fake.environment) }
        #expect(error.code == .malformed)
        #expect(error.message.contains("Instantaneous power reading"))
    }

    @Test func deactivatedPowerReadingIsUnavailableWithTheFix() throws {
        let fake = try FakeIPMITool(body: FakeIPMITool.printing("""
                Instantaneous power reading:                   235 Watts
                Minimum during sampling period:                235 Watts
                Maximum during sampling period:                235 Watts
                Average power reading over sample period:      235 Watts
                IPMI timestamp:                                Thu Jan  1 00:00:00 1970
                Sampling period:                               00000000 Seconds.
                Power reading state is:                        deactivated
            """))
        defer { fake.remove() }
        let error = try #require(throws: PowerError.self) { try IPMISource.detect(environment: fake.environment) }
        #expect(error.code == .unavailable)
        #expect(error.message.contains("deactivated") && error.message.contains("enable power monitoring"))
    }

    @Test func zeroWattsIsAFault() throws {
        let fake = try FakeIPMITool(body: FakeIPMITool.printing(
            Self.dcmiOutput.replacingOccurrences(of: "238 Watts", with: "0 Watts")))
        defer { fake.remove() }
        let source = try #require(try IPMISource.detect(environment: fake.environment))
        let reading = try #require(try source.read(clock: IPMITestClock(start: 1)).first)
        guard case .fault(let message) = reading.value else {
            Issue.record("expected a fault, got \(reading.value)")
            return
        }
        #expect(message.contains("0 W"))
    }

    @Test func absentIpmitoolOrLocalBMCIsNil() throws {
        let empty = try FakeIPMITool(body: "exit 0")
        defer { empty.remove() }
        try FileManager.default.removeItem(atPath: empty.path)
        #expect(try IPMISource.detect(environment: empty.environment) == nil)

        let noDevice = try FakeIPMITool(body: """
            echo "Could not open device at /dev/ipmi0 or /dev/ipmi/0 or /dev/ipmidev/0: No such file or directory" >&2
            exit 1
            """)
        defer { noDevice.remove() }
        #expect(try IPMISource.detect(environment: noDevice.environment) == nil)
        // An explicit path to it works the same.
        #expect(try IPMISource.detect(commandPath: noDevice.path, environment: [:]) == nil)
    }

    @Test func unreadableLocalDeviceIsPermissionDenied() throws {
        let fake = try FakeIPMITool(body: """
            echo "Could not open device at /dev/ipmi0 or /dev/ipmi/0 or /dev/ipmidev/0: Permission denied" >&2
            exit 1
            """)
        defer { fake.remove() }
        let error = try #require(throws: PowerError.self) { try IPMISource.detect(environment: fake.environment) }
        #expect(error.code == .permissionDenied)
        #expect(error.message.contains("/dev/ipmi0"))
    }

    @Test func unsafeOrIncompleteConfigurationIsRejected() throws {
        let fake = try FakeIPMITool(body: FakeIPMITool.printing(Self.dcmiOutput))
        defer { fake.remove() }
        let onCommandLine = try #require(throws: PowerError.self) {
            try IPMISource.detect(arguments: ["-H", "bmc", "-U", "admin", "-P", "hunter2"], environment: fake.environment)
        }
        #expect(onCommandLine.code == .invalidConfiguration)
        #expect(!onCommandLine.message.contains("hunter2") && onCommandLine.message.contains("IPMI_PASSWORD"))

        let noPassword = try #require(throws: PowerError.self) {
            try IPMISource.detect(arguments: ["-H", "bmc", "-U", "admin", "-E"], environment: fake.environment)
        }
        #expect(noPassword.code == .invalidConfiguration && noPassword.message.contains("IPMI_PASSWORD"))

        let wouldPrompt = try #require(throws: PowerError.self) {
            try IPMISource.detect(arguments: ["-I", "lanplus", "-H", "bmc", "-U", "admin"], environment: fake.environment)
        }
        #expect(wouldPrompt.code == .invalidConfiguration)

        let missingPath = try #require(throws: PowerError.self) {
            try IPMISource.detect(commandPath: fake.path + "-absent", environment: fake.environment)
        }
        #expect(missingPath.code == .invalidConfiguration)
        #expect(try fake.invocations() == [])
    }

    @Test func samplingPeriodsInOtherUnits() {
        #expect(DCMIPowerReading.parsePeriod("00000001 Seconds.") == 1)
        #expect(DCMIPowerReading.parsePeriod("00000000 Seconds.") == nil)
        #expect(DCMIPowerReading.parsePeriod("1000 ms") == 1)
        #expect(DCMIPowerReading.parsePeriod("5_sec") == 5)
        #expect(DCMIPowerReading.parsePeriod("1_min") == 60)
    }
}

/// A clock that starts at `start` and ticks by 1 on each call.
private final class IPMITestClock: PowerClock, @unchecked Sendable {
    private let lock = NSLock()
    private var next: Double

    init(start: Double) { next = start }

    func now() -> Double {
        lock.lock()
        defer { lock.unlock() }
        defer { next += 1 }
        return next
    }
}

/// A fake `ipmitool` in its own temporary directory: runs `body` with /bin/sh after logging its
/// arguments (one invocation a line) to `invocations.log` next to it.
private struct FakeIPMITool {
    let directory: String
    var path: String { directory + "/ipmitool" }
    /// PATH with the fake first, and the system directories for sh, sleep, cat, touch.
    var environment: [String: String] { ["PATH": "\(directory):/usr/bin:/bin"] }

    init(body: String) throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("accelbench-ipmi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        directory = url.path
        let script = """
            #!/bin/sh
            echo "$*" >> "$(dirname "$0")/invocations.log"
            \(body)

            """
        try writeExecutableScript(path, script)
    }

    /// A shell command printing `text` exactly.
    static func printing(_ text: String) -> String {
        "cat <<'ACCELBENCH_EOF'\n\(text)\nACCELBENCH_EOF"
    }

    func invocations() throws -> [String] {
        let log = directory + "/invocations.log"
        guard FileManager.default.fileExists(atPath: log) else { return [] }
        return try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}
