import Foundation
import Testing

@testable import AccelBenchJSON

@Suite("JSON pretty form")
struct JSONPrettyTests {
    @Test("the pretty form parses back to the same value, in canonical member order, with a trailing newline")
    func prettyRoundTrips() throws {
        let value = try JSON.parse(Data(#"{"b": [1, 2.5, {"y": null, "x": "\u00e9\n"}], "a": {}, "c": [], "d": 1e21}"#.utf8))
        let pretty = try value.prettyData()
        #expect(try JSON.parse(pretty) == value)
        let text = String(decoding: pretty, as: UTF8.self)
        #expect(text == "{\n  \"a\": {},\n  \"b\": [\n    1,\n    2.5,\n    {\n      \"x\": \"é\\n\",\n      \"y\": null\n    }\n  ],\n  \"c\": [],\n  \"d\": 1e+21\n}\n")
    }
}
