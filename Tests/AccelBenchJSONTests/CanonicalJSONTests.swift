import Foundation
import Testing

@testable import AccelBenchJSON

@Suite struct CanonicalJSONTests {
    /// RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
    static let appendixB: [(UInt64, String)] = [
        (0x0000_0000_0000_0000, "0"),
        (0x8000_0000_0000_0000, "0"),
        (0x0000_0000_0000_0001, "5e-324"),
        (0x8000_0000_0000_0001, "-5e-324"),
        (0x7fef_ffff_ffff_ffff, "1.7976931348623157e+308"),
        (0xffef_ffff_ffff_ffff, "-1.7976931348623157e+308"),
        (0x4340_0000_0000_0000, "9007199254740992"),
        (0xc340_0000_0000_0000, "-9007199254740992"),
        (0x4430_0000_0000_0000, "295147905179352830000"),
        (0x44b5_2d02_c7e1_4af5, "9.999999999999997e+22"),
        (0x44b5_2d02_c7e1_4af6, "1e+23"),
        (0x44b5_2d02_c7e1_4af7, "1.0000000000000001e+23"),
        (0x444b_1ae4_d6e2_ef4e, "999999999999999700000"),
        (0x444b_1ae4_d6e2_ef4f, "999999999999999900000"),
        (0x444b_1ae4_d6e2_ef50, "1e+21"),
        (0x3eb0_c6f7_a0b5_ed8c, "9.999999999999997e-7"),
        (0x3eb0_c6f7_a0b5_ed8d, "0.000001"),
        (0x41b3_de43_5555_5553, "333333333.3333332"),
        (0x41b3_de43_5555_5554, "333333333.33333325"),
        (0x41b3_de43_5555_5555, "333333333.3333333"),
        (0x41b3_de43_5555_5556, "333333333.3333334"),
        (0x41b3_de43_5555_5557, "333333333.33333343"),
        (0xbecb_f647_612f_3696, "-0.0000033333333333333333"),
        (0x4314_3ff3_c1cb_0959, "1424953923781206.2"),
    ]

    @Test func appendixBNumberSamples() throws {
        for (bits, expected) in CanonicalJSONTests.appendixB {
            let value = Double(bitPattern: bits)
            #expect(try JSON.number(value).canonicalString() == expected, "0x\(String(bits, radix: 16))")
            // The text parses back to the same double (except -0, which is written as 0).
            let back = try JSON.parse(expected).doubleValue
            #expect(back == value, "0x\(String(bits, radix: 16))")
        }
    }

    @Test(arguments: [0x7fff_ffff_ffff_ffff as UInt64, 0x7ff0_0000_0000_0000, 0xfff0_0000_0000_0000])
    func nonFiniteNumbersHaveNoCanonicalForm(_ bits: UInt64) {
        #expect(throws: JSONCanonicalError.self) { try JSON.number(Double(bitPattern: bits)).canonicalData() }
        #expect(throws: JSONCanonicalError.self) { try JSON.array([.object(["x": .number(Double(bitPattern: bits))])]).canonicalString() }
    }

    @Test func ecmaScriptNumberLayout() throws {
        let cases: [(Double, String)] = [
            (1, "1"), (-1, "-1"), (100, "100"), (1.5, "1.5"), (-0.0, "0"), (0.1, "0.1"), (1e20, "100000000000000000000"),
            (1e21, "1e+21"), (1.5e21, "1.5e+21"), (1e-6, "0.000001"), (1e-7, "1e-7"), (1.5e-7, "1.5e-7"), (123e-20, "1.23e-18"),
            (0.000123, "0.000123"), (4.35, "4.35"), (2e-3, "0.002"), (1e300, "1e+300"), (Double.leastNormalMagnitude, "2.2250738585072014e-308"),
            (1.2345678901234568e20, "123456789012345680000"), (9007199254740992, "9007199254740992"), (0.5, "0.5"), (12.375, "12.375"),
        ]
        for (value, expected) in cases {
            #expect(try JSON.number(value).canonicalString() == expected, "\(value)")
        }
    }

    /// RFC 8785 §3.2.3: names sort by UTF-16 code units, so U+1F600 (D83D DE00) comes before U+FB33.
    @Test func membersSortByUTF16CodeUnits() throws {
        let names = ["\u{20ac}", "\r", "\u{fb33}", "1", "\u{1F600}", "\u{80}", "\u{f6}", "</script>"]
        let value = JSON.object(Dictionary(uniqueKeysWithValues: names.map { ($0, JSON.null) }))
        let sorted = ["\\r", "1", "</script>", "\u{80}", "\u{f6}", "\u{20ac}", "\u{1F600}", "\u{fb33}"]
        #expect(try value.canonicalString() == "{" + sorted.map { "\"\($0)\":null" }.joined(separator: ",") + "}")
        // Swift's String ordering (by scalar) would put U+FB33 first: the two orders really differ here.
        #expect("\u{fb33}" < "\u{1F600}")
        #expect(try JSON.object(["\u{E000}": .number(1), "\u{1F600}": .number(2)]).canonicalString() == "{\"\u{1F600}\":2,\"\u{E000}\":1}")
    }

    /// RFC 8785 §3.2.2's example object.
    @Test func rfcSection3Example() throws {
        let input = #"""
            {
              "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """#
        let expected = #"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        let canonical = try JSON.parse(input).canonicalData()
        #expect(canonical == Data(expected.utf8))
        #expect(CanonicalJSON.isCanonical(canonical))
        #expect(!CanonicalJSON.isCanonical(Data(input.utf8)))
    }

    @Test func stringEscapes() throws {
        let text = "\"\\\u{08}\u{0C}\n\r\t\u{00}\u{1F}\u{7F}/é\u{2028}😀"
        #expect(try JSON.string(text).canonicalString() == #""\"\\\b\f\n\r\t\u0000\u001f"# + "\u{7F}/é\u{2028}😀\"")
    }

    static var fixtures: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures") }

    /// The RFC author's input/output pairs (Fixtures/README.md), compared byte for byte.
    @Test func cyberphoneTestData() throws {
        let inputs = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures.appendingPathComponent("input").path)
            .filter { $0.hasSuffix(".json") }.sorted()
        #expect(inputs == ["french.json", "simpleString.json", "structures.json", "unicode.json", "values.json", "weird.json"])
        for name in inputs {
            let input = try Data(contentsOf: Self.fixtures.appendingPathComponent("input").appendingPathComponent(name))
            let output = try Data(contentsOf: Self.fixtures.appendingPathComponent("output").appendingPathComponent(name))
            let canonical = try JSON.parse(input).canonicalData()
            #expect(canonical == output, "\(name): \(String(decoding: canonical, as: UTF8.self))")
            #expect(CanonicalJSON.isCanonical(output), "\(name)")
        }
    }

    struct Sample: Codable, Equatable {
        var name: String
        var ratio: Double
        var count: Int
        var tags: [String]
        var nested: [String: Double]
        var missing: String?
    }

    @Test func encodableValues() throws {
        let sample = Sample(name: "h100/sxm", ratio: 0.1, count: 3, tags: ["b", "a"], nested: ["z": 1e21, "a": 1e-7], missing: nil)
        let canonical = try CanonicalJSON.data(sample)
        #expect(String(decoding: canonical, as: UTF8.self)
            == #"{"count":3,"name":"h100/sxm","nested":{"a":1e-7,"z":1e+21},"ratio":0.1,"tags":["b","a"]}"#)
        #expect(try JSON.encode(sample).decode(Sample.self) == sample)
        #expect(try JSON.parse(canonical).decode(Sample.self) == sample)
    }

    @Test func encodingNonFiniteDoublesFailsClearly() {
        let bad = Sample(name: "x", ratio: .nan, count: 1, tags: [], nested: [:])
        do {
            _ = try JSON.encode(bad)
            Issue.record("encoded NaN")
        } catch let error as JSONCanonicalError {
            #expect(error.message.contains("ratio") && error.message.contains("finite"), "\(error)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
        #expect(throws: JSONCanonicalError.self) { try CanonicalJSON.data(["a": Double.infinity]) }
    }

    @Test func isCanonicalRejectsNonCanonicalSpellings() {
        for text in ["{\"b\":1,\"a\":2}", "[1.0]", "[1E2]", "{ }", "\"\\u0041\"", "[-0]", "1 ", "\"\\/\"", "{\"a\":1,\"a\":1}", "nul"] {
            #expect(!CanonicalJSON.isCanonical(Data(text.utf8)), "\(text)")
        }
        for text in ["{\"a\":2,\"b\":1}", "[1]", "[100]", "{}", "\"A\"", "[0]", "1", "\"/\"", "\"\\u001f\"", "null"] {
            #expect(CanonicalJSON.isCanonical(Data(text.utf8)), "\(text)")
        }
    }
}
