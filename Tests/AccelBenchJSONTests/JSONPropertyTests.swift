import Foundation
import Testing

@testable import AccelBenchJSON

/// SplitMix64: a tiny seeded generator, so every run sees the same "random" cases.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random JSON values: awkward numbers, strings with escapes, controls, non-BMP characters.
struct JSONGenerator {
    var rng: SplitMix64

    static let scalars: [Unicode.Scalar] = [
        "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1F}", "\u{7F}", "\u{80}", "é", "\u{301}", "\u{2028}",
        "\u{FEFF}", "\u{E000}", "\u{FB33}", "\u{FFFF}", "😀", "\u{10FFFF}", "€", "ß",
    ]

    mutating func string() -> String {
        var s = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...8, using: &rng) { s.append(JSONGenerator.scalars.randomElement(using: &rng)!) }
        return String(s)
    }

    mutating func number() -> Double {
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: return Double(Int.random(in: -1000...1000, using: &rng))
        case 1: return Double.random(in: -1...1, using: &rng)
        case 2:
            // any finite bit pattern
            while true {
                let d = Double(bitPattern: rng.next())
                if d.isFinite { return d }
            }
        case 3: return Double(Int64.random(in: Int64.min...Int64.max, using: &rng))
        case 4: return [0, -0.0, 1e21, 1e-7, 1e-6, 9007199254740992, .leastNonzeroMagnitude, .greatestFiniteMagnitude].randomElement(using: &rng)!
        default: return Double.random(in: -1e6...1e6, using: &rng).rounded() / 1000
        }
    }

    mutating func value(depth: Int = 0) -> JSON {
        switch Int.random(in: 0..<(depth > 4 ? 4 : 7), using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .number(number())
        case 3: return .string(string())
        case 4, 5:
            return .array((0..<Int.random(in: 0...5, using: &rng)).map { _ in value(depth: depth + 1) })
        default:
            var members: [String: JSON] = [:]
            for _ in 0..<Int.random(in: 0...5, using: &rng) { members[string()] = value(depth: depth + 1) }
            return .object(members)
        }
    }
}

@Suite struct JSONPropertyTests {
    @Test func canonicalFormRoundTripsAndIsIdempotent() throws {
        var generator = JSONGenerator(rng: SplitMix64(seed: 8785))
        for i in 0..<3_000 {
            let value = generator.value()
            let canonical = try value.canonicalData()
            let parsed = try JSON.parse(canonical)
            #expect(parsed == value, "case \(i): \(String(decoding: canonical, as: UTF8.self))")
            #expect(try parsed.canonicalData() == canonical, "case \(i)")
            #expect(CanonicalJSON.isCanonical(canonical), "case \(i)")
            #expect(parsed.hashValue == value.hashValue, "case \(i)")
        }
    }

    /// Mutated documents (a byte flipped, inserted or deleted; a truncation) parse or throw
    /// JSONParseError; the test finishing is the assertion that none crashed or hung.
    @Test func mutatedDocumentsNeverCrash() throws {
        var generator = JSONGenerator(rng: SplitMix64(seed: 6901))
        var rng = SplitMix64(seed: 42)
        let interesting: [UInt8] = Array("{}[]\",:\\-+.eE0123456789tfnu \n\t".utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xFF]
        var documents: [[UInt8]] = []
        for _ in 0..<40 { documents.append(Array(try generator.value().canonicalData())) }
        documents.append(Array("{\"a\": [1, 2.5e-3, {\"b\": \"\\ud83d\\ude00\"}], \"c\": null}".utf8))
        var parsed = 0
        var rejected = 0
        for _ in 0..<20_000 {
            var bytes = documents.randomElement(using: &rng)!
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let at = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
                let replacement = Bool.random(using: &rng) ? interesting.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0 where !bytes.isEmpty: bytes[at] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
                case 1: bytes.insert(replacement, at: at)
                case 2 where !bytes.isEmpty: bytes.remove(at: at)
                default: bytes = Array(bytes.prefix(at))
                }
            }
            do {
                let value = try JSON.parse(Data(bytes))
                parsed += 1
                // Whatever parses has a canonical form that parses back to it.
                let canonical = try value.canonicalData()
                #expect(try JSON.parse(canonical) == value)
            } catch let error as JSONParseError {
                rejected += 1
                #expect(error.offset >= 0 && error.offset <= bytes.count && error.line >= 1 && error.column >= 1)
                #expect(!error.message.isEmpty)
            }
        }
        #expect(parsed + rejected == 20_000)
        #expect(parsed > 100 && rejected > 10_000, "parsed \(parsed), rejected \(rejected)")
    }
}
