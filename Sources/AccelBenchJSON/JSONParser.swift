import Foundation

/// Bounds on what `JSON.parse` accepts, so a hostile file cannot exhaust memory or the stack.
public struct JSONLimits: Sendable, Equatable {
    /// The deepest nesting of arrays and objects accepted (`[[1]]` has depth 2).
    public var maxDepth: Int
    /// The largest document accepted, in bytes.
    public var maxBytes: Int

    public init(maxDepth: Int, maxBytes: Int) {
        self.maxDepth = maxDepth
        self.maxBytes = maxBytes
    }

    /// Depth 200, 64 MiB.
    public static let `default` = JSONLimits(maxDepth: 200, maxBytes: 64 << 20)
}

/// Why a document is not strict JSON, and where: `offset` is the byte offset from the start,
/// `line` and `column` are 1-based (columns count characters, tabs as one).
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var line: Int
    public var column: Int
    public var message: String

    public init(offset: Int, line: Int, column: Int, message: String) {
        self.offset = offset
        self.line = line
        self.column = column
        self.message = message
    }

    /// E.g. `line 3, column 14: duplicate key "a"`.
    public var description: String { "line \(line), column \(column): \(message)" }
}

extension JSON {
    /// Parses UTF-8 bytes as strict JSON (RFC 8259, I-JSON): no comments, trailing commas, leading
    /// zeros, NaN/Infinity, byte order mark, invalid UTF-8, unescaped control characters, lone
    /// surrogates, duplicate member names or numbers beyond a Double's range. Never traps and never
    /// recurses: any input either parses or throws a `JSONParseError` naming the problem and its place.
    public static func parse(_ data: Data, limits: JSONLimits = .default) throws(JSONParseError) -> JSON {
        let result: Result<JSON, JSONParseError> = data.withUnsafeBytes { raw in
            var parser = JSONParser(bytes: raw.bindMemory(to: UInt8.self), limits: limits)
            do throws(JSONParseError) {
                return .success(try parser.parseDocument())
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Parses the UTF-8 of `text` (see `parse(_:limits:)`).
    public static func parse(_ text: String, limits: JSONLimits = .default) throws(JSONParseError) -> JSON {
        try parse(Data(text.utf8), limits: limits)
    }
}

/// The parser: a loop over the bytes with an explicit stack of open containers.
struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let limits: JSONLimits
    var position = 0

    init(bytes: UnsafeBufferPointer<UInt8>, limits: JSONLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    /// An open array or object.
    struct Frame {
        var isObject: Bool
        var elements: [JSON] = []
        var members: [String: JSON] = [:]
        /// The name of the member whose value is being parsed.
        var key = ""
    }

    // MARK: errors

    func error(_ message: String, at offset: Int? = nil) -> JSONParseError {
        let offset = min(offset ?? position, bytes.count)
        var line = 1
        var column = 1
        for i in 0..<offset {
            let b = bytes[i]
            if b == 0x0A {
                line += 1
                column = 1
            } else if b & 0xC0 != 0x80 {  // count characters, not UTF-8 continuation bytes
                column += 1
            }
        }
        return JSONParseError(offset: offset, line: line, column: column, message: message)
    }

    /// How the byte at `offset` reads in a message.
    func describeByte(at offset: Int) -> String {
        guard offset < bytes.count else { return "end of input" }
        let b = bytes[offset]
        if b >= 0x21 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        switch b {
        case 0x20: return "a space"
        case 0x09: return "a tab"
        case 0x0A: return "a line feed"
        case 0x0D: return "a carriage return"
        default: return "byte 0x" + String(b, radix: 16, uppercase: true).leftPadded(to: 2)
        }
    }

    // MARK: structure

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    mutating func parseDocument() throws(JSONParseError) -> JSON {
        if bytes.count > limits.maxBytes {
            throw error(
                "document is \(bytes.count) bytes, over the limit of \(limits.maxBytes) bytes; raise JSONLimits.maxBytes if it is expected",
                at: 0)
        }
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF {
            throw error("the document starts with a byte order mark (U+FEFF), which JSON text must not have (RFC 8259 §8.1); remove it", at: 0)
        }
        skipWhitespace()
        if position == bytes.count {
            throw error(bytes.isEmpty ? "empty document: expected a JSON value" : "document holds only whitespace: expected a JSON value")
        }
        var stack: [Frame] = []
        while true {
            // A value starts here.
            guard position < bytes.count else {
                throw error("unexpected end of input: expected a value")
            }
            var value: JSON
            switch bytes[position] {
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                let isObject = bytes[position] == UInt8(ascii: "{")
                if stack.count >= limits.maxDepth {
                    throw error("nesting deeper than the limit of \(limits.maxDepth) arrays/objects; raise JSONLimits.maxDepth if it is expected")
                }
                position += 1
                skipWhitespace()
                let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                if position < bytes.count && bytes[position] == close {
                    position += 1
                    value = isObject ? .object([:]) : .array([])
                } else {
                    var frame = Frame(isObject: isObject)
                    if isObject { frame.key = try parseMemberName(in: frame.members, first: true) }
                    stack.append(frame)
                    continue
                }
            default:
                value = try parseScalar()
            }
            // The value is complete: add it to the open containers, closing those that end here.
            while true {
                guard !stack.isEmpty else {
                    skipWhitespace()
                    if position < bytes.count {
                        throw error("unexpected \(describeByte(at: position)) after the end of the JSON value (trailing garbage)")
                    }
                    return value
                }
                let top = stack.count - 1
                if stack[top].isObject {
                    stack[top].members[stack[top].key] = value
                } else {
                    stack[top].elements.append(value)
                }
                skipWhitespace()
                let isObject = stack[top].isObject
                let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                guard position < bytes.count else {
                    throw error("unexpected end of input: expected ',' or '\(isObject ? "}" : "]")' after \(isObject ? "an object member" : "an array element")")
                }
                let b = bytes[position]
                if b == UInt8(ascii: ",") {
                    position += 1
                    skipWhitespace()
                    if position < bytes.count && (bytes[position] == close) {
                        throw error("trailing comma before '\(isObject ? "}" : "]")'", at: position)
                    }
                    if isObject { stack[top].key = try parseMemberName(in: stack[top].members, first: false) }
                    break  // parse the next value
                } else if b == close {
                    position += 1
                    let frame = stack.removeLast()
                    value = isObject ? .object(frame.members) : .array(frame.elements)
                } else {
                    throw error(
                        "unexpected \(describeByte(at: position)): expected ',' or '\(isObject ? "}" : "]")' after \(isObject ? "an object member" : "an array element")")
                }
            }
            skipWhitespace()
        }
    }

    /// A member name, the ':' after it and the whitespace up to the value; rejects duplicates.
    mutating func parseMemberName(in members: [String: JSON], first: Bool) throws(JSONParseError) -> String {
        guard position < bytes.count else {
            throw error("unexpected end of input: expected a member name in double quotes\(first ? " or '}'" : "")")
        }
        guard bytes[position] == UInt8(ascii: "\"") else {
            let hint = bytes[position] == UInt8(ascii: "'") ? " (JSON strings use double quotes)" : ""
            throw error("unexpected \(describeByte(at: position)): expected a member name in double quotes\(first ? " or '}'" : "")\(hint)")
        }
        let start = position
        let name = try parseString()
        if let existing = members.index(forKey: name) {
            let other = members[existing].key
            let same = other.unicodeScalars.elementsEqual(name.unicodeScalars)
            throw error(
                same
                    ? "duplicate key \(JSON.string(name).brief) in the same object (I-JSON forbids duplicate names)"
                    : "key \(JSON.string(name).brief) is canonically equivalent to the earlier key \(JSON.string(other).brief) in the same object (a duplicate once Unicode-normalized)",
                at: start)
        }
        skipWhitespace()
        guard position < bytes.count else { throw error("unexpected end of input: expected ':' after the member name") }
        guard bytes[position] == UInt8(ascii: ":") else {
            throw error("unexpected \(describeByte(at: position)): expected ':' after the member name")
        }
        position += 1
        skipWhitespace()
        guard position < bytes.count else { throw error("unexpected end of input: expected a value after ':'") }
        return name
    }

    // MARK: scalars

    mutating func parseScalar() throws(JSONParseError) -> JSON {
        let b = bytes[position]
        switch b {
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try parseNumber())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "N"), UInt8(ascii: "I"):
            throw error("NaN and Infinity are not JSON numbers")
        case UInt8(ascii: "/"):
            throw error("comments are not allowed in JSON")
        case UInt8(ascii: "'"):
            throw error("unexpected \"'\": JSON strings use double quotes")
        case UInt8(ascii: "+"):
            throw error("unexpected '+': a JSON number has no leading plus sign")
        case UInt8(ascii: "."):
            throw error("unexpected '.': a JSON number needs a digit before the decimal point")
        case UInt8(ascii: "]"), UInt8(ascii: "}"):
            throw error("unexpected \(describeByte(at: position)): expected a value")
        default:
            throw error("unexpected \(describeByte(at: position)): expected a value (object, array, string, number, true, false or null)")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let start = position
        var i = 0
        let count = literal.utf8CodeUnitCount
        while i < count {
            let expected = literal.utf8Start[i]
            guard start + i < bytes.count else {
                throw error("unexpected end of input inside the literal '\(literal)'", at: start + i)
            }
            guard bytes[start + i] == expected else {
                throw error("invalid literal: expected '\(literal)'", at: start)
            }
            i += 1
        }
        position = start + count
    }

    func isDigit(_ offset: Int) -> Bool {
        offset < bytes.count && bytes[offset] >= UInt8(ascii: "0") && bytes[offset] <= UInt8(ascii: "9")
    }

    mutating func parseNumber() throws(JSONParseError) -> Double {
        let start = position
        if bytes[position] == UInt8(ascii: "-") {
            position += 1
            if position < bytes.count && (bytes[position] == UInt8(ascii: "I") || bytes[position] == UInt8(ascii: "N")) {
                throw error("NaN and Infinity are not JSON numbers", at: start)
            }
        }
        guard isDigit(position) else {
            throw error(position < bytes.count ? "unexpected \(describeByte(at: position)) in a number: expected a digit" : "unexpected end of input in a number: expected a digit")
        }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
            if isDigit(position) { throw error("leading zero in a number (write 7, not 07)", at: position - 1) }
        } else {
            while isDigit(position) { position += 1 }
        }
        if position < bytes.count && bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard isDigit(position) else {
                throw error(position < bytes.count ? "unexpected \(describeByte(at: position)) after the decimal point: expected a digit" : "unexpected end of input after the decimal point: expected a digit")
            }
            while isDigit(position) { position += 1 }
        }
        if position < bytes.count && (bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E")) {
            position += 1
            if position < bytes.count && (bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")) { position += 1 }
            guard isDigit(position) else {
                throw error(position < bytes.count ? "unexpected \(describeByte(at: position)) in an exponent: expected a digit" : "unexpected end of input in an exponent: expected a digit")
            }
            while isDigit(position) { position += 1 }
        }
        let lexeme = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        guard let value = Double(lexeme), value.isFinite else {
            throw error("number out of range: \(lexeme.count > 40 ? String(lexeme.prefix(40)) + "..." : lexeme) is beyond a 64-bit double's ±1.8e308", at: start)
        }
        return value
    }

    /// Four hex digits at `offset`, or nil.
    func hex4(at offset: Int) -> UInt32? {
        guard offset + 4 <= bytes.count else { return nil }
        var v: UInt32 = 0
        for i in offset..<offset + 4 {
            let b = bytes[i]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: return nil
            }
            v = v << 4 | UInt32(digit)
        }
        return v
    }

    /// A string from its opening quote (at `position`) through its closing quote.
    mutating func parseString() throws(JSONParseError) -> String {
        let open = position
        position += 1
        var out: [UInt8] = []
        var runStart = position
        while true {
            guard position < bytes.count else {
                throw error("unexpected end of input inside a string (it starts at offset \(open) and is never closed)")
            }
            let b = bytes[position]
            if b == UInt8(ascii: "\"") {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<position]))
                position += 1
                return String(decoding: out, as: UTF8.self)
            } else if b == UInt8(ascii: "\\") {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<position]))
                try parseEscape(into: &out)
                runStart = position
            } else if b < 0x20 {
                throw error("control character U+00\(String(b, radix: 16, uppercase: true).leftPadded(to: 2)) in a string must be escaped (e.g. \\n, \\t, \\u00XX)")
            } else if b < 0x80 {
                position += 1
            } else {
                try validateUTF8Sequence()
            }
        }
    }

    /// Checks one multi-byte UTF-8 sequence at `position` (RFC 3629: no overlong forms, no
    /// surrogates, nothing past U+10FFFF) and steps over it.
    mutating func validateUTF8Sequence() throws(JSONParseError) {
        let b0 = bytes[position]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch b0 {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default:
            throw error("invalid UTF-8: byte 0x\(String(b0, radix: 16, uppercase: true)) cannot start a character")
        }
        for i in 1..<length {
            let offset = position + i
            guard offset < bytes.count else { throw error("invalid UTF-8: the document ends inside a multi-byte character") }
            let b = bytes[offset]
            let (lo, hi) = i == 1 ? (low, high) : (UInt8(0x80), UInt8(0xBF))
            guard b >= lo && b <= hi else {
                throw error("invalid UTF-8: byte 0x\(String(b, radix: 16, uppercase: true).leftPadded(to: 2)) does not continue the character started by 0x\(String(b0, radix: 16, uppercase: true))")
            }
        }
        position += length
    }

    /// An escape sequence from its backslash (at `position`).
    mutating func parseEscape(into out: inout [UInt8]) throws(JSONParseError) {
        let backslash = position
        guard position + 1 < bytes.count else { throw error("unexpected end of input in an escape sequence") }
        let b = bytes[position + 1]
        position += 2
        switch b {
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "/"): out.append(0x2F)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            guard let unit = hex4(at: position) else {
                throw error("invalid \\u escape: expected four hex digits", at: backslash)
            }
            position += 4
            var scalarValue = unit
            if unit >= 0xD800 && unit <= 0xDBFF {
                guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u"),
                    let low = hex4(at: position + 2), low >= 0xDC00 && low <= 0xDFFF
                else {
                    throw error("lone surrogate \\u\(String(unit, radix: 16)): a high surrogate must be followed by a \\u low surrogate (I-JSON)", at: backslash)
                }
                position += 6
                scalarValue = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            } else if unit >= 0xDC00 && unit <= 0xDFFF {
                throw error("lone surrogate \\u\(String(unit, radix: 16)): a low surrogate without a high one before it (I-JSON)", at: backslash)
            }
            let scalar = Unicode.Scalar(scalarValue)!  // surrogates were excluded above
            out.append(contentsOf: UTF8.encode(scalar)!)
        default:
            throw error("invalid escape \\\(describeByte(at: backslash + 1).trimmingCharacters(in: ["'"])): JSON allows only \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX", at: backslash)
        }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
