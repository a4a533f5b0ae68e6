import Foundation
import Testing

@testable import AccelBenchJSON

/// The error `text` gives (nil: it parsed).
func parseError(_ bytes: [UInt8], limits: JSONLimits = .default) -> JSONParseError? {
    do {
        _ = try JSON.parse(Data(bytes), limits: limits)
        return nil
    } catch {
        return error
    }
}

func parseError(_ text: String, limits: JSONLimits = .default) -> JSONParseError? {
    parseError(Array(text.utf8), limits: limits)
}

@Suite struct JSONParserTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSON.parse(" {\"a\": [1, -2.5e3, 0, -0, 0.125, 1E-2], \"b\": {\"c\": null, \"d\": true, \"e\": false}, \"s\": \"x\\ty\\u00e9\\ud83d\\ude00\\/\"}\r\n\t")
        #expect(value["a"] == .array([.number(1), .number(-2500), .number(0), .number(-0.0), .number(0.125), .number(0.01)]))
        #expect(value["b"]?["c"]?.isNull == true && value["b"]?["d"]?.boolValue == true && value["b"]?["e"]?.boolValue == false)
        #expect(value["s"]?.stringValue == "x\ty\u{e9}😀/")
        #expect(try JSON.parse("\"\\u0000\"").stringValue == "\u{0}")
        #expect(try JSON.parse("[]") == .array([]))
        #expect(try JSON.parse("{}") == .object([:]))
        #expect(try JSON.parse("\"é😀\"").stringValue == "é😀")
        #expect(try JSON.parse("1e-400").doubleValue == 0)  // underflow is a 0, not an error
        #expect(try JSON.parse("123456789012345678901234567890").doubleValue == 1.2345678901234568e29)
    }

    /// (document, line, column, words the message must contain)
    static let rejections: [(String, Int, Int, String)] = [
        ("{\"a\": 1,\n \"b\": 2,\n \"a\": 3}", 3, 2, "duplicate key \"a\""),
        ("{\"\\u0061\": 1, \"a\": 2}", 1, 15, "duplicate key \"a\""),
        ("[1, 2,]", 1, 7, "trailing comma"),
        ("{\"a\": 1,}", 1, 9, "trailing comma"),
        ("[01]", 1, 2, "leading zero"),
        ("-012", 1, 2, "leading zero"),
        ("[\"\\ud800\"]", 1, 3, "lone surrogate"),
        ("\"\\udc00\\ud800\"", 1, 2, "lone surrogate"),
        ("\"\\ud83d x\"", 1, 2, "lone surrogate"),
        ("[\"a\tb\"]", 1, 4, "control character"),
        ("\"line\nbreak\"", 1, 6, "control character"),
        ("[1] x", 1, 5, "trailing garbage"),
        ("{} {}", 1, 4, "trailing garbage"),
        ("[1e400]", 1, 2, "number out of range"),
        ("-1e400", 1, 1, "number out of range"),
        ("", 1, 1, "empty document"),
        ("  \n ", 2, 2, "only whitespace"),
        ("[1, 2", 1, 6, "unexpected end of input"),
        ("{\"a\" 1}", 1, 6, "expected ':'"),
        ("{a: 1}", 1, 2, "member name"),
        ("[1 2]", 1, 4, "expected ',' or ']'"),
        ("// c\n1", 1, 1, "comments"),
        ("[NaN]", 1, 2, "NaN and Infinity"),
        ("-Infinity", 1, 1, "NaN and Infinity"),
        ("['a']", 1, 2, "double quotes"),
        ("[.5]", 1, 2, "digit before the decimal point"),
        ("[1.]", 1, 4, "after the decimal point"),
        ("[1e]", 1, 4, "exponent"),
        ("+1", 1, 1, "plus sign"),
        ("[tru]", 1, 2, "expected 'true'"),
        ("nul", 1, 4, "end of input inside the literal"),
        ("\"\\x\"", 1, 2, "invalid escape"),
        ("\"\\u12G4\"", 1, 2, "four hex digits"),
        ("\u{FEFF}{}", 1, 1, "byte order mark"),
        ("[\u{0B}]", 1, 2, "byte 0x0B"),
        ("\"é\\q\"", 1, 3, "invalid escape"),
    ]

    @Test func malformedDocumentsNameTheProblemAndPlace() {
        for (text, line, column, words) in JSONParserTests.rejections {
            guard let error = parseError(text) else {
                Issue.record("parsed \(text.debugDescription)")
                continue
            }
            #expect(error.line == line && error.column == column, "\(text.debugDescription): \(error)")
            #expect(error.message.contains(words), "\(text.debugDescription): \(error)")
            #expect(error.description.hasPrefix("line \(error.line), column \(error.column): "))
        }
    }

    @Test func invalidUTF8IsRejected() {
        let cases: [[UInt8]] = [
            [0x22, 0xFF, 0x22],  // never valid
            [0x22, 0xC0, 0xAF, 0x22],  // overlong '/'
            [0x22, 0xE0, 0x80, 0xAF, 0x22],  // overlong
            [0x22, 0xED, 0xA0, 0x80, 0x22],  // UTF-8-encoded surrogate U+D800
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],  // beyond U+10FFFF
            [0x22, 0xC3, 0x22],  // truncated sequence
            [0x22, 0x80, 0x22],  // lone continuation byte
            [0x22, 0xE2, 0x82],  // ends inside a character
        ]
        for bytes in cases {
            let error = parseError(bytes)
            #expect(error?.message.contains("invalid UTF-8") == true, "\(bytes): \(String(describing: error))")
            #expect(error?.offset == 1 && error?.column == 2, "\(bytes): \(String(describing: error))")
        }
        // Outside strings, a non-ASCII byte is simply unexpected.
        #expect(parseError([0x5B, 0xC3, 0xA9, 0x5D])?.message.contains("byte 0xC3") == true)
    }

    @Test func columnsCountCharactersNotBytes() {
        let error = parseError("{\"é😀\": 1, \"é😀\": 2}")
        #expect(error?.column == 11 && error?.offset == 14, "\(String(describing: error))")
    }

    @Test func depthLimit() throws {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let error = parseError(deep)
        #expect(error?.message.contains("nesting deeper than the limit of 200") == true, "\(String(describing: error))")
        #expect(error?.offset == 200)
        // Exactly at the limit parses; the limit can be raised, and nothing recurses.
        let atLimit = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: Never.self) { try JSON.parse(atLimit) }
        let raised = try JSON.parse(deep, limits: JSONLimits(maxDepth: 10_000, maxBytes: 1 << 20))
        #expect(raised.arrayValue?.count == 1)
        #expect(parseError(String(repeating: "{\"a\":", count: 300) + "1" + String(repeating: "}", count: 300))?.message.contains("nesting") == true)
        #expect(parseError("[[1]]", limits: JSONLimits(maxDepth: 1, maxBytes: 100)) != nil)
        #expect(parseError("[1]", limits: JSONLimits(maxDepth: 1, maxBytes: 100)) == nil)
    }

    @Test func sizeLimit() {
        let error = parseError("[1, 2, 3]", limits: JSONLimits(maxDepth: 10, maxBytes: 8))
        #expect(error?.message.contains("9 bytes, over the limit of 8 bytes") == true, "\(String(describing: error))")
        #expect(parseError("[1, 2, 3]", limits: JSONLimits(maxDepth: 10, maxBytes: 9)) == nil)
    }

    @Test func canonicallyEquivalentKeysAreDuplicates() {
        // "é" precomposed and decomposed are distinct JSON names but one Swift dictionary key.
        let error = parseError("{\"\\u00e9\": 1, \"e\\u0301\": 2}")
        #expect(error?.message.contains("canonically equivalent") == true, "\(String(describing: error))")
    }

    /// Every proper prefix of a valid document is an error, never a crash.
    @Test func everyTruncationThrows() throws {
        let text = "{\"a\": [1, -2.5e-3, true, false, null, \"s\\u00e9\\ud83d\\ude00\u{e9}\"], \"b\": {\"c\": {}}, \"d\": []}"
        let bytes = Array(text.utf8)
        #expect(throws: Never.self) { try JSON.parse(Data(bytes)) }
        for length in 0..<bytes.count {
            #expect(parseError(Array(bytes[0..<length])) != nil, "prefix \(length)")
        }
    }

    @Test func largeDocumentsParseInLinearTime() throws {
        // 200k elements and a 1 MB string: quadratic behaviour would take minutes.
        let array = "[" + (0..<200_000).map { "\($0)" }.joined(separator: ",") + "]"
        #expect(try JSON.parse(array).arrayValue?.count == 200_000)
        let object = "{" + (0..<50_000).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}"
        #expect(try JSON.parse(object).objectValue?.count == 50_000)
        let long = "\"" + String(repeating: "ab\\n", count: 300_000) + "\""
        #expect(try JSON.parse(long).stringValue?.utf8.count == 900_000)
    }
}
