import AccelBenchJSON
import Crypto
import Foundation

/// The record's byte forms: the canonical payload (RFC 8785) that is signed and hashed, and the
/// schema it is checked against.
public enum RecordCoding {
    /// The canonical payload bytes of a record: what a DSSE envelope signs and what `contentID` hashes.
    public static func payload(_ record: CapabilityRecord) throws -> Data {
        try canonicalJSON(record).canonicalData()
    }

    /// The record as a JSON value with the schema's snake_case field names.
    public static func canonicalJSON(_ record: CapabilityRecord) throws -> JSON {
        try json(of: record)
    }

    /// Any of the record's Codable parts as a JSON value (snake_case names, as in the record).
    public static func json<T: Encodable>(of value: T) throws -> JSON {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .throw
        let data: Data
        do {
            data = try encoder.encode(value)
        } catch {
            throw RecordError("the record holds a number that JSON cannot carry (NaN or infinity): \(error)")
        }
        return try JSON.parse(data)
    }

    /// Decodes a record from a JSON value already checked against the schema.
    public static func decode(_ json: JSON) throws -> CapabilityRecord {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(CapabilityRecord.self, from: try json.canonicalData())
        } catch let error as DecodingError {
            throw RecordError("the record does not match the v1 model: \(describe(error))")
        }
    }

    /// `sha256:` + lowercase hex of the SHA-256 of some bytes.
    public static func digest(_ data: Data) -> String {
        "sha256:" + KeyParsing.hex(Data(SHA256.hash(data: data)))
    }

    /// `sha256:` of a value's canonical JSON.
    public static func digest<T: Encodable>(canonical value: T) throws -> String {
        digest(try json(of: value).canonicalData())
    }

    /// The record's content id: the SHA-256 of its canonical payload.
    public static func contentID(payload: Data) -> String { digest(payload) }

    /// The bundled JSON Schema (2020-12) of record v1.
    public static func schema() throws -> JSON {
        try JSON.parse(try schemaData())
    }

    /// The bundled schema's text (for a registry to serve, and for `schema()`).
    public static func schemaData() throws -> Data {
        guard let url = Bundle.module.url(forResource: "capability-record-1.schema", withExtension: "json", subdirectory: "Schema")
        else { throw RecordError("the bundled record schema is missing (a broken installation: rebuild accelbench)") }
        return try Data(contentsOf: url)
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
        }
        switch error {
        case let .typeMismatch(_, c), let .valueNotFound(_, c), let .dataCorrupted(c):
            return "\(path(c)): \(c.debugDescription)"
        case let .keyNotFound(key, c):
            return "\(path(c)).\(key.stringValue): missing"
        @unknown default:
            return "\(error)"
        }
    }

    /// A version-7 UUID (RFC 9562): 48 bits of Unix milliseconds, then random bits, so ids sort by time.
    public static func uuidV7(date: Date = Date()) -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        let ms = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: ms >> (8 * (5 - i))) }
        var rng = SystemRandomNumberGenerator()
        for i in 6..<16 { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
        bytes[6] = 0x70 | (bytes[6] & 0x0F)
        bytes[8] = 0x80 | (bytes[8] & 0x3F)
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        let c = Array(hex)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-" + String(c[20..<32])
    }
}

/// A record could not be made, read or written; the message says what and what to do.
public struct RecordError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
