import Foundation
import Testing
@testable import AccelBenchPower


/// Reads `source` until `done` holds for everything read so far or a read throws; returns the readings
/// and the error (if any). Gives up after `seconds`.
private func readUntil(
    _ source: MeterSource, seconds: Double = 5, _ done: ([PowerReading]) -> Bool = { _ in false }
) -> (readings: [PowerReading], error: PowerError?) {
    let deadline = Date(timeIntervalSinceNow: seconds)
    var all: [PowerReading] = []
    while Date() < deadline {
        do {
            all += try source.read(clock: MonotonicPowerClock())
        } catch let error as PowerError {
            return (all, error)
        } catch {
            Issue.record("not a PowerError: \(error)")
            return (all, nil)
        }
        if done(all) { return (all, nil) }
        Thread.sleep(forTimeInterval: 0.01)
    }
    return (all, nil)
}

private func watts(_ readings: [PowerReading]) -> [Double] {
    readings.compactMap { if case let .watts(w) = $0.value { w } else { nil } }
}

private func counters(_ readings: [PowerReading]) -> [UInt64] {
    readings.compactMap { if case let .counter(raw, _, _) = $0.value { raw } else { nil } }
}

private func faults(_ readings: [PowerReading]) -> [String] {
    readings.compactMap { if case let .fault(message) = $0.value { message } else { nil } }
}

/// A temporary directory with executable scripts in it, removed on deinit.
private final class MeterScriptDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("accelbench-meter-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    @discardableResult
    func script(_ name: String, _ body: String, executable: Bool = true) throws -> String {
        let path = url.appendingPathComponent(name).path
        try writeExecutableScript(path, "#!/bin/sh\n" + body, mode: executable ? 0o755 : 0o644)
        return path
    }
}

@Suite struct MeterSourceTests {
    @Test func notConfiguredIsAbsent() throws {
        #expect(try MeterSource.detect(configuration: nil) == nil)
        #expect(try MeterSource.detect(spec: nil) == nil)
        #expect(try MeterSource.detect(spec: "  ") == nil)
    }

    @Test func tcpMeterStreamsSamplesAndADroppedConnectionIsReported() throws {
        let release = DispatchSemaphore(value: 0)
        let server = try LoopbackServer { connection in
            connection.write("# loopback meter\r\naccelbench-meter 1 accuracy=0.1% scope=node_wall values=W,J interval=0.05 name=wt310 firmware=2.1\r\n")
            connection.write("W 100.5\nJ 10.5\n1700000000.25 101\nbogus line\nW nan\nW -3\n\n# still here\n")
            release.wait()
            connection.write("W 102\nJ 11.5\n")
        }
        defer { server.stop() }
        let before = MonotonicPowerClock().now()
        let source = try #require(try MeterSource.detect(spec: "tcp://127.0.0.1:\(server.port)"))
        #expect(source.method == .meter)
        #expect(source.channels.map(\.id) == ["meter:wt310", "meter:wt310-energy"])
        let w = source.channels[0], j = source.channels[1]
        #expect(w.quality == .calibratedMeter && j.quality == .calibratedMeter)
        #expect(w.scope == .nodeWall && w.kind == .sampledWatts && j.kind == .energyCounter)
        #expect(w.updateIntervalSeconds == 0.05)
        #expect(w.detail.contains("accuracy class 0.1%") && w.detail.contains("tcp://127.0.0.1:\(server.port)"))
        #expect(w.detail.contains("header keys ignored: firmware"))
        #expect(source.minimumSampleIntervalSeconds == 0.1)

        let first = readUntil(source) { watts($0).count >= 2 && faults($0).count >= 3 }
        #expect(first.error == nil)
        #expect(watts(first.readings) == [100.5, 101])
        #expect(counters(first.readings) == [10_500])
        let firstFaults = faults(first.readings)
        #expect(firstFaults.contains { $0.contains("implausible power sample (nan W)") })
        #expect(firstFaults.contains { $0.contains("implausible power sample (-3.0 W)") })
        #expect(firstFaults.contains { $0.contains("skipped 1 malformed line since the last read (last: 'bogus line')") })
        let now = MonotonicPowerClock().now()
        #expect(first.readings.allSatisfy { $0.time >= before && $0.time <= now })
        #expect(first.readings.filter { if case .watts = $0.value { true } else { false } }.allSatisfy { $0.channel == "meter:wt310" })
        #expect(first.readings.filter { if case .counter = $0.value { true } else { false } }.allSatisfy { $0.channel == "meter:wt310-energy" })

        let telemetry = source.telemetry(clock: MonotonicPowerClock())
        #expect(telemetry.first?.values["meter_time_s"] == "1700000000.250000")
        #expect(telemetry.first?.values["malformed_lines_total"] == "1")

        // Nothing new: an empty read, not a repeated counter.
        #expect(try source.read(clock: MonotonicPowerClock()) == [])

        // The meter sends two more records and hangs up: the records are still handed over (with a
        // fault per channel when the hang-up was seen in the same read), then reads throw.
        release.signal()
        let second = readUntil(source)
        #expect(watts(second.readings) == [102])
        #expect(counters(second.readings) == [11_500])
        let dropFaults = faults(second.readings)
        #expect(dropFaults.isEmpty || dropFaults.count == 2)  // one per channel
        #expect(dropFaults.allSatisfy { $0.contains("dropped at t=") })
        let error = second.error
        #expect(error?.code == .timeout)
        #expect(error?.message.contains("meter connection to tcp://127.0.0.1:\(server.port) dropped at t=") == true)
        #expect(error?.message.contains("after 9 lines") == true)
        #expect(thrownPowerError { _ = try source.read(clock: MonotonicPowerClock()) }?.code == .timeout)
    }

    @Test func aDropWithNothingPendingThrowsAtOnce() throws {
        let server = try LoopbackServer { connection in
            connection.write("accelbench-meter 1\nW 5\n")
        }
        defer { server.stop() }
        let source = try #require(try MeterSource.detect(spec: "tcp://127.0.0.1:\(server.port)"))
        #expect(source.channels.map(\.id) == ["meter:node_wall"])
        #expect(source.channels[0].quality == .bmc)
        #expect(source.channels[0].detail.contains("uncalibrated"))
        // Let the sample and the hang-up arrive, then take them together.
        let deadline = Date(timeIntervalSinceNow: 5)
        while !source.hasEnded && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let readings = try source.read(clock: MonotonicPowerClock())
        #expect(watts(readings) == [5])
        #expect(faults(readings).count == 1 && faults(readings)[0].contains("dropped at t="))
        let error = thrownPowerError { _ = try source.read(clock: MonotonicPowerClock()) }
        #expect(error?.code == .timeout && error?.message.contains("dropped") == true)
    }

    @Test func commandMeterReadsStdoutAndReportsItsExit() throws {
        let directory = try MeterScriptDirectory()
        try directory.script("fake-meter", """
            echo "# fake meter, args: $*"
            echo "accelbench-meter 1 scope=accelerator_board values=W resolution=0.1"
            echo "W 250"
            echo "garbage"
            echo "W 251 extra"
            echo "J 12"
            echo "W 252"
            echo "lost the instrument" >&2
            exit 3
            """)
        // A bare program name is looked up in the PATH passed in.
        let config = try MeterConfiguration.parse("cmd:fake-meter --port /dev/ttyUSB0", environment: ["PATH": "/nonexistent:\(directory.url.path)"])
        #expect(config.endpoint == .command(executable: directory.url.appendingPathComponent("fake-meter").path, arguments: ["--port", "/dev/ttyUSB0"]))
        #expect(config.display == "cmd:\(directory.url.path)/fake-meter")
        let source = try #require(try MeterSource.detect(configuration: config))
        #expect(source.channels.map(\.id) == ["meter:accelerator_board"])
        let channel = source.channels[0]
        #expect(channel.scope == .acceleratorBoard && channel.quality == .bmc && channel.resolution == 0.1)

        let result = readUntil(source)
        #expect(result.error?.code == .timeout)
        #expect(watts(result.readings) == [250, 252])
        let messages = faults(result.readings)
        #expect(messages.contains { $0.contains("skipped 3 malformed lines") || $0.contains("malformed line") })
        let total = messages.compactMap { message -> Int? in
            guard let range = message.range(of: "skipped ") else { return nil }
            return Int(message[range.upperBound...].prefix { $0.isNumber })
        }.reduce(0, +)
        #expect(total == 3)  // "garbage", "W 251 extra", and a J line the header did not declare
        let end = messages.first { $0.contains("closed its output") } ?? result.error?.message ?? ""
        #expect(end.contains("exited with status 3"))
        #expect(end.contains("lost the instrument"))
        #expect(source.telemetry(clock: MonotonicPowerClock()).first?.values["malformed_lines_total"] == "3")
    }

    @Test func commandMeterThatKeepsRunningIsStoppedOnClose() throws {
        let directory = try MeterScriptDirectory()
        let script = try directory.script("stream", """
            echo "accelbench-meter 1 accuracy=0.5 values=J"
            i=0
            while true; do i=$((i + 1)); echo "J $i.25"; sleep 0.02; done
            """)
        let source = try #require(try MeterSource.detect(spec: "cmd:\(script)"))
        #expect(source.channels.map(\.id) == ["meter:node_wall-energy"])
        #expect(source.channels[0].quality == .calibratedMeter)
        let result = readUntil(source) { counters($0).count >= 3 }
        let values = counters(result.readings)
        #expect(values.count >= 3)
        #expect(zip(values, values.dropFirst()).allSatisfy { $0 < $1 })
        #expect(values.allSatisfy { $0 % 1000 == 250 })
        source.close()
        let after = readUntil(source, seconds: 3)
        #expect(after.error?.code == .timeout)
    }

    @Test func malformedLinesAreCountedOncePerRead() throws {
        let release = DispatchSemaphore(value: 0)
        let long = String(repeating: "x", count: 5000)
        let server = try LoopbackServer { connection in
            connection.write("accelbench-meter 1\nW 1\nW\nW one\nwatts 3\n\(long)\nW 2\n")
            release.wait()
            connection.server.waitForStop()
        }
        defer {
            release.signal()
            server.stop()
        }
        let source = try #require(try MeterSource.detect(spec: "tcp://127.0.0.1:\(server.port)"))
        let result = readUntil(source) { watts($0).count >= 2 }
        #expect(watts(result.readings) == [1, 2])
        let messages = faults(result.readings)
        #expect(messages.count >= 1)
        let total = messages.compactMap { message -> Int? in
            guard let range = message.range(of: "skipped ") else { return nil }
            return Int(message[range.upperBound...].prefix { $0.isNumber })
        }.reduce(0, +)
        #expect(total == 4)  // "W", "W one", "watts 3", the 5000-byte line
    }

    @Test func headerProblemsFailDetection() throws {
        let bodies: [(String, String)] = [
            ("W 100\n", "first line must be the header"),
            ("accelbench-meter 2 accuracy=0.1%\n", "protocol version 2 is not supported"),
            ("accelbench-meter 1 scope=moon\n", "scope 'moon'"),
            ("accelbench-meter 1 accuracy=good\n", "accuracy 'good'"),
            ("accelbench-meter 1 values=V\n", "values 'V'"),
        ]
        for (body, expected) in bodies {
            let server = try LoopbackServer { connection in
                connection.write(body)
                connection.server.waitForStop()
            }
            defer { server.stop() }
            let error = thrownPowerError { _ = try MeterSource.detect(spec: "tcp://127.0.0.1:\(server.port)") }
            #expect(error?.code == .malformed, "\(body)")
            #expect(error?.message.contains(expected) == true, "\(error?.message ?? "no error") should say \(expected)")
        }
    }

    @Test func noHeaderInTimeAndClosedBeforeTheHeader() throws {
        let silent = try LoopbackServer { connection in connection.server.waitForStop() }
        defer { silent.stop() }
        let start = Date()
        let timeout = thrownPowerError { _ = try MeterSource.detect(spec: "tcp://127.0.0.1:\(silent.port)", connectTimeoutSeconds: 0.3) }
        #expect(timeout?.code == .timeout)
        #expect(timeout?.message.contains("sent no header line") == true)
        #expect(Date().timeIntervalSince(start) < 2)

        let hangUp = try LoopbackServer { connection in connection.write("# hello\n") }
        defer { hangUp.stop() }
        let closed = thrownPowerError { _ = try MeterSource.detect(spec: "tcp://127.0.0.1:\(hangUp.port)") }
        #expect(closed?.code == .unavailable)
        #expect(closed?.message.contains("before sending its header line") == true)
    }

    @Test func aSilentMeterTimesOutUntilItSpeaksAgain() throws {
        let speak = DispatchSemaphore(value: 0)
        let server = try LoopbackServer { connection in
            connection.write("accelbench-meter 1\n")
            speak.wait()
            connection.write("W 7\n")
            connection.server.waitForStop()
        }
        defer {
            speak.signal()
            server.stop()
        }
        let source = try #require(try MeterSource.detect(spec: "tcp://127.0.0.1:\(server.port)", silenceTimeoutSeconds: 0.2))
        Thread.sleep(forTimeInterval: 0.3)
        let error = thrownPowerError { _ = try source.read(clock: MonotonicPowerClock()) }
        #expect(error?.code == .timeout)
        #expect(error?.message.contains("sent nothing for") == true)
        speak.signal()
        var got: [PowerReading] = []
        let deadline = Date(timeIntervalSinceNow: 5)
        while watts(got).isEmpty && Date() < deadline {
            if let readings = try? source.read(clock: MonotonicPowerClock()) { got += readings }  // silence errors until it speaks
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(watts(got) == [7])
        #expect(try source.read(clock: MonotonicPowerClock()) == [])
    }

    @Test func connectionRefusedAndBadSpecs() throws {
        let closed = try LoopbackServer { _ in }
        let port = closed.port
        closed.stop()
        let refused = thrownPowerError { _ = try MeterSource.detect(spec: "tcp://127.0.0.1:\(port)") }
        #expect(refused?.code == .unavailable)
        #expect(refused?.message.contains("tcp://127.0.0.1:\(port)") == true && refused?.message.contains("nothing listens") == true)

        for spec in ["tcp://127.0.0.1", "tcp://127.0.0.1:0", "tcp://127.0.0.1:70000", "tcp://:5025", "udp://127.0.0.1:5025", "cmd:", "/usr/bin/meter"] {
            #expect(thrownPowerError { _ = try MeterConfiguration.parse(spec) }?.code == .invalidConfiguration, "\(spec)")
        }
        #expect(try MeterConfiguration.parse("tcp://[::1]:5025").endpoint == .tcp(host: "::1", port: 5025))
        #expect(try MeterConfiguration.parse("tcp://meter.lab:5025/").display == "tcp://meter.lab:5025")

        let directory = try MeterScriptDirectory()
        let plain = try directory.script("not-executable", "echo hi\n", executable: false)
        #expect(thrownPowerError { _ = try MeterSource.detect(spec: "cmd:\(plain)") }?.code == .permissionDenied)
        #expect(thrownPowerError { _ = try MeterSource.detect(spec: "cmd:\(directory.url.path)/missing") }?.code == .unavailable)
        #expect(thrownPowerError { _ = try MeterConfiguration.parse("cmd:missing-meter", environment: ["PATH": directory.url.path]) }?.code == .unavailable)
    }

    @Test func aPowerWindowIntegratesTheMeterSamples() throws {
        // 100 W as samples and as a counter (1 J every 10 ms).
        let server = try LoopbackServer { connection in
            guard connection.write("accelbench-meter 1 accuracy=0.2% values=W,J interval=0.01\n") else { return }
            var joules = 0.0
            while !connection.server.isStopping {
                joules += 1
                guard connection.write("W 100\nJ \(joules)\n") else { return }
                Thread.sleep(forTimeInterval: 0.01)
            }
        }
        defer { server.stop() }
        let source = try #require(try MeterSource.detect(spec: "tcp://127.0.0.1:\(server.port)"))
        let window = PowerWindow(sources: [source], sampleIntervalSeconds: 0.05)
        window.begin()
        Thread.sleep(forTimeInterval: 0.4)
        let result = window.end()
        #expect(result.errors.isEmpty)
        let samples = try #require(result.channels.first { $0.channel.id == "meter:node_wall" })
        #expect(samples.readings >= 10)
        // All samples are 100 W; the backlog from before `begin` is clipped at the window's start.
        #expect(abs((samples.averageWatts ?? 0) - 100) < 1e-6, "\(samples)")
        let counter = try #require(result.channels.first { $0.channel.id == "meter:node_wall-energy" })
        #expect(counter.readings >= 2)
        // Sleep granularity and the counter's 1 J steps: loose bounds.
        #expect((counter.averageWatts ?? 0) > 50 && (counter.averageWatts ?? 0) < 150)
    }

    @Test func headerParsing() {
        guard case let .header(full) = MeterHeader.parse("accelbench-meter 1 accuracy=0.1% scope=node_wall values=W,J interval=0.5 name=pdu.3 resolution=0.01 energy_resolution=0.1 vendor=x") else {
            Issue.record("full header rejected")
            return
        }
        #expect(full.accuracy == "0.1%" && full.scope == .nodeWall && full.hasWatts && full.hasEnergy)
        #expect(full.intervalSeconds == 0.5 && full.name == "pdu.3" && full.resolutionWatts == 0.01 && full.energyResolutionJoules == 0.1)
        #expect(full.ignoredKeys == ["vendor"])
        guard case let .header(bare) = MeterHeader.parse("accelbench-meter\t1") else {
            Issue.record("bare header rejected")
            return
        }
        #expect(bare.accuracy == nil && bare.scope == .nodeWall && bare.hasWatts && !bare.hasEnergy && bare.name == "node_wall")
        for bad in ["accelbench-meter", "accelbench-meter x", "accelbench-meter 1 interval=0", "accelbench-meter 1 name=a/b", "accelbench-meter 1 loose", "meter 1"] {
            if case .header = MeterHeader.parse(bad) { Issue.record("accepted '\(bad)'") }
        }
    }
}
