import AccelBenchCore
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Power from an external power analyzer (a wall-socket meter, a PDU outlet, a bench analyzer), delivered
// as lines of text over TCP or on the standard output of a command that talks to the instrument.
//
// The accelbench meter line protocol, version 1
// ---------------------------------------------
// UTF-8 text, one record per line ("\n" or "\r\n"), at most 4096 bytes a line. Blank lines and lines
// starting with "#" are ignored anywhere. The first other line is the header:
//
//     accelbench-meter 1 [accuracy=<class>] [scope=<scope>] [values=W|J|W,J] [interval=<seconds>]
//                        [name=<name>] [resolution=<watts>] [energy_resolution=<joules>]
//
//   accuracy           the instrument's accuracy class as the vendor states it, a number with an optional
//                      "%": "0.1%" (of reading), "0.5". Declaring one makes the channels
//                      `.calibratedMeter` quality; without it they are ranked `.bmc` (an external but
//                      uncalibrated measurement: better than in-band counters, no stated accuracy).
//   scope              what is measured, a `PowerScope` raw value; default `node_wall`.
//   values             which records follow: W (power samples, the default), J (an energy counter), both.
//   interval           seconds between the meter's samples (or its averaging period), if known.
//   name               channel name, [A-Za-z0-9_.-]{1,40}; default the scope. Channel ids are
//                      "meter:<name>" (watts) and "meter:<name>-energy" (counter).
//   resolution         smallest power step, watts (default 0.001, the protocol's own text precision).
//   energy_resolution  smallest energy step, joules (default 0.001, the counter's unit).
//   Unknown keys are ignored (named in the channel's detail), so later minor additions stay readable.
//
// Then records:
//
//     W <watts>                 a power sample (instantaneous or averaged over `interval`)
//     <meter_seconds> <watts>   a power sample with the meter's own timestamp (any epoch)
//     J <cumulative_joules>     the energy counter: joules since any origin, never decreasing
//
// Samples are stamped with the time they arrive, on accelbench's clock (`PowerClock`): the meter's clock
// is another time base, so its timestamps are kept as telemetry only (`meter_time_s`). Numbers are
// decimal floating point ("412.5", "4.125e2"). A line that does not parse is skipped and counted (one
// `.fault` reading per read says how many, with the last one); NaN, infinite or negative values are
// `.fault` readings. Example:
//
//     # Yokogawa WT310E via wt-bridge 2.1
//     accelbench-meter 1 accuracy=0.1% scope=node_wall values=W,J interval=0.1 name=wt310
//     W 412.8
//     J 18234.51
//     W 413.1
//
// Endpoints: `tcp://HOST:PORT` (accelbench connects and reads; the meter's server writes) or
// `cmd:/path/to/program ARG...` (accelbench starts the program and reads its standard output; its
// standard error is kept for messages; arguments are split on white space, no quoting: wrap anything
// more complex in a script). A reader thread keeps what arrives in a lock-protected buffer;
// `read(clock:)` hands over every power sample received since the previous read and the latest energy
// counter received since then. When the connection drops (or the command exits), what was received
// before it is not lost: if any of it is still waiting, the next read hands it over together with a
// `.fault` per channel naming the drop ("meter connection to HOST:PORT dropped at t=..."); every read
// after that (or the next one, when nothing was waiting) throws `.timeout` with the same message. A
// meter that sends nothing for `silenceTimeoutSeconds` makes `read` throw `.timeout` until it speaks
// again.

/// Where the meter's lines come from and how long to wait for them.
public struct MeterConfiguration: Sendable, Equatable, CustomStringConvertible {
    public enum Endpoint: Sendable, Equatable {
        /// Connect to a server that streams the protocol.
        case tcp(host: String, port: UInt16)
        /// Start `executable` with `arguments`; its standard output streams the protocol.
        case command(executable: String, arguments: [String])
    }

    public var endpoint: Endpoint
    /// The command's environment; nil: accelbench's own. Also the PATH that `parse` searches.
    public var environment: [String: String]?
    /// How long to wait for the connection and the header line, seconds.
    public var connectTimeoutSeconds: Double
    /// A meter that sends no line for this long makes `read` throw `.timeout`.
    public var silenceTimeoutSeconds: Double

    public init(
        endpoint: Endpoint, environment: [String: String]? = nil, connectTimeoutSeconds: Double = 5,
        silenceTimeoutSeconds: Double = 10
    ) {
        self.endpoint = endpoint
        self.environment = environment
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.silenceTimeoutSeconds = silenceTimeoutSeconds
    }

    /// Parses `tcp://HOST:PORT` (`[::1]:PORT` for IPv6) or `cmd:PROGRAM ARG...`; a PROGRAM without a
    /// "/" is looked up in `environment["PATH"]`.
    public static func parse(
        _ spec: String, environment: [String: String]? = nil, connectTimeoutSeconds: Double = 5, silenceTimeoutSeconds: Double = 10
    ) throws -> MeterConfiguration {
        let text = spec.trimmingCharacters(in: .whitespaces)
        func bad(_ why: String) -> PowerError {
            PowerError(.invalidConfiguration, source: "meter", "meter '\(text)': \(why); expected tcp://HOST:PORT or cmd:/path/to/program ARGS")
        }
        let endpoint: Endpoint
        if text.hasPrefix("tcp://") {
            var rest = Substring(text.dropFirst("tcp://".count))
            if rest.hasSuffix("/") { rest = rest.dropLast() }
            let host: Substring, portText: Substring
            if rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]"), rest[rest.index(after: close)...].hasPrefix(":") else { throw bad("no port") }
                host = rest[rest.index(after: rest.startIndex)..<close]
                portText = rest[rest.index(close, offsetBy: 2)...]
            } else {
                guard let colon = rest.lastIndex(of: ":") else { throw bad("no port") }
                host = rest[..<colon]
                portText = rest[rest.index(after: colon)...]
            }
            guard !host.isEmpty, !host.contains("/"), !host.contains("@") else { throw bad("no host") }
            guard let port = UInt16(portText), port > 0 else { throw bad("port '\(portText)' is not 1-65535") }
            endpoint = .tcp(host: String(host), port: port)
        } else if text.hasPrefix("cmd:") {
            let words = text.dropFirst("cmd:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let program = words.first else { throw bad("no program") }
            var executable = program
            if !program.contains("/") {
                let path = environment?["PATH"] ?? ""
                guard let found = path.split(separator: ":").map({ "\($0)/\(program)" })
                    .first(where: { FileManager.default.isExecutableFile(atPath: $0) })
                else {
                    throw PowerError(.unavailable, source: "meter",
                                     "meter command '\(program)' not found in PATH (\(path.isEmpty ? "empty" : path)): give its full path")
                }
                executable = found
            }
            endpoint = .command(executable: executable, arguments: Array(words.dropFirst()))
        } else {
            throw bad("unknown kind")
        }
        guard connectTimeoutSeconds > 0, silenceTimeoutSeconds > 0 else { throw bad("timeouts must be > 0 s") }
        return MeterConfiguration(
            endpoint: endpoint, environment: environment, connectTimeoutSeconds: connectTimeoutSeconds,
            silenceTimeoutSeconds: silenceTimeoutSeconds)
    }

    /// `tcp://HOST:PORT` or `cmd:PROGRAM` (without the arguments, which may hold addresses or keys).
    public var display: String {
        switch endpoint {
        case let .tcp(host, port): "tcp://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        case let .command(executable, _): "cmd:\(executable)"
        }
    }

    public var description: String { "meter \(display)" }
}

/// What the header line declared.
struct MeterHeader: Sendable, Equatable {
    var version: Int
    var accuracy: String?
    var scope: PowerScope
    var hasWatts: Bool
    var hasEnergy: Bool
    var intervalSeconds: Double?
    var name: String
    var resolutionWatts: Double?
    var energyResolutionJoules: Double?
    var ignoredKeys: [String]

    static let magic = "accelbench-meter"

    /// Parses a header line; the error says what is wrong (the caller adds where).
    enum Parsed: Equatable {
        case header(MeterHeader)
        case problem(String)
    }

    static func parse(_ line: String) -> Parsed {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard words.first == magic else { return .problem("the first line must be the header '\(magic) 1 ...'") }
        guard words.count >= 2, let version = Int(words[1]) else { return .problem("the header has no protocol version ('\(magic) 1 ...')") }
        guard version == 1 else { return .problem("protocol version \(version) is not supported (this accelbench reads version 1)") }
        var header = MeterHeader(
            version: 1, accuracy: nil, scope: .nodeWall, hasWatts: true, hasEnergy: false, intervalSeconds: nil, name: "",
            resolutionWatts: nil, energyResolutionJoules: nil, ignoredKeys: [])
        var name: String?
        for word in words.dropFirst(2) {
            guard let eq = word.firstIndex(of: "=") else { return .problem("header field '\(word)' is not key=value") }
            let key = String(word[..<eq]), value = String(word[word.index(after: eq)...])
            func positive() -> Double? { Double(value).flatMap { $0.isFinite && $0 > 0 ? $0 : nil } }
            switch key {
            case "accuracy":
                let number = value.hasSuffix("%") ? String(value.dropLast()) : value
                guard let x = Double(number), x.isFinite, x > 0 else {
                    return .problem("accuracy '\(value)' is not an accuracy class like 0.1% or 0.5")
                }
                header.accuracy = value
            case "scope":
                guard let scope = PowerScope(rawValue: value) else {
                    return .problem("scope '\(value)' is not one of \(PowerScope.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                header.scope = scope
            case "values":
                let kinds = Set(value.split(separator: ","))
                guard !kinds.isEmpty, kinds.isSubset(of: ["W", "J"]) else { return .problem("values '\(value)' is not W, J or W,J") }
                header.hasWatts = kinds.contains("W")
                header.hasEnergy = kinds.contains("J")
            case "interval":
                guard let x = positive() else { return .problem("interval '\(value)' is not a number of seconds > 0") }
                header.intervalSeconds = x
            case "name":
                let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
                guard (1...40).contains(value.count), value.allSatisfy(allowed.contains) else {
                    return .problem("name '\(value)' is not 1-40 of [A-Za-z0-9_.-]")
                }
                name = value
            case "resolution":
                guard let x = positive() else { return .problem("resolution '\(value)' is not a number of watts > 0") }
                header.resolutionWatts = x
            case "energy_resolution":
                guard let x = positive() else { return .problem("energy_resolution '\(value)' is not a number of joules > 0") }
                header.energyResolutionJoules = x
            default:
                header.ignoredKeys.append(key)
            }
        }
        header.name = name ?? header.scope.rawValue
        return .header(header)
    }
}

/// Power from an external meter speaking the accelbench meter line protocol (see the top of this file).
public final class MeterSource: PowerSource {
    public let method = PowerMethod.meter
    public let channels: [PowerChannel]
    /// Reads only hand over what the reader thread buffered, so polling faster than the meter samples
    /// gains nothing.
    public let minimumSampleIntervalSeconds: Double
    public let configuration: MeterConfiguration
    let header: MeterHeader
    private let stream: MeterStream

    private init(configuration: MeterConfiguration, header: MeterHeader, stream: MeterStream) {
        self.configuration = configuration
        self.header = header
        self.stream = stream
        minimumSampleIntervalSeconds = max(0.1, header.intervalSeconds ?? 1)
        let quality: PowerQuality = header.accuracy == nil ? .bmc : .calibratedMeter
        var common = "external meter at \(configuration.display), protocol \(MeterHeader.magic) \(header.version), "
        if let accuracy = header.accuracy {
            common += "declared accuracy class \(accuracy) (calibrated meter)"
        } else {
            common += "no accuracy class declared: ranked as BMC level (an external, uncalibrated measurement), not as a calibrated meter"
        }
        common += "; scope \(header.scope.rawValue)"
        common += header.intervalSeconds.map { String(format: "; meter interval %g s declared", $0) } ?? "; meter interval not declared"
        if !header.ignoredKeys.isEmpty { common += "; header keys ignored: \(header.ignoredKeys.joined(separator: ", "))" }
        var list: [PowerChannel] = []
        if header.hasWatts {
            list.append(PowerChannel(
                id: "meter:\(header.name)", method: .meter, scope: header.scope, kind: .sampledWatts, quality: quality,
                resolution: header.resolutionWatts ?? 0.001, updateIntervalSeconds: header.intervalSeconds,
                detail: common + "; power samples stamped on arrival on accelbench's clock (meter timestamps kept as telemetry); "
                    + (header.resolutionWatts.map { String(format: "resolution %g W declared", $0) } ?? "resolution not declared (0.001 W, the protocol's text precision)")))
        }
        if header.hasEnergy {
            list.append(PowerChannel(
                id: "meter:\(header.name)-energy", method: .meter, scope: header.scope, kind: .energyCounter, quality: quality,
                resolution: header.energyResolutionJoules ?? 0.001, updateIntervalSeconds: header.intervalSeconds,
                detail: common + "; cumulative joules turned into a counter in millijoules (raw = round(J × 1000), no wrap), stamped on arrival; "
                    + (header.energyResolutionJoules.map { String(format: "resolution %g J declared", $0) } ?? "resolution not declared (0.001 J, the counter's unit)")))
        }
        channels = list
        stream.setChannels(watts: header.hasWatts ? "meter:\(header.name)" : nil, energy: header.hasEnergy ? "meter:\(header.name)-energy" : nil)
    }

    deinit {
        stream.stop()
    }

    /// Connects to (or starts) the meter and reads its header.
    ///
    /// - Parameter clock: the clock arriving lines are stamped with; pass the one the power window uses.
    /// - Returns: nil when `configuration` is nil (no meter configured: the normal case).
    /// - Throws: `.unavailable` (connection refused, command not found, closed before its header),
    ///   `.permissionDenied` (command not executable), `.timeout` (no header in time), `.malformed`
    ///   (bad header).
    public static func detect(configuration: MeterConfiguration?, clock: any PowerClock = MonotonicPowerClock()) throws -> MeterSource? {
        guard let configuration else { return nil }
        let stream = try MeterStream.open(configuration, clock: clock)
        do {
            let header = try stream.waitForHeader(timeoutSeconds: configuration.connectTimeoutSeconds)
            return MeterSource(configuration: configuration, header: header, stream: stream)
        } catch {
            stream.stop()
            throw error
        }
    }

    /// `detect` for a `tcp://` or `cmd:` spec (as the CLI gets it); nil for a nil or empty spec.
    public static func detect(
        spec: String?, environment: [String: String]? = nil, clock: any PowerClock = MonotonicPowerClock(),
        connectTimeoutSeconds: Double = 5, silenceTimeoutSeconds: Double = 10
    ) throws -> MeterSource? {
        guard let spec, !spec.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        return try detect(
            configuration: MeterConfiguration.parse(
                spec, environment: environment, connectTimeoutSeconds: connectTimeoutSeconds, silenceTimeoutSeconds: silenceTimeoutSeconds),
            clock: clock)
    }

    /// Every power sample received since the previous read (each stamped when it arrived), the latest
    /// energy counter received since then, and `.fault` readings for skipped lines and bad values.
    public func read(clock: any PowerClock) throws -> [PowerReading] {
        try stream.take(now: clock.now())
    }

    /// Lines received and skipped so far, and the meter's own timestamp of its latest sample.
    public func telemetry(clock: any PowerClock) -> [PowerTelemetry] {
        let counts = stream.counts()
        var values = ["lines_total": "\(counts.lines)", "malformed_lines_total": "\(counts.malformed)"]
        if let meterTime = counts.meterTime { values["meter_time_s"] = String(format: "%.6f", meterTime) }
        if let accuracy = header.accuracy { values["accuracy_class"] = accuracy }
        return [PowerTelemetry(channel: channels[0].id, time: clock.now(), values: values)]
    }

    /// Whether the connection dropped or the command exited (the reader thread has finished).
    var hasEnded: Bool { stream.hasEnded }

    /// Disconnects (or stops the command). Reads after this throw. Also done on deinit.
    public func close() {
        stream.stop()
    }
}

// MARK: - The reader

/// The connection or child process, the reader thread and what it buffered.
///
/// Sendable invariant (why `@unchecked` is sound): the immutable properties are set in `init`; every
/// mutable property is touched only under `condition`, except the reader thread's local buffers.
final class MeterStream: @unchecked Sendable {
    private enum Item {
        case watts(Double, time: Double)
        case fault(String, energy: Bool, time: Double)
    }

    let display: String
    let clock: any PowerClock
    let silenceTimeoutSeconds: Double
    private let isCommand: Bool
    private let fd: Int32
    private let errorFD: Int32?
    private let process: Process?
    private let pipes: [Pipe]
    private let condition = NSCondition()

    private var wattsChannel: String?
    private var energyChannel: String?

    private var header: MeterHeader?
    private var headerError: String?
    private var items: [Item] = []
    private var latestCounter: (raw: UInt64, time: Double)?
    private var malformedSinceRead = 0
    private var lastMalformed = ""
    private var overflowSinceRead = 0
    private var linesTotal = 0
    private var malformedTotal = 0
    private var lastLineTime: Double
    private var meterTime: Double?
    private var ended: (time: Double, message: String)?
    private var endDelivered = false
    private var stopRequested = false
    private var stderrTail = ""

    static let maximumLineBytes = 4096
    static let maximumBufferedItems = 100_000

    private init(display: String, clock: any PowerClock, silenceTimeoutSeconds: Double, fd: Int32, errorFD: Int32?, process: Process?, pipes: [Pipe]) {
        self.display = display
        self.clock = clock
        self.silenceTimeoutSeconds = silenceTimeoutSeconds
        self.isCommand = process != nil
        self.fd = fd
        self.errorFD = errorFD
        self.process = process
        self.pipes = pipes
        lastLineTime = clock.now()
    }

    static func open(_ configuration: MeterConfiguration, clock: any PowerClock) throws -> MeterStream {
        let stream: MeterStream
        switch configuration.endpoint {
        case let .tcp(host, port):
            let fd = try connectTCP(host: host, port: port, timeoutSeconds: configuration.connectTimeoutSeconds, display: configuration.display)
            stream = MeterStream(display: configuration.display, clock: clock, silenceTimeoutSeconds: configuration.silenceTimeoutSeconds,
                                 fd: fd, errorFD: nil, process: nil, pipes: [])
        case let .command(executable, arguments):
            let manager = FileManager.default
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: executable, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw PowerError(.unavailable, source: "meter", "meter command \(executable) not found: check the path in the meter spec")
            }
            guard manager.isExecutableFile(atPath: executable) else {
                throw PowerError(.permissionDenied, source: "meter", "meter command \(executable) is not executable: chmod +x \(executable)")
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            if let environment = configuration.environment { process.environment = environment }
            let output = Pipe(), errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            process.standardInput = FileHandle.nullDevice
            do {
                try process.run()
            } catch {
                throw PowerError(.unavailable, source: "meter", "meter command \(executable) could not be started: \(error.localizedDescription)")
            }
            stream = MeterStream(display: configuration.display, clock: clock, silenceTimeoutSeconds: configuration.silenceTimeoutSeconds,
                                 fd: output.fileHandleForReading.fileDescriptor, errorFD: errors.fileHandleForReading.fileDescriptor,
                                 process: process, pipes: [output, errors])
        }
        let thread = Thread { stream.run() }
        thread.name = "accelbench-meter-reader"
        thread.start()
        return stream
    }

    func stop() {
        condition.lock()
        stopRequested = true
        condition.broadcast()
        condition.unlock()
        if let process, process.isRunning { process.terminate() }
    }

    func waitForHeader(timeoutSeconds: Double) throws -> MeterHeader {
        let deadline = Date(timeIntervalSinceNow: timeoutSeconds)
        condition.lock()
        defer { condition.unlock() }
        while header == nil && headerError == nil && ended == nil {
            if !condition.wait(until: deadline) { break }
        }
        if let header { return header }
        if let headerError {
            throw PowerError(.malformed, source: "meter", "meter \(display): \(headerError)")
        }
        if let ended {
            throw PowerError(.unavailable, source: "meter", "\(ended.message), before sending its header line ('\(MeterHeader.magic) 1 ...')")
        }
        throw PowerError(.timeout, source: "meter",
                         String(format: "meter %@ sent no header line ('%@ 1 ...') within %g s", display, MeterHeader.magic, timeoutSeconds))
    }

    func setChannels(watts: String?, energy: String?) {
        condition.lock()
        wattsChannel = watts
        energyChannel = energy
        condition.unlock()
    }

    var hasEnded: Bool {
        condition.lock()
        defer { condition.unlock() }
        return ended != nil
    }

    func counts() -> (lines: Int, malformed: Int, meterTime: Double?) {
        condition.lock()
        defer { condition.unlock() }
        return (linesTotal, malformedTotal, meterTime)
    }

    /// Hands over what arrived since the previous call (see MeterSource.read).
    func take(now: Double) throws -> [PowerReading] {
        condition.lock()
        defer { condition.unlock() }
        if let ended, endDelivered {
            throw PowerError(.timeout, source: "meter", ended.message)
        }
        var readings: [PowerReading] = []
        let primary = wattsChannel ?? energyChannel ?? "meter"
        for item in items {
            switch item {
            case let .watts(w, time):
                if let wattsChannel { readings.append(PowerReading(channel: wattsChannel, time: time, value: .watts(w))) }
            case let .fault(message, energy, time):
                readings.append(PowerReading(channel: (energy ? energyChannel : wattsChannel) ?? primary, time: time, value: .fault(message)))
            }
        }
        items.removeAll(keepingCapacity: true)
        if let counter = latestCounter, let energyChannel {
            readings.append(PowerReading(channel: energyChannel, time: counter.time, value: .counter(raw: counter.raw, joulesPerUnit: 1e-3, wrapsAt: nil)))
            latestCounter = nil
        }
        if malformedSinceRead > 0 {
            readings.append(PowerReading(channel: primary, time: now, value: .fault(
                "meter \(display): skipped \(malformedSinceRead) malformed line\(malformedSinceRead == 1 ? "" : "s") since the last read (last: '\(lastMalformed)')")))
            malformedSinceRead = 0
        }
        if overflowSinceRead > 0 {
            readings.append(PowerReading(channel: primary, time: now, value: .fault(
                "meter \(display): \(overflowSinceRead) samples dropped, more than \(MeterStream.maximumBufferedItems) waited between two reads")))
            overflowSinceRead = 0
        }
        if let ended {
            endDelivered = true
            guard !readings.isEmpty else { throw PowerError(.timeout, source: "meter", ended.message) }
            for channel in [wattsChannel, energyChannel].compactMap({ $0 }) {
                readings.append(PowerReading(channel: channel, time: ended.time, value: .fault(ended.message)))
            }
        } else if readings.isEmpty, clock.now() - lastLineTime > silenceTimeoutSeconds {
            throw PowerError(.timeout, source: "meter", String(
                format: "meter %@ sent nothing for %.1f s (limit %g s): check the meter and its connection",
                display, clock.now() - lastLineTime, silenceTimeoutSeconds))
        }
        return readings
    }

    // MARK: reader thread

    private func run() {
        var pending: [UInt8] = []
        var skippingLongLine = false
        var errorOpen = errorFD != nil
        var chunk = [UInt8](repeating: 0, count: 4096)
        var endReason = "closed"
        reading: while true {
            condition.lock()
            let stop = stopRequested || headerError != nil
            condition.unlock()
            if stop {
                endReason = "closed by accelbench"
                break
            }
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
            if errorOpen, let errorFD { fds.append(pollfd(fd: errorFD, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), 100)
            if ready < 0 {
                if errno == EINTR { continue }
                endReason = "poll failed: \(String(cString: strerror(errno)))"
                break
            }
            if ready == 0 { continue }
            if fds.count > 1, fds[1].revents != 0, let errorFD {
                let n = chunk.withUnsafeMutableBytes { posixRead(errorFD, $0.baseAddress, $0.count) }
                if n > 0 {
                    let text = String(decoding: chunk[0..<n], as: UTF8.self)
                    condition.lock()
                    stderrTail = String((stderrTail + text).suffix(600))
                    condition.unlock()
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    errorOpen = false
                }
            }
            guard fds[0].revents != 0 else { continue }
            let n = chunk.withUnsafeMutableBytes { posixRead(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK { continue }
                endReason = String(cString: strerror(errno))
                break
            }
            if n == 0 {
                endReason = "closed"
                break
            }
            let time = clock.now()
            var lines: [String] = []
            var start = pending.count
            pending.append(contentsOf: chunk[0..<n])
            var lineStart = 0
            while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                if skippingLongLine {
                    skippingLongLine = false
                } else {
                    lines.append(String(decoding: pending[lineStart..<newline], as: UTF8.self))
                }
                lineStart = newline + 1
                start = lineStart
            }
            pending.removeFirst(lineStart)
            var tooLong = false
            if pending.count > MeterStream.maximumLineBytes {
                pending.removeAll()
                if !skippingLongLine { tooLong = true }
                skippingLongLine = true
            }
            condition.lock()
            for line in lines { handle(line, time: time) }
            if tooLong { malformed("a line longer than \(MeterStream.maximumLineBytes) bytes", time: time) }
            let headerRejected = headerError != nil
            condition.unlock()
            if headerRejected { break reading }
        }
        let time = clock.now()
        if !pending.isEmpty && !skippingLongLine {
            condition.lock()
            handle(String(decoding: pending, as: UTF8.self), time: time)
            condition.unlock()
        }
        finish(reason: endReason, time: time)
    }

    private func finish(reason: String, time: Double) {
        var message: String
        // What the command wrote to its standard error up to now (it matters most when it exited).
        if let errorFD {
            var chunk = [UInt8](repeating: 0, count: 4096)
            var p = pollfd(fd: errorFD, events: Int16(POLLIN), revents: 0)
            while poll(&p, 1, 0) > 0, p.revents & Int16(POLLIN) != 0 {
                let n = chunk.withUnsafeMutableBytes { posixRead(errorFD, $0.baseAddress, $0.count) }
                guard n > 0 else { break }
                let text = String(decoding: chunk[0..<n], as: UTF8.self)
                condition.lock()
                stderrTail = String((stderrTail + text).suffix(600))
                condition.unlock()
            }
        }
        condition.lock()
        let lines = linesTotal
        condition.unlock()
        if reason == "closed by accelbench" {
            if let process, process.isRunning { process.terminate() }
            message = "meter \(display) was closed by accelbench"
        } else if let process {
            // Give the child a moment to exit after closing its output, for its status.
            let deadline = Date(timeIntervalSinceNow: 0.5)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            message = String(format: "meter command %@ closed its output at t=%.3f s after %d lines", display, time, lines)
            if !process.isRunning {
                message += process.terminationReason == .uncaughtSignal
                    ? " (killed by signal \(process.terminationStatus))" : " (exited with status \(process.terminationStatus))"
            }
            if reason != "closed" { message += " (\(reason))" }
        } else {
            let what = reason == "closed" ? "dropped" : "dropped (\(reason))"
            message = String(format: "meter connection to %@ %@ at t=%.3f s after %d lines", display, what, time, lines)
        }
        for pipe in pipes { try? pipe.fileHandleForReading.close() }
        if !isCommand { _ = posixClose(fd) }
        condition.lock()
        let tail = stderrTail.trimmingCharacters(in: .whitespacesAndNewlines)
        if !tail.isEmpty { message += "; its standard error ends: \(tail.split(separator: "\n").suffix(3).joined(separator: " / "))" }
        if reason != "closed by accelbench" { message += "; check the meter and restart the measurement" }
        ended = (time, message)
        condition.broadcast()
        condition.unlock()
    }

    /// One line; called with the lock held.
    private func handle(_ raw: String, time: Double) {
        lastLineTime = time
        let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if line.isEmpty || line.hasPrefix("#") { return }
        linesTotal += 1
        guard header != nil else {
            switch MeterHeader.parse(line) {
            case let .header(parsed): header = parsed
            case let .problem(why): headerError = "\(why); got '\(MeterStream.excerpt(line))'"
            }
            condition.broadcast()
            return
        }
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard words.count == 2, let value = Double(words[1]) else {
            malformed(line, time: time)
            return
        }
        switch words[0] {
        case "J":
            guard header!.hasEnergy else { return malformed(line, time: time) }
            let millijoules = (value * 1000).rounded()
            if value.isFinite, value >= 0, millijoules < 1.8e19 {
                latestCounter = (UInt64(millijoules), time)
            } else {
                append(.fault("meter \(display) sent an implausible energy reading (\(value) J), dropped", energy: true, time: time))
            }
            return
        case "W":
            break
        default:
            guard let stamp = Double(words[0]), stamp.isFinite else { return malformed(line, time: time) }
            meterTime = stamp
        }
        guard header!.hasWatts else { return malformed(line, time: time) }
        if value.isFinite, value >= 0 {
            append(.watts(value, time: time))
        } else {
            append(.fault("meter \(display) sent an implausible power sample (\(value) W), dropped", energy: false, time: time))
        }
    }

    private func append(_ item: Item) {
        if items.count >= MeterStream.maximumBufferedItems {
            let drop = items.count / 2
            items.removeFirst(drop)
            overflowSinceRead += drop
        }
        items.append(item)
    }

    private func malformed(_ line: String, time: Double) {
        malformedSinceRead += 1
        malformedTotal += 1
        lastMalformed = MeterStream.excerpt(line)
    }

    private static func excerpt(_ line: String) -> String {
        line.count > 60 ? String(line.prefix(57)) + "..." : line
    }

    // MARK: TCP

    private static func connectTCP(host: String, port: UInt16, timeoutSeconds: Double, display: String) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw PowerError(.unavailable, source: "meter",
                             "meter \(display): cannot resolve \(host) (\(String(cString: gai_strerror(status)))): check the host in the meter spec")
        }
        defer { freeaddrinfo(first) }
        var lastError: Int32 = 0
        var timedOut = false
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            cursor = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            if fd < 0 {
                lastError = errno
                continue
            }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            if connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return fd }
            guard errno == EINPROGRESS else {
                lastError = errno
                _ = posixClose(fd)
                continue
            }
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&p, 1, Int32(max(1, (timeoutSeconds * 1000).rounded())))
            if ready <= 0 {
                timedOut = ready == 0
                lastError = ready == 0 ? ETIMEDOUT : errno
                _ = posixClose(fd)
                continue
            }
            var soError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
            if soError == 0 { return fd }
            lastError = soError
            _ = posixClose(fd)
        }
        if timedOut {
            throw PowerError(.timeout, source: "meter",
                             String(format: "meter %@: no connection within %g s: check that the meter's server is up and reachable", display, timeoutSeconds))
        }
        let why = String(cString: strerror(lastError))
        throw PowerError(.unavailable, source: "meter",
                         "meter \(display): cannot connect (\(why))" + (lastError == ECONNREFUSED ? ": nothing listens there; start the meter's server or fix the port" : ""))
    }
}

// `read` and `close` are shadowed inside the types above (PowerSource.read, MeterSource.close).
private func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}

private func posixClose(_ fd: Int32) -> Int32 {
    close(fd)
}
