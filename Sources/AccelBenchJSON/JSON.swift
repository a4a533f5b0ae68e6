import Foundation

/// A JSON value as data: what the strict parser produces, what the canonical (RFC 8785) serializer
/// writes and what the schema validator walks. Numbers are IEEE 754 doubles (I-JSON).
///
/// Equality and hashing compare strings (values and member names) by their Unicode scalars, not by
/// Swift's canonical equivalence: "\u{E9}" and "e\u{301}" are different JSON strings, as their
/// canonical bytes differ. (Member names are still `Dictionary` keys, so an object cannot hold two
/// canonically equivalent names; the parser rejects such a document as having a duplicate key.)
public indirect enum JSON: Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])
}

extension JSON: Equatable, Hashable {
    public static func == (lhs: JSON, rhs: JSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.string(a), .string(b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case let (.array(a), .array(b)): return a.count == b.count && zip(a, b).allSatisfy { $0 == $1 }
        case let (.object(a), .object(b)):
            guard a.count == b.count else { return false }
            for (key, value) in a {
                guard let index = b.index(forKey: key) else { return false }
                let (otherKey, otherValue) = b[index]
                guard key.unicodeScalars.elementsEqual(otherKey.unicodeScalars), value == otherValue else { return false }
            }
            return true
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case let .bool(b): hasher.combine(1); hasher.combine(b)
        case let .number(d): hasher.combine(2); hasher.combine(d)
        case let .string(s):
            hasher.combine(3)
            for scalar in s.unicodeScalars { hasher.combine(scalar.value) }
            hasher.combine(UInt32.max)  // terminator, so ["ab"] and ["a", "b"] differ
        case let .array(a):
            hasher.combine(4); hasher.combine(a.count)
            for element in a { hasher.combine(element) }
        case let .object(o):
            // Order-independent: the sum of each member's own hash.
            hasher.combine(5); hasher.combine(o.count)
            var sum = 0
            for (key, value) in o {
                var member = Hasher()
                member.combine(JSON.string(key))
                member.combine(value)
                sum &+= member.finalize()
            }
            hasher.combine(sum)
        }
    }
}

extension JSON {
    /// The member `key` of an object; nil for a missing member or a value that is not an object.
    public subscript(key: String) -> JSON? {
        if case let .object(members) = self { return members[key] }
        return nil
    }

    /// The element at `index` of an array; nil when out of range or not an array.
    public subscript(index: Int) -> JSON? {
        if case let .array(elements) = self, elements.indices.contains(index) { return elements[index] }
        return nil
    }

    /// The text of a string value.
    public var stringValue: String? { if case let .string(s) = self { s } else { nil } }
    /// The number of a number value.
    public var doubleValue: Double? { if case let .number(d) = self { d } else { nil } }
    /// A number that is integral, finite and within `Int`'s range; nil for anything else (2.5, 1e300).
    public var intValue: Int? {
        guard case let .number(d) = self, d.isFinite, d == d.rounded(.towardZero),
            d >= -9_223_372_036_854_775_808.0, d < 9_223_372_036_854_775_808.0
        else { return nil }
        return Int(d)
    }
    /// The value of `true` / `false`.
    public var boolValue: Bool? { if case let .bool(b) = self { b } else { nil } }
    /// The elements of an array.
    public var arrayValue: [JSON]? { if case let .array(a) = self { a } else { nil } }
    /// The members of an object.
    public var objectValue: [String: JSON]? { if case let .object(o) = self { o } else { nil } }
    /// Whether this is `null`.
    public var isNull: Bool { if case .null = self { true } else { false } }

    /// The value a JSON Pointer (RFC 6901) names, e.g. "/results/0/id" ("" is this value itself;
    /// "~1" stands for "/" and "~0" for "~" in a token). nil when the pointer is malformed or names
    /// nothing.
    public func value(at pointer: String) -> JSON? {
        guard let tokens = JSON.pointerTokens(pointer) else { return nil }
        var current = self
        for token in tokens {
            switch current {
            case let .object(members):
                guard let next = members[token] else { return nil }
                current = next
            case let .array(elements):
                guard let index = JSON.arrayIndex(token), index < elements.count else { return nil }
                current = elements[index]
            default:
                return nil
            }
        }
        return current
    }

    /// The unescaped reference tokens of a JSON Pointer; nil when it is malformed (not empty and not
    /// starting with "/", or a "~" not followed by 0 or 1).
    static func pointerTokens(_ pointer: String) -> [String]? {
        if pointer.isEmpty { return [] }
        guard pointer.hasPrefix("/") else { return nil }
        var tokens: [String] = []
        for raw in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            var token = ""
            var iterator = raw.unicodeScalars.makeIterator()
            while let scalar = iterator.next() {
                if scalar == "~" {
                    switch iterator.next() {
                    case "0": token.unicodeScalars.append("~")
                    case "1": token.unicodeScalars.append("/")
                    default: return nil
                    }
                } else {
                    token.unicodeScalars.append(scalar)
                }
            }
            tokens.append(token)
        }
        return tokens
    }

    /// An array index token: "0" or digits without a leading zero.
    static func arrayIndex(_ token: String) -> Int? {
        let utf8 = Array(token.utf8)
        guard !utf8.isEmpty, utf8.count <= 18, utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        if utf8.count > 1 && utf8[0] == 0x30 { return nil }
        return Int(token)
    }

    /// One reference token escaped for a JSON Pointer ("~" as "~0", "/" as "~1").
    static func escapePointerToken(_ token: String) -> String {
        token.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }

    /// Decodes a `Decodable` from this value (through its canonical bytes and `JSONDecoder`).
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: canonicalData())
    }

    /// The JSON value of an `Encodable` (through `JSONEncoder` and the strict parser). A NaN or
    /// infinite Double anywhere in it throws `JSONCanonicalError`: JSON has no such numbers.
    public static func encode<T: Encodable>(_ value: T) throws -> JSON {
        let data: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes]
            data = try encoder.encode(value)
        } catch let EncodingError.invalidValue(bad, context) {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            throw JSONCanonicalError(
                message: "cannot encode \(bad) at '\(path.isEmpty ? "the top level" : String(path.drop { $0 == "." }))' as JSON: "
                    + "JSON numbers must be finite (no NaN or Infinity); store such a value as null or leave the field out")
        }
        do {
            return try JSON.parse(data, limits: JSONLimits(maxDepth: 10_000, maxBytes: Int.max))
        } catch {
            throw JSONCanonicalError(message: "JSONEncoder wrote JSON the strict parser refuses (\(error))")
        }
    }

    /// How the value reads in an error message: scalars in full (long strings cut), containers by kind.
    var brief: String {
        switch self {
        case .null: "null"
        case let .bool(b): "\(b)"
        case let .number(d): JSON.formatNumber(d) ?? "\(d)"
        case let .string(s):
            "\"\(s.unicodeScalars.count > 40 ? String(String.UnicodeScalarView(s.unicodeScalars.prefix(40))) + "..." : s)\""
        case .array: "an array"
        case .object: "an object"
        }
    }
}
