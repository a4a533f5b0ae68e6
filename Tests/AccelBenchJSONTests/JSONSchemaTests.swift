import Foundation
import Testing

@testable import AccelBenchJSON

/// A validator for the schema in `text` (a test bug if it does not build).
func validator(_ text: String) throws -> JSONSchemaValidator {
    try JSONSchemaValidator(schema: JSON.parse(text))
}

/// The errors `instance` has against `schema`.
func schemaErrors(_ schema: String, _ instance: String) throws -> [SchemaError] {
    try validator(schema).validate(JSON.parse(instance))
}

@Suite struct JSONSchemaTests {
    /// (schema, a passing instance, a failing instance, keywordLocation, instanceLocation, words in the error)
    static let keywordCases: [(String, String, String, String, String, String)] = [
        (##"{"type": "integer"}"##, "3", "3.5", "/type", "", "expected an integer, got 3.5"),
        (##"{"type": ["string", "null"]}"##, "null", "1", "/type", "", "expected a string or null, got 1"),
        (##"{"const": {"a": [1]}}"##, ##"{"a": [1.0]}"##, ##"{"a": [2]}"##, "/const", "", "expected an object"),
        (##"{"enum": ["fp16", "fp32"]}"##, ##""fp32""##, ##""fp24""##, "/enum", "", ##"expected one of "fp16", "fp32", got "fp24""##),
        (##"{"minimum": 1.5}"##, "1.5", "1", "/minimum", "", "expected a number >= 1.5, got 1"),
        (##"{"exclusiveMinimum": 0}"##, "0.1", "0", "/exclusiveMinimum", "", "expected a number > 0, got 0"),
        (##"{"maximum": 10}"##, "10", "10.5", "/maximum", "", "expected a number <= 10, got 10.5"),
        (##"{"exclusiveMaximum": 10}"##, "9.99", "10", "/exclusiveMaximum", "", "expected a number < 10, got 10"),
        // 3 code points, 2 grapheme clusters (e + combining acute): minLength counts code points
        (##"{"minLength": 3}"##, "\"e\u{301}x\"", ##""ab""##, "/minLength", "", "at least 3 characters"),
        (##"{"maxLength": 2}"##, "\"😀é\"", "\"e\u{301}x\"", "/maxLength", "", "at most 2 characters, got one of 3"),
        (##"{"pattern": "^[a-z]+$"}"##, ##""abc""##, ##""aBc""##, "/pattern", "", "expected a string matching ^[a-z]+$"),
        (##"{"items": {"type": "number"}}"##, "[1, 2]", ##"[1, "x"]"##, "/items/type", "/1", "expected a number"),
        (##"{"minItems": 2}"##, "[1, 2]", "[1]", "/minItems", "", "at least 2 items, got 1"),
        (##"{"maxItems": 1}"##, "[1]", "[1, 2]", "/maxItems", "", "at most 1 item, got 2"),
        (##"{"uniqueItems": true}"##, ##"[1, "1", [1]]"##, ##"[{"a": 1}, 2, {"a": 1.0}]"##, "/uniqueItems", "", "items 0 and 2 are equal"),
        (##"{"required": ["a", "b"]}"##, ##"{"a": 1, "b": 2}"##, ##"{"a": 1}"##, "/required", "", "field 'b' is required but missing"),
        (##"{"properties": {"a/b": {"type": "string"}}}"##, ##"{"a/b": "x", "c": 1}"##, ##"{"a/b": 1}"##, "/properties/a~1b/type", "/a~1b", "expected a string"),
        (##"{"patternProperties": {"^x-": {"type": "boolean"}}}"##, ##"{"x-a": true, "y": 1}"##, ##"{"x-a": 1}"##, "/patternProperties/^x-/type", "/x-a", "expected a boolean"),
        (##"{"properties": {"a": {}}, "additionalProperties": false}"##, ##"{"a": 1}"##, ##"{"a": 1, "b": 2}"##, "/additionalProperties", "/b", "is not a known field (known: a)"),
        (##"{"additionalProperties": {"type": "integer"}}"##, ##"{"a": 1}"##, ##"{"a": 1.5}"##, "/additionalProperties/type", "/a", "expected an integer"),
        (##"{"propertyNames": {"pattern": "^[a-z]+$"}}"##, ##"{"ab": 1}"##, ##"{"aB": 1}"##, "/propertyNames/pattern", "/aB", "member name: expected a string matching"),
        (##"{"minProperties": 1}"##, ##"{"a": 1}"##, "{}", "/minProperties", "", "at least 1 member, got 0"),
        (##"{"maxProperties": 1}"##, ##"{"a": 1}"##, ##"{"a": 1, "b": 2}"##, "/maxProperties", "", "at most 1 member, got 2"),
        (##"{"allOf": [{"type": "number"}, {"minimum": 2}]}"##, "3", "1", "/allOf/1/minimum", "", "expected a number >= 2"),
        (##"{"anyOf": [{"type": "string"}, {"minimum": 2}]}"##, "3", "1", "/anyOf", "", "at least one of the 2 schemas in anyOf"),
        (##"{"oneOf": [{"type": "integer"}, {"minimum": 2}]}"##, "1", "3", "/oneOf", "", "matches #0, #1"),
        (##"{"oneOf": [{"type": "string"}, {"type": "boolean"}]}"##, "true", "3", "/oneOf", "", "exactly one of the 2 schemas in oneOf"),
        (##"{"not": {"type": "null"}}"##, "0", "null", "/not", "", "does not match the schema in 'not'"),
        (##"{"$defs": {"pos": {"exclusiveMinimum": 0}}, "properties": {"a": {"$ref": "#/$defs/pos"}}}"##, ##"{"a": 1}"##, ##"{"a": 0}"##,
         "/properties/a/$ref/exclusiveMinimum", "/a", "expected a number > 0"),
        (##"{"properties": {"b": {"type": "string"}, "a": {"$ref": "#/properties/b"}}}"##, ##"{"a": "x"}"##, ##"{"a": 1}"##,
         "/properties/a/$ref/type", "/a", "expected a string"),
        (##"{"items": false}"##, "[]", "[1]", "/items", "/0", "is not allowed"),
        (##"{"title": "t", "description": "d", "$comment": "c", "examples": [1], "default": 1, "format": "email", "deprecated": true, "readOnly": true, "$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "x", "type": "string"}"##,
         ##""not an email""##, "1", "/type", "", "expected a string"),
    ]

    @Test func eachKeywordPassesAndFails() throws {
        for (schema, good, bad, keywordLocation, instanceLocation, words) in JSONSchemaTests.keywordCases {
            let goodErrors = try schemaErrors(schema, good)
            #expect(goodErrors.isEmpty, "\(schema) with \(good): \(goodErrors)")
            let errors = try schemaErrors(schema, bad)
            #expect(errors.count == 1, "\(schema) with \(bad): \(errors)")
            guard let error = errors.first else { continue }
            #expect(error.keywordLocation == keywordLocation, "\(schema): \(error)")
            #expect(error.instanceLocation == instanceLocation, "\(schema): \(error)")
            #expect(error.error.contains(words), "\(schema): \(error.error)")
        }
    }

    @Test func refsRecordTheirAbsoluteLocation() throws {
        let errors = try schemaErrors(
            ##"{"$defs": {"dtype": {"enum": ["fp16", "fp32"]}}, "properties": {"results": {"items": {"properties": {"dtype": {"$ref": "#/$defs/dtype"}}}}}}"##,
            ##"{"results": [{"dtype": "fp16"}, {"dtype": "fp24"}]}"##)
        #expect(errors == [
            SchemaError(
                keywordLocation: "/properties/results/items/properties/dtype/$ref/enum", absoluteKeywordLocation: "#/$defs/dtype/enum",
                instanceLocation: "/results/1/dtype", error: ##"expected one of "fp16", "fp32", got "fp24""##)
        ])
        #expect(errors[0].description == ##"field 'results[1].dtype': expected one of "fp16", "fp32", got "fp24""##)
        #expect(errors[0].fieldPath == "results[1].dtype")
    }

    @Test func recursiveSchemasTerminate() throws {
        // A tree: legitimate recursion through the instance's parts.
        let tree = ##"{"type": "object", "properties": {"value": {"type": "integer"}, "children": {"type": "array", "items": {"$ref": "#"}}}}"##
        #expect(try schemaErrors(tree, ##"{"value": 1, "children": [{"value": 2, "children": [{"value": 3}]}]}"##).isEmpty)
        let errors = try schemaErrors(tree, ##"{"children": [{"children": [{"value": "x"}]}]}"##)
        #expect(errors.map(\.instanceLocation) == ["/children/0/children/0/value"])
        #expect(errors.first?.keywordLocation == "/properties/children/items/$ref/properties/children/items/$ref/properties/value/type")
        #expect(errors.first?.absoluteKeywordLocation == "#/properties/value/type")
    }

    @Test func refCyclesAreReportedNotLooped() throws {
        for schema in [
            ##"{"$ref": "#"}"##,
            ##"{"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"allOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"}"##,
            ##"{"anyOf": [{"$ref": "#"}, {"type": "string"}]}"##,
        ] {
            let errors = try schemaErrors(schema, "1")
            #expect(errors.count == 1 && errors[0].error.contains("$ref cycle"), "\(schema): \(errors)")
        }
        // A cycle on one branch does not stop another branch from matching.
        #expect(try schemaErrors(##"{"anyOf": [{"$ref": "#"}, {"type": "string"}]}"##, ##""s""##).isEmpty)
    }

    @Test func deepInstancesDoNotExhaustTheStack() throws {
        let deep = String(repeating: "[", count: 200) + "\"x\"" + String(repeating: "]", count: 200)
        let errors = try schemaErrors(##"{"type": "array", "items": {"$ref": "#"}}"##, deep)
        #expect(errors.count == 1 && errors.first?.instanceLocation == String(repeating: "/0", count: 200), "\(errors.count)")
    }

    @Test func basicOutputShape() throws {
        let v = try validator(##"{"$defs": {"n": {"type": "number"}}, "required": ["a"], "properties": {"b": {"$ref": "#/$defs/n"}}}"##)
        let errors = v.validate(try JSON.parse(##"{"b": "x"}"##))
        let output = JSONSchemaValidator.basicOutput(errors)
        #expect(try output.canonicalString() == ##"{"errors":[{"error":"field 'a' is required but missing","instanceLocation":"","keywordLocation":"/required"},"##
            + ##"{"absoluteKeywordLocation":"#/$defs/n/type","error":"expected a number, got \"x\"","instanceLocation":"/b","keywordLocation":"/properties/b/$ref/type"}],"valid":false}"##)
        #expect(JSONSchemaValidator.basicOutput(v.validate(try JSON.parse(##"{"a": 1, "b": 2}"##))) == .object(["valid": .bool(true), "errors": .array([])]))
    }

    @Test func anyOfReportsOneErrorNotEveryBranch() throws {
        let errors = try schemaErrors(
            ##"{"anyOf": [{"type": "object", "required": ["a", "b", "c"]}, {"type": "object", "required": ["x"]}]}"##, ##"{"y": 1}"##)
        #expect(errors.count == 1)
        #expect(errors.first?.error.contains("closest, #1") == true, "\(errors)")
    }

    @Test func descriptionsNameTheField() throws {
        let errors = try schemaErrors(##"{"properties": {"a": {"items": {"type": "string"}}}, "required": ["z"]}"##, ##"{"a": ["x", 2]}"##)
        #expect(errors.map(\.description) == ["the document: field 'z' is required but missing", "field 'a[1]': expected a string, got 2"])
    }

    /// A schema never asks for more than is checked.
    @Test(arguments: [
        ##"{"dependentRequired": {}}"##, ##"{"properties": {"a": {"if": {}}}}"##, ##"{"items": {"contains": {}}}"##,
        ##"{"$defs": {"x": {"unevaluatedProperties": false}}}"##, ##"{"anyOf": [{"prefixItems": []}]}"##,
    ])
    func unknownKeywordsAreRefused(_ schema: String) {
        #expect(throws: InvalidSchemaError.self) { try validator(schema) }
    }

    @Test(arguments: [
        (##"{"type": "float"}"##, "'type' must be one of"),
        (##"{"minLength": -1}"##, "non-negative integer"),
        (##"{"minLength": 1.5}"##, "non-negative integer"),
        (##"{"required": "a"}"##, "list of member names"),
        (##"{"pattern": "(unclosed"}"##, "does not compile"),
        (##"{"$ref": "other.json#/x"}"##, "local reference"),
        (##"{"$ref": "#/$defs/missing"}"##, "names nothing"),
        (##"{"anyOf": []}"##, "non-empty list"),
        (##"{"properties": {"a": 3}}"##, "must be an object or a boolean"),
        (##"{"uniqueItems": 1}"##, "true or false"),
    ])
    func malformedKeywordValuesAreRefused(_ schema: String, _ words: String) {
        do {
            _ = try validator(schema)
            Issue.record("accepted \(schema)")
        } catch {
            #expect("\(error)".contains(words), "\(schema): \(error)")
        }
    }

    @Test func unknownKeywordErrorSaysWhereAndWhat() {
        do {
            _ = try validator(##"{"properties": {"a": {"if": {}}}}"##)
        } catch let error as InvalidSchemaError {
            #expect(error.schemaLocation == "/properties/a/if")
            #expect(error.description.contains("keyword 'if' is outside the subset the validator checks"))
        } catch {
            Issue.record("\(error)")
        }
    }
}
