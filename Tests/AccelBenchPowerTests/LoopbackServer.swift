@testable import AccelBenchPower
import Testing
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A real TCP server on 127.0.0.1 (port chosen by the kernel) for tests: each accepted connection is
/// handed to `handler` on its own thread. `stop()` stops accepting, shuts every open connection down
/// (waking handlers blocked in reads or in `waitForStop`) and waits for the handlers to return.
///
/// Sendable invariant (why `@unchecked` is sound): `port`, `listenFD` and `handler` are immutable;
/// everything else is touched only under `condition`.
final class LoopbackServer: @unchecked Sendable {
    let port: UInt16
    private let listenFD: Int32
    private let handler: @Sendable (LoopbackConnection) -> Void
    private let condition = NSCondition()
    private var stopping = false
    private var acceptDone = false
    private var openFDs: Set<Int32> = []
    private var runningHandlers = 0
    private(set) var acceptedCount = 0

    init(handler: @escaping @Sendable (LoopbackConnection) -> Void) throws {
        self.handler = handler
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw LoopbackError("socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let why = String(cString: strerror(errno))
            _ = close(fd)
            throw LoopbackError("bind/listen: \(why)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        listenFD = fd
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "loopback-accept"
        thread.start()
    }

    deinit {
        // stop() must have been called (the accept thread holds a reference until then).
    }

    var isStopping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopping
    }

    func stop() {
        condition.lock()
        if stopping {
            condition.unlock()
            return
        }
        stopping = true
        for fd in openFDs { _ = shutdown(fd, Int32(SHUT_RDWR)) }
        condition.broadcast()
        while !acceptDone || runningHandlers > 0 { condition.wait() }
        condition.unlock()
        _ = close(listenFD)
    }

    /// Blocks until `stop()` (for handlers that hold a connection without answering).
    func waitForStop() {
        condition.lock()
        while !stopping { condition.wait() }
        condition.unlock()
    }

    fileprivate func closeConnection(_ fd: Int32) {
        condition.lock()
        if openFDs.remove(fd) != nil { _ = close(fd) }
        condition.unlock()
    }

    private func acceptLoop() {
        while true {
            var p = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, 20)
            if isStopping { break }
            guard ready > 0 else { continue }
            let fd = accept(listenFD, nil, nil)
            guard fd >= 0 else { continue }
            condition.lock()
            if stopping {
                condition.unlock()
                _ = close(fd)
                break
            }
            openFDs.insert(fd)
            runningHandlers += 1
            acceptedCount += 1
            condition.unlock()
            let connection = LoopbackConnection(fd: fd, server: self)
            let thread = Thread { [self] in
                handler(connection)
                connection.close()
                condition.lock()
                runningHandlers -= 1
                condition.broadcast()
                condition.unlock()
            }
            thread.start()
        }
        condition.lock()
        acceptDone = true
        condition.broadcast()
        condition.unlock()
    }
}

struct LoopbackError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// One accepted connection: blocking reads and writes on its socket.
final class LoopbackConnection: @unchecked Sendable {
    // Sendable: `fd` and `server` are immutable; the socket is used by one handler thread.
    let fd: Int32
    let server: LoopbackServer

    fileprivate init(fd: Int32, server: LoopbackServer) {
        self.fd = fd
        self.server = server
    }

    /// Reads until the end of an HTTP request head ("\r\n\r\n"); nil on EOF or error.
    func readRequestHead() -> String? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            bytes.append(contentsOf: chunk[0..<n])
            if let text = String(bytes: bytes, encoding: .utf8), text.contains("\r\n\r\n") { return text }
            if bytes.count > 65536 { return nil }
        }
    }

    @discardableResult
    func write(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    func close() {
        server.closeConnection(fd)
    }
}

/// A Redfish-shaped HTTP/1.1 server on loopback: fixed routes (path → reply) that a test can change at
/// any time, every request logged with its Authorization header.
final class LoopbackHTTPServer: @unchecked Sendable {
    enum Reply: Sendable {
        case json(status: Int, body: String, headers: [String: String] = [:])
        /// Accept and read the request, never answer.
        case hang
    }

    struct Request: Sendable, Equatable {
        var path: String
        var authorization: String?
    }

    // Sendable: `routes` and `log` only under `lock`; `server` is set once in init.
    private let lock = NSLock()
    private var routes: [String: Reply] = [:]
    private var log: [Request] = []
    private var server: LoopbackServer!

    init(_ routes: [String: Reply] = [:]) throws {
        self.routes = routes
        server = try LoopbackServer { [unowned self] connection in serve(connection) }
    }

    var baseURL: URL { URL(string: "http://127.0.0.1:\(server.port)")! }
    var port: UInt16 { server.port }

    func set(_ path: String, _ reply: Reply) {
        lock.lock()
        routes[path] = reply
        lock.unlock()
    }

    var requests: [Request] {
        lock.lock()
        defer { lock.unlock() }
        return log
    }

    func stop() { server.stop() }

    private func serve(_ connection: LoopbackConnection) {
        guard let head = connection.readRequestHead() else { return }
        let lines = head.components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2 else { return }
        let path = String(parts[1])
        let authorization = lines.dropFirst().first { $0.lowercased().hasPrefix("authorization:") }
            .map { String($0.dropFirst("authorization:".count)).trimmingCharacters(in: .whitespaces) }
        lock.lock()
        log.append(Request(path: path, authorization: authorization))
        let reply = routes[path] ?? .json(
            status: 404, body: #"{"error":{"code":"Base.1.8.ResourceMissingAtURI","message":"The resource at the URI was not found."}}"#)
        lock.unlock()
        switch reply {
        case .hang:
            connection.server.waitForStop()
        case let .json(status, body, headers):
            let reason = [200: "OK", 301: "Moved Permanently", 302: "Found", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
                          500: "Internal Server Error", 503: "Service Unavailable"][status] ?? "Status"
            var text = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n"
            for (name, value) in headers.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
            text += "\r\n" + body
            connection.write(text)
        }
    }
}

/// Runs `body` and returns the PowerError it threw (nil when it did not throw one).
func thrownPowerError(_ body: () throws -> Void) -> PowerError? {
    do {
        try body()
        return nil
    } catch let error as PowerError {
        return error
    } catch {
        Issue.record("not a PowerError: \(error)")
        return nil
    }
}
