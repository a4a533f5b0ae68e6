import Foundation

/// One way an instance breaks its schema, as a unit of JSON Schema's "basic" output format.
public struct SchemaError: Sendable, Equatable, CustomStringConvertible {
    /// JSON Pointer through the schema as evaluated, e.g. "/properties/results/items/properties/dtype/enum";
    /// a `$ref` shows as "/properties/a/$ref/type".
    public var keywordLocation: String
    /// Where the keyword sits in the schema document ("#/$defs/a/type") when the path went through a
    /// `$ref`; nil otherwise (it would equal `keywordLocation`).
    public var absoluteKeywordLocation: String?
    /// JSON Pointer into the instance, e.g. "/results/0/dtype" ("" is the whole document).
    public var instanceLocation: String
    /// What is wrong, e.g. `expected one of "fp16", "fp32", got "fp24"`.
    public var error: String

    public init(keywordLocation: String, absoluteKeywordLocation: String? = nil, instanceLocation: String, error: String) {
        self.keywordLocation = keywordLocation
        self.absoluteKeywordLocation = absoluteKeywordLocation
        self.instanceLocation = instanceLocation
        self.error = error
    }

    /// The field in dotted form ("results[0].dtype"; "" is the document).
    public var fieldPath: String {
        guard let tokens = JSON.pointerTokens(instanceLocation) else { return instanceLocation }
        var path = ""
        for token in tokens {
            if JSON.arrayIndex(token) != nil {
                path += "[\(token)]"
            } else {
                path += path.isEmpty ? token : ".\(token)"
            }
        }
        return path
    }

    /// E.g. `field 'results[0].dtype': expected one of "fp16", "fp32", got "fp24"`.
    public var description: String {
        let path = fieldPath
        return "\(path.isEmpty ? "the document" : "field '\(path)'"): \(error)"
    }
}

/// A schema the validator cannot apply: a keyword outside the checked subset, a keyword with a
/// value of the wrong shape, an unresolvable `$ref` or a pattern that does not compile.
public struct InvalidSchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// JSON Pointer to the offending place in the schema.
    public var schemaLocation: String
    public var message: String
    public var description: String { "schema at '\(schemaLocation.isEmpty ? "#" : "#" + schemaLocation)': \(message)" }
}

/// A validator for the subset of JSON Schema (draft 2020-12) the profile and record schemas use.
///
/// Checked keywords: `type` (a name or a list), `const`, `enum`, `minimum`, `exclusiveMinimum`,
/// `maximum`, `exclusiveMaximum`, `minLength`, `maxLength` (in Unicode code points), `pattern`,
/// `items`, `minItems`, `maxItems`, `uniqueItems`, `required`, `properties`, `patternProperties`,
/// `additionalProperties`, `propertyNames`, `minProperties`, `maxProperties`, `allOf`, `anyOf`,
/// `oneOf`, `not`, `$ref` (local only: "#", "#/$defs/NAME" or any "#/json/pointer") and `$defs`.
/// Annotations (`$schema`, `$id`, `$comment`, `title`, `description`, `examples`, `default`,
/// `format`, `deprecated`, `readOnly`, `writeOnly`) are ignored. Any other keyword makes `init`
/// throw, so a schema never silently asks for more than is checked.
public struct JSONSchemaValidator: Sendable {
    public let schema: JSON

    /// The keywords that are checked.
    public static let keywords: Set<String> = [
        "type", "const", "enum", "minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "minLength", "maxLength",
        "pattern", "items", "minItems", "maxItems", "uniqueItems", "required", "properties", "patternProperties",
        "additionalProperties", "propertyNames", "minProperties", "maxProperties", "allOf", "anyOf", "oneOf", "not", "$ref",
        "$defs",
    ]
    /// The keywords that are accepted and ignored.
    public static let annotations: Set<String> = [
        "$schema", "$id", "$comment", "title", "description", "examples", "default", "format", "deprecated", "readOnly",
        "writeOnly",
    ]
    static let typeNames: Set<String> = ["null", "boolean", "number", "integer", "string", "array", "object"]

    /// How many schemas deep one evaluation may go before it stops (guards the stack).
    static let maxEvaluationDepth = 1000

    /// Checks that every keyword of `schema` is one the validator applies, with a value of the
    /// right shape; throws `InvalidSchemaError` otherwise.
    public init(schema: JSON) throws {
        var visited: Set<String> = []
        try JSONSchemaValidator.checkSchema(schema, at: "", root: schema, visited: &visited)
        self.schema = schema
    }

    /// Every violation of `instance` (empty: it conforms).
    public func validate(_ instance: JSON) -> [SchemaError] {
        var run = Evaluation(root: schema)
        run.check(instance, against: schema, at: .root, instanceLocation: "")
        return run.errors
    }

    /// JSON Schema's "basic" output: `{"valid": bool, "errors": [{"keywordLocation", "absoluteKeywordLocation"
    /// (only after a $ref), "instanceLocation", "error"}, ...]}` ("errors" is empty when valid).
    public static func basicOutput(_ errors: [SchemaError]) -> JSON {
        .object([
            "valid": .bool(errors.isEmpty),
            "errors": .array(errors.map { e in
                var unit: [String: JSON] = [
                    "keywordLocation": .string(e.keywordLocation), "instanceLocation": .string(e.instanceLocation),
                    "error": .string(e.error),
                ]
                if let absolute = e.absoluteKeywordLocation { unit["absoluteKeywordLocation"] = .string(absolute) }
                return .object(unit)
            }),
        ])
    }

    // MARK: checking the schema

    /// The JSON Pointer a local `$ref` names ("#" is ""), or nil when it is not a local reference.
    static func refPointer(_ ref: String) -> String? {
        guard ref.hasPrefix("#") else { return nil }
        let fragment = String(ref.dropFirst())
        guard let decoded = fragment.removingPercentEncoding, decoded.isEmpty || decoded.hasPrefix("/") else { return nil }
        return decoded
    }

    static func checkSchema(_ schema: JSON, at location: String, root: JSON, visited: inout Set<String>) throws {
        guard visited.insert(location).inserted else { return }
        func invalid(_ keyword: String, _ message: String) -> InvalidSchemaError {
            InvalidSchemaError(schemaLocation: location + "/" + JSON.escapePointerToken(keyword), message: message)
        }
        guard case let .object(members) = schema else {
            if case .bool = schema { return }
            throw InvalidSchemaError(schemaLocation: location, message: "a schema must be an object or a boolean, not \(schema.brief)")
        }
        for key in members.keys.sorted() {
            let value = members[key]!
            if annotations.contains(key) { continue }
            guard keywords.contains(key) else {
                throw invalid(
                    key,
                    "keyword '\(key)' is outside the subset the validator checks (\(keywords.sorted().joined(separator: ", "))); remove it or extend JSONSchemaValidator")
            }
            let here = location + "/" + JSON.escapePointerToken(key)
            switch key {
            case "type":
                let names: [JSON] = value.arrayValue ?? [value]
                guard !names.isEmpty, names.allSatisfy({ $0.stringValue.map(typeNames.contains) == true }), Set(names).count == names.count else {
                    throw invalid(key, "'type' must be one of \(typeNames.sorted().joined(separator: ", ")) or a non-empty list of distinct ones")
                }
            case "required":
                guard let list = value.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                    throw invalid(key, "'required' must be a list of member names")
                }
            case "properties", "patternProperties", "$defs":
                guard let subschemas = value.objectValue else { throw invalid(key, "'\(key)' must be an object of schemas") }
                for name in subschemas.keys.sorted() {
                    if key == "patternProperties" {
                        do { _ = try NSRegularExpression(pattern: name) } catch {
                            throw invalid(key, "pattern \(JSON.string(name).brief) does not compile as a regular expression")
                        }
                    }
                    try checkSchema(subschemas[name]!, at: here + "/" + JSON.escapePointerToken(name), root: root, visited: &visited)
                }
            case "additionalProperties", "items", "not", "propertyNames":
                try checkSchema(value, at: here, root: root, visited: &visited)
            case "allOf", "anyOf", "oneOf":
                guard let list = value.arrayValue, !list.isEmpty else { throw invalid(key, "'\(key)' must be a non-empty list of schemas") }
                for (i, sub) in list.enumerated() { try checkSchema(sub, at: here + "/\(i)", root: root, visited: &visited) }
            case "enum":
                guard value.arrayValue != nil else { throw invalid(key, "'enum' must be a list of values") }
            case "const":
                break
            case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
                guard value.doubleValue != nil else { throw invalid(key, "'\(key)' must be a number") }
            case "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties":
                guard let n = value.intValue, n >= 0 else { throw invalid(key, "'\(key)' must be a non-negative integer") }
            case "uniqueItems":
                guard value.boolValue != nil else { throw invalid(key, "'uniqueItems' must be true or false") }
            case "pattern":
                guard let pattern = value.stringValue else { throw invalid(key, "'pattern' must be a string") }
                do { _ = try NSRegularExpression(pattern: pattern) } catch {
                    throw invalid(key, "pattern \(value.brief) does not compile as a regular expression")
                }
            case "$ref":
                guard let ref = value.stringValue, let pointer = refPointer(ref) else {
                    throw invalid(key, "'$ref' must be a local reference (\"#\" or \"#/json/pointer\", e.g. \"#/$defs/name\"), not \(value.brief)")
                }
                guard let target = root.value(at: pointer) else {
                    throw invalid(key, "'$ref' \(value.brief) names nothing in this schema")
                }
                try checkSchema(target, at: pointer, root: root, visited: &visited)
            default:
                break
            }
        }
    }

    static func matches(_ value: JSON, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("number", .number), ("string", .string), ("array", .array), ("object", .object):
            return true
        case let ("integer", .number(d)):
            return d.isFinite && d == d.rounded()
        default:
            return false
        }
    }
}

/// Where evaluation stands in the schema: the path as evaluated (through `$ref`s) and the place in
/// the schema document.
struct SchemaLocation {
    var keyword: String
    var absolute: String
    var viaRef: Bool

    static let root = SchemaLocation(keyword: "", absolute: "", viaRef: false)

    func appending(_ tokens: String...) -> SchemaLocation {
        var next = self
        for token in tokens {
            let escaped = "/" + JSON.escapePointerToken(token)
            next.keyword += escaped
            next.absolute += escaped
        }
        return next
    }
}

/// One run of the validator over one instance.
struct Evaluation {
    let root: JSON
    var errors: [SchemaError] = []
    var regexCache: [String: NSRegularExpression] = [:]
    /// "$ref target|instance location" pairs being applied (a repeat is a cycle).
    var activeRefs: Set<String> = []
    var depth = 0

    init(root: JSON) { self.root = root }

    mutating func fail(_ location: SchemaLocation, _ keyword: String, _ instanceLocation: String, _ message: String) {
        let at = location.appending(keyword)
        errors.append(SchemaError(
            keywordLocation: at.keyword, absoluteKeywordLocation: at.viaRef ? "#" + at.absolute : nil,
            instanceLocation: instanceLocation, error: message))
    }

    mutating func regex(_ pattern: String) -> NSRegularExpression? {
        if let cached = regexCache[pattern] { return cached }
        let compiled = try? NSRegularExpression(pattern: pattern)
        regexCache[pattern] = compiled
        return compiled
    }

    mutating func matches(_ text: String, pattern: String) -> Bool {
        guard let regex = regex(pattern) else { return false }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// The errors `instance` has against `schema`, without recording them.
    mutating func errors(of instance: JSON, against schema: JSON, at location: SchemaLocation, instanceLocation: String) -> [SchemaError] {
        let saved = errors
        errors = []
        check(instance, against: schema, at: location, instanceLocation: instanceLocation)
        let found = errors
        errors = saved
        return found
    }

    static func article(_ type: String) -> String {
        type == "null" ? "null" : (["array", "integer", "object"].contains(type) ? "an " : "a ") + type
    }

    static func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }

    mutating func check(_ instance: JSON, against schema: JSON, at location: SchemaLocation, instanceLocation: String) {
        guard case let .object(s) = schema else {
            if case .bool(false) = schema {
                errors.append(SchemaError(
                    keywordLocation: location.keyword, absoluteKeywordLocation: location.viaRef ? "#" + location.absolute : nil,
                    instanceLocation: instanceLocation, error: "is not allowed here (the schema is false)"))
            }
            return
        }
        depth += 1
        defer { depth -= 1 }
        if depth > JSONSchemaValidator.maxEvaluationDepth {
            errors.append(SchemaError(
                keywordLocation: location.keyword, instanceLocation: instanceLocation,
                error: "evaluation went deeper than \(JSONSchemaValidator.maxEvaluationDepth) schemas; the instance is too deeply nested to check"))
            return
        }
        let memberLocation = { (name: String) in instanceLocation + "/" + JSON.escapePointerToken(name) }

        if let type = s["type"] {
            let names = (type.arrayValue ?? [type]).compactMap(\.stringValue)
            guard names.contains(where: { JSONSchemaValidator.matches(instance, type: $0) }) else {
                fail(location, "type", instanceLocation,
                     "expected \(names.map(Evaluation.article).joined(separator: " or ")), got \(instance.brief)")
                return
            }
        }
        if let constant = s["const"], constant != instance {
            fail(location, "const", instanceLocation, "expected \(constant.brief), got \(instance.brief)")
        }
        if case let .array(options) = s["enum"], !options.contains(instance) {
            fail(location, "enum", instanceLocation, "expected one of \(options.map(\.brief).joined(separator: ", ")), got \(instance.brief)")
        }
        switch instance {
        case let .number(x):
            if let m = s["minimum"]?.doubleValue, x < m {
                fail(location, "minimum", instanceLocation, "expected a number >= \(JSON.number(m).brief), got \(instance.brief)")
            }
            if let m = s["exclusiveMinimum"]?.doubleValue, x <= m {
                fail(location, "exclusiveMinimum", instanceLocation, "expected a number > \(JSON.number(m).brief), got \(instance.brief)")
            }
            if let m = s["maximum"]?.doubleValue, x > m {
                fail(location, "maximum", instanceLocation, "expected a number <= \(JSON.number(m).brief), got \(instance.brief)")
            }
            if let m = s["exclusiveMaximum"]?.doubleValue, x >= m {
                fail(location, "exclusiveMaximum", instanceLocation, "expected a number < \(JSON.number(m).brief), got \(instance.brief)")
            }
        case let .string(text):
            let length = text.unicodeScalars.count
            if let m = s["minLength"]?.intValue, length < m {
                fail(location, "minLength", instanceLocation,
                     "expected a string of at least \(Evaluation.plural(m, "character")), got \(instance.brief) (\(length))")
            }
            if let m = s["maxLength"]?.intValue, length > m {
                fail(location, "maxLength", instanceLocation,
                     "expected a string of at most \(Evaluation.plural(m, "character")), got one of \(length)")
            }
            if let pattern = s["pattern"]?.stringValue, !matches(text, pattern: pattern) {
                fail(location, "pattern", instanceLocation, "expected a string matching \(pattern), got \(instance.brief)")
            }
        case let .array(items):
            if let m = s["minItems"]?.intValue, items.count < m {
                fail(location, "minItems", instanceLocation,
                     "expected an array of at least \(Evaluation.plural(m, "item")), got \(items.count)")
            }
            if let m = s["maxItems"]?.intValue, items.count > m {
                fail(location, "maxItems", instanceLocation,
                     "expected an array of at most \(Evaluation.plural(m, "item")), got \(items.count)")
            }
            if s["uniqueItems"]?.boolValue == true {
                var firstIndex: [JSON: Int] = [:]
                for (i, item) in items.enumerated() {
                    if let j = firstIndex[item] {
                        fail(location, "uniqueItems", instanceLocation, "expected unique items, but items \(j) and \(i) are equal (\(item.brief))")
                        break
                    }
                    firstIndex[item] = i
                }
            }
            if let itemSchema = s["items"] {
                for (i, item) in items.enumerated() {
                    check(item, against: itemSchema, at: location.appending("items"), instanceLocation: instanceLocation + "/\(i)")
                }
            }
        case let .object(fields):
            if let m = s["minProperties"]?.intValue, fields.count < m {
                fail(location, "minProperties", instanceLocation,
                     "expected an object with at least \(Evaluation.plural(m, "member")), got \(fields.count)")
            }
            if let m = s["maxProperties"]?.intValue, fields.count > m {
                fail(location, "maxProperties", instanceLocation,
                     "expected an object with at most \(Evaluation.plural(m, "member")), got \(fields.count)")
            }
            if case let .array(required) = s["required"] {
                for case let .string(name) in required where fields[name] == nil {
                    fail(location, "required", instanceLocation, "field '\(name)' is required but missing")
                }
            }
            let properties = s["properties"]?.objectValue ?? [:]
            let patterns = (s["patternProperties"]?.objectValue ?? [:]).sorted { $0.key < $1.key }
            let names = fields.keys.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
            for name in names {
                let value = fields[name]!
                var evaluated = false
                if let propertySchema = properties[name] {
                    evaluated = true
                    check(value, against: propertySchema, at: location.appending("properties", name), instanceLocation: memberLocation(name))
                }
                for (pattern, patternSchema) in patterns where matches(name, pattern: pattern) {
                    evaluated = true
                    check(value, against: patternSchema, at: location.appending("patternProperties", pattern),
                          instanceLocation: memberLocation(name))
                }
                if !evaluated, let extra = s["additionalProperties"] {
                    if case .bool(false) = extra {
                        let known = properties.keys.sorted() + patterns.map { "/\($0.key)/" }
                        fail(location, "additionalProperties", memberLocation(name),
                             "is not a known field (known: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
                    } else {
                        check(value, against: extra, at: location.appending("additionalProperties"), instanceLocation: memberLocation(name))
                    }
                }
                if let nameSchema = s["propertyNames"] {
                    for e in errors(of: .string(name), against: nameSchema, at: location.appending("propertyNames"),
                                    instanceLocation: memberLocation(name)) {
                        var renamed = e
                        renamed.error = "member name: " + e.error
                        errors.append(renamed)
                    }
                }
            }
        default:
            break
        }

        if case let .array(branches) = s["allOf"] {
            for (i, branch) in branches.enumerated() {
                check(instance, against: branch, at: location.appending("allOf", "\(i)"), instanceLocation: instanceLocation)
            }
        }
        for combinator in ["anyOf", "oneOf"] {
            guard case let .array(branches) = s[combinator] else { continue }
            var failures: [[SchemaError]] = []
            var passing: [Int] = []
            for (i, branch) in branches.enumerated() {
                let found = errors(of: instance, against: branch, at: location.appending(combinator, "\(i)"), instanceLocation: instanceLocation)
                if found.isEmpty { passing.append(i) }
                failures.append(found)
            }
            if passing.isEmpty {
                let closest = failures.enumerated().min { $0.element.count < $1.element.count }!
                fail(location, combinator, instanceLocation,
                     "expected a value matching \(combinator == "anyOf" ? "at least" : "exactly") one of the \(branches.count) schemas in \(combinator), "
                         + "got \(instance.brief), which matches none (closest, #\(closest.offset): \(closest.element.first.map { $0.description } ?? "?"))")
            } else if combinator == "oneOf" && passing.count > 1 {
                fail(location, combinator, instanceLocation,
                     "expected a value matching exactly one of the \(branches.count) schemas in oneOf, got \(instance.brief), which matches #\(passing.map(String.init).joined(separator: ", #"))")
            }
        }
        if let negated = s["not"],
            errors(of: instance, against: negated, at: location.appending("not"), instanceLocation: instanceLocation).isEmpty
        {
            fail(location, "not", instanceLocation, "expected a value that does not match the schema in 'not', got \(instance.brief)")
        }
        if let ref = s["$ref"]?.stringValue, let pointer = JSONSchemaValidator.refPointer(ref), let target = root.value(at: pointer) {
            let key = pointer + "|" + instanceLocation
            if activeRefs.contains(key) {
                fail(location, "$ref", instanceLocation,
                     "$ref \"\(ref)\" leads back to a schema already being applied to this same value (a $ref cycle that never reaches the instance's parts); fix the schema")
            } else {
                activeRefs.insert(key)
                var next = location.appending("$ref")
                next.absolute = pointer
                next.viaRef = true
                check(instance, against: target, at: next, instanceLocation: instanceLocation)
                activeRefs.remove(key)
            }
        }
    }
}
