import Foundation

/// A parsed JSON value (numbers as Double), what the schema validator walks.
public indirect enum JSONValue: Decodable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    public static func parse(_ data: Data) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: data)
    }

    /// How the value reads in an error message.
    var brief: String {
        switch self {
        case .null: "null"
        case let .bool(b): "\(b)"
        case let .number(d): d == d.rounded() && abs(d) < 1e15 ? "\(Int(d))" : "\(d)"
        case let .string(s): "\"\(s.count > 40 ? String(s.prefix(40)) + "..." : s)\""
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// One way a document breaks its schema: where (a dotted path, "" = the document) and what was expected.
public struct SchemaViolation: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var expectation: String
    public var description: String { "\(path.isEmpty ? "the document" : "field '\(path)'"): \(expectation)" }
}

/// A validator for the subset of JSON Schema (draft 2020-12) the profile schema uses: `type` (one name
/// or a list), `required`, `properties`, `additionalProperties` (false or a schema), `enum`, `minimum`,
/// `exclusiveMinimum`, `maximum`, `minLength`, `pattern`, `items`. Annotations (`$schema`, `$id`,
/// `title`, `description`) are ignored; any other keyword is refused when the validator is made, so a
/// schema never silently asks for more than is checked.
public struct JSONSchemaValidator: Sendable {
    public let schema: JSONValue

    static let keywords: Set<String> = [
        "type", "required", "properties", "additionalProperties", "enum", "minimum", "exclusiveMinimum", "maximum",
        "minLength", "pattern", "items",
    ]
    static let annotations: Set<String> = ["$schema", "$id", "title", "description"]

    public init(schema: JSONValue) throws {
        try JSONSchemaValidator.checkSupported(schema, path: "")
        self.schema = schema
    }

    static func checkSupported(_ schema: JSONValue, path: String) throws {
        guard case let .object(keys) = schema else {
            if case .bool = schema { return }
            throw ProfileSchemaError(message: "schema at '\(path)' is not an object")
        }
        for (key, value) in keys {
            guard keywords.contains(key) || annotations.contains(key) else {
                throw ProfileSchemaError(message: "schema keyword '\(key)' at '\(path)' is outside the subset the validator checks")
            }
            if key == "properties", case let .object(props) = value {
                for (name, sub) in props { try checkSupported(sub, path: path.isEmpty ? name : "\(path).\(name)") }
            }
            if key == "additionalProperties" || key == "items" { try checkSupported(value, path: path) }
        }
    }

    /// Every violation of the document (empty: it conforms).
    public func validate(_ value: JSONValue) -> [SchemaViolation] {
        var out: [SchemaViolation] = []
        check(value, against: schema, path: "", into: &out)
        return out
    }

    private func check(_ value: JSONValue, against schema: JSONValue, path: String, into out: inout [SchemaViolation]) {
        guard case let .object(s) = schema else {
            if case .bool(false) = schema { out.append(SchemaViolation(path: path, expectation: "is not allowed")) }
            return
        }
        func fail(_ text: String) { out.append(SchemaViolation(path: path, expectation: text)) }
        if let type = s["type"] {
            var names: [String] = []
            if case let .string(n) = type { names = [n] }
            if case let .array(list) = type { names = list.compactMap { if case let .string(n) = $0 { n } else { nil } } }
            guard names.contains(where: { JSONSchemaValidator.matches(value, type: $0) }) else {
                fail("expected \(names.map { "a" + ($0.first.map { "aeiou".contains($0) } == true ? "n " : " ") + $0 }.joined(separator: " or ")), got \(value.brief)")
                return
            }
        }
        if case let .array(options) = s["enum"], !options.contains(value) {
            fail("expected one of \(options.map(\.brief).joined(separator: ", ")), got \(value.brief)")
        }
        if case let .number(x) = value {
            if case let .number(m) = s["minimum"], x < m { fail("expected a number >= \(JSONValue.number(m).brief), got \(value.brief)") }
            if case let .number(m) = s["exclusiveMinimum"], x <= m { fail("expected a number > \(JSONValue.number(m).brief), got \(value.brief)") }
            if case let .number(m) = s["maximum"], x > m { fail("expected a number <= \(JSONValue.number(m).brief), got \(value.brief)") }
        }
        if case let .string(text) = value {
            if case let .number(m) = s["minLength"], Double(text.count) < m { fail("expected a string of at least \(Int(m)) character(s), got \(value.brief)") }
            if case let .string(pattern) = s["pattern"],
                let regex = try? NSRegularExpression(pattern: pattern),
                regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil
            {
                fail("expected a string matching \(pattern), got \(value.brief)")
            }
        }
        if case let .array(items) = value, let itemSchema = s["items"] {
            for (i, item) in items.enumerated() { check(item, against: itemSchema, path: "\(path)[\(i)]", into: &out) }
        }
        if case let .object(fields) = value {
            if case let .array(required) = s["required"] {
                for case let .string(name) in required where fields[name] == nil {
                    out.append(SchemaViolation(path: path.isEmpty ? name : "\(path).\(name)", expectation: "is required but missing"))
                }
            }
            var properties: [String: JSONValue] = [:]
            if case let .object(p) = s["properties"] { properties = p }
            for name in fields.keys.sorted() {
                let sub = path.isEmpty ? name : "\(path).\(name)"
                if let propertySchema = properties[name] {
                    check(fields[name]!, against: propertySchema, path: sub, into: &out)
                } else if let extra = s["additionalProperties"] {
                    if case .bool(false) = extra {
                        out.append(SchemaViolation(
                            path: sub, expectation: "is not a known field (known: \(properties.keys.sorted().joined(separator: ", ")))"))
                    } else {
                        check(fields[name]!, against: extra, path: sub, into: &out)
                    }
                }
            }
        }
    }

    static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("number", .number), ("string", .string), ("array", .array), ("object", .object):
            return true
        case let ("integer", .number(d)):
            return d == d.rounded() && d.isFinite
        default:
            return false
        }
    }
}

/// The bundled schema itself is broken (a bug, not bad input).
struct ProfileSchemaError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
