import Foundation

/// A value that has no canonical JSON form (a NaN or infinite number), or an `Encodable` that
/// cannot become JSON.
public struct JSONCanonicalError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// RFC 8785 (JSON Canonicalization Scheme) for `Encodable` values and for checking bytes.
public enum CanonicalJSON {
    /// The canonical UTF-8 bytes of an `Encodable` (`JSON.encode(value).canonicalData()`).
    public static func data<T: Encodable>(_ value: T) throws -> Data {
        try JSON.encode(value).canonicalData()
    }

    /// Whether `data` is strict JSON already in canonical form (byte for byte).
    public static func isCanonical(_ data: Data) -> Bool {
        guard let value = try? JSON.parse(data), let canonical = try? value.canonicalData() else { return false }
        return canonical == data
    }
}

extension JSON {
    /// The RFC 8785 canonical form: no whitespace, object members sorted by the UTF-16 code units
    /// of their names, strings with only the required escapes, numbers as ECMAScript writes them.
    /// Throws `JSONCanonicalError` for a NaN or infinite number.
    public func canonicalData() throws -> Data {
        var out: [UInt8] = []
        try JSON.writeCanonical(self, to: &out)
        return Data(out)
    }

    /// `canonicalData()` as a String.
    public func canonicalString() throws -> String {
        var out: [UInt8] = []
        try JSON.writeCanonical(self, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func writeCanonical(_ value: JSON, to out: inout [UInt8]) throws {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case let .bool(b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case let .number(d):
            guard let text = formatNumber(d) else {
                throw JSONCanonicalError(message: "cannot canonicalize the number \(d): JSON numbers must be finite (no NaN or Infinity)")
            }
            out.append(contentsOf: text.utf8)
        case let .string(s): writeCanonicalString(s, to: &out)
        case let .array(elements):
            out.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                try writeCanonical(element, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case let .object(members):
            out.append(UInt8(ascii: "{"))
            let sorted = members.map { (utf16: Array($0.key.utf16), key: $0.key, value: $0.value) }
                .sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
            for (i, member) in sorted.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeCanonicalString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                try writeCanonical(member.value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A string as RFC 8785 §3.2.2.2 writes it: `\"`, `\\`, `\b \f \n \r \t`, other controls as
    /// `\u00xx` (lower-case hex); everything else as literal UTF-8.
    static func writeCanonicalString(_ s: String, to out: inout [UInt8]) {
        let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x00..<0x20:
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hexDigits[Int(b >> 4)], hexDigits[Int(b & 0xF)]])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// A finite Double as ECMAScript's Number::toString writes it (ECMA-262 §6.1.6.1.20), which is
    /// what RFC 8785 §3.2.2.3 requires; nil for NaN and infinities.
    ///
    /// The digits are the shortest that round-trip, closest to the value (Swift's `description`
    /// computes exactly these); only the layout is ECMAScript's: with digits d1...dk and the value
    /// d1.d2...dk × 10^(n-1), integers up to 21 digits are written out in full, 1e-7 < |x| < 1 as
    /// 0.000ddd, and everything else as d1.d2...dke±(n-1).
    static func formatNumber(_ value: Double) -> String? {
        guard value.isFinite else { return nil }
        if value == 0 { return "0" }  // +0 and -0
        // Swift writes e.g. "5e-324", "1.0000000000000001e+23", "9007199254740992.0", "0.001".
        let text = value.magnitude.description
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            guard let parsed = Int(text[text.index(after: e)...].drop { $0 == "+" }) else { return nil }
            exponent = parsed
        }
        var digits: [UInt8] = []
        var pointIndex: Int? = nil
        for c in mantissa.utf8 {
            if c == UInt8(ascii: ".") { pointIndex = digits.count } else { digits.append(c) }
        }
        // value = 0.d1d2...dk × 10^n once leading zeros are stripped
        var n = (pointIndex ?? digits.count) + exponent
        while let first = digits.first, first == UInt8(ascii: "0") {
            digits.removeFirst()
            n -= 1
        }
        while let last = digits.last, last == UInt8(ascii: "0") { digits.removeLast() }
        guard !digits.isEmpty else { return "0" }
        let k = digits.count
        var out: [UInt8] = value < 0 ? [UInt8(ascii: "-")] : []
        if k <= n && n <= 21 {
            out += digits
            out += [UInt8](repeating: UInt8(ascii: "0"), count: n - k)
        } else if 0 < n && n <= 21 {
            out += digits[0..<n]
            out.append(UInt8(ascii: "."))
            out += digits[n...]
        } else if -6 < n && n <= 0 {
            out += [UInt8(ascii: "0"), UInt8(ascii: ".")]
            out += [UInt8](repeating: UInt8(ascii: "0"), count: -n)
            out += digits
        } else {
            out.append(digits[0])
            if k > 1 {
                out.append(UInt8(ascii: "."))
                out += digits[1...]
            }
            out.append(UInt8(ascii: "e"))
            out.append(n - 1 >= 0 ? UInt8(ascii: "+") : UInt8(ascii: "-"))
            out += Array(String(abs(n - 1)).utf8)
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension JSON {
    /// The canonical form laid out for people: the same member order, strings and numbers, with
    /// two-space indentation and a trailing newline. (Parsing it gives the same value back.)
    public func prettyData() throws -> Data {
        var out: [UInt8] = []
        try JSON.writePretty(self, indent: 0, to: &out)
        out.append(UInt8(ascii: "\n"))
        return Data(out)
    }

    static func writePretty(_ value: JSON, indent: Int, to out: inout [UInt8]) throws {
        func newline(_ level: Int) {
            out.append(UInt8(ascii: "\n"))
            out.append(contentsOf: [UInt8](repeating: UInt8(ascii: " "), count: 2 * level))
        }
        switch value {
        case let .array(elements) where !elements.isEmpty:
            out.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(indent + 1)
                try writePretty(element, indent: indent + 1, to: &out)
            }
            newline(indent)
            out.append(UInt8(ascii: "]"))
        case let .object(members) where !members.isEmpty:
            out.append(UInt8(ascii: "{"))
            let sorted = members.map { (utf16: Array($0.key.utf16), key: $0.key, value: $0.value) }
                .sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
            for (i, member) in sorted.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(indent + 1)
                writeCanonicalString(member.key, to: &out)
                out.append(contentsOf: ": ".utf8)
                try writePretty(member.value, indent: indent + 1, to: &out)
            }
            newline(indent)
            out.append(UInt8(ascii: "}"))
        default:
            try writeCanonical(value, to: &out)
        }
    }
}
