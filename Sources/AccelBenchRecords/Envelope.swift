// DSSE v1 envelopes (https://github.com/secure-systems-lab/dsse, protocol.md and envelope.md) carrying
// capability records, signed with Ed25519 (SigningKeys.swift).
//
// The signature covers PAE(payloadType, payload), never the envelope's JSON text: the JSON can be
// re-encoded (key order, whitespace, base64 alphabet) without invalidating anything.

import AccelBenchJSON
import Crypto
import Foundation

/// The DSSE v1 protocol pieces: the pre-authentication encoding and accelbench's payload type.
public enum DSSE {
    /// The payloadType of a signed capability record (a v1 record, JSON).
    public static let recordPayloadType = "application/vnd.accelbench.capability-record.v1+json"

    /// The DSSE v1 pre-authentication encoding, the exact bytes a signature covers:
    /// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, where LEN is the byte count in ASCII decimal
    /// (no leading zeros) and `type` is the UTF-8 of `payloadType`.
    public static func pae(payloadType: String, payload: Data) -> Data {
        let type = Data(payloadType.utf8)
        var out = Data()
        out.reserveCapacity(32 + type.count + payload.count)
        out.append(contentsOf: "DSSEv1 \(type.count) ".utf8)
        out.append(type)
        out.append(contentsOf: " \(payload.count) ".utf8)
        out.append(payload)
        return out
    }
}

/// One entry of an envelope's `signatures` array.
public struct EnvelopeSignature: Codable, Sendable, Equatable {
    /// An optional, unauthenticated hint naming the signing key (accelbench writes the key's
    /// ``RecordVerifyingKey/keyID``). Never trusted: a signature counts only if a given key verifies it.
    public var keyid: String?
    /// The signature, base64 (standard or URL-safe, as stored).
    public var sig: String

    public init(keyid: String?, sig: String) {
        self.keyid = keyid
        self.sig = sig
    }
}

/// A DSSE JSON envelope: `{"payload": base64, "payloadType": string, "signatures": [{"keyid", "sig"}]}`.
///
/// Read envelopes with ``decode(_:)`` (strict; the synthesized `Decodable` conformance is not), make them
/// with ``sign(payload:payloadType:with:)``, check them with ``verify(with:)``.
public struct Envelope: Codable, Sendable, Equatable {
    /// The payload, base64 as stored (standard or URL-safe, padded or not). ``payloadBytes()`` decodes it.
    public var payload: String
    /// How to interpret the payload; authenticated (part of what is signed).
    public var payloadType: String
    /// One or more signatures over `PAE(payloadType, payload bytes)`.
    public var signatures: [EnvelopeSignature]

    public init(payload: String, payloadType: String, signatures: [EnvelopeSignature]) {
        self.payload = payload
        self.payloadType = payloadType
        self.signatures = signatures
    }

    /// The largest payload accepted, decoded: 16 MiB.
    public static let maxPayloadBytes = 16 << 20
    /// The most signatures an envelope may carry.
    public static let maxSignatures = 16
    /// The longest `keyid` accepted, in bytes.
    public static let maxKeyIDBytes = 1024
    /// The largest decoded signature accepted (Ed25519 signatures are 64 bytes; larger ones are refused
    /// while decoding, smaller or odd sizes are reported per signature by ``verify(with:)``).
    public static let maxSignatureBytes = 1024
    /// The largest envelope file accepted: room for the largest payload in base64 plus the signatures.
    public static let maxEnvelopeBytes = (maxPayloadBytes + 2) / 3 * 4 + 256 * 1024

    /// Decodes envelope JSON strictly.
    ///
    /// The top level must be a JSON object with exactly `payload` (string), `payloadType` (non-empty
    /// string) and `signatures` (a non-empty array of objects with `sig` (string) and optionally `keyid`
    /// (string), nothing else). `payload` and every `sig` must be valid base64, standard or URL-safe,
    /// with or without padding. Limits: the payload at most ``maxPayloadBytes`` decoded, at most
    /// ``maxSignatures`` signatures, the file at most ``maxEnvelopeBytes``.
    ///
    /// - Throws: ``EnvelopeError`` with code `envelope.json` (empty, truncated or malformed JSON, or not a
    ///   JSON object), `envelope.fields` (missing, unknown or mistyped fields), `envelope.base64`,
    ///   `envelope.size` or `envelope.signatures` (no signatures).
    public static func decode(_ data: Data) throws -> Envelope {
        guard !data.isEmpty else {
            throw EnvelopeError.json("the envelope is empty (0 bytes); expected a DSSE JSON envelope object")
        }
        guard data.count <= maxEnvelopeBytes else {
            throw EnvelopeError(code: "envelope.size", message: "the envelope is \(data.count) bytes, over the "
                + "\(maxEnvelopeBytes)-byte limit (payloads are limited to \(maxPayloadBytes) bytes)")
        }
        // The strict parser: duplicate keys, lone surrogates and the like are refused with a line and column.
        let json: JSON
        do {
            json = try JSON.parse(data)
        } catch {
            let hint = looksTruncated(data) ? " (it looks truncated: the JSON ends before it is complete)" : ""
            throw EnvelopeError.json("the envelope is not valid JSON\(hint): \(error)")
        }
        return try decode(json: json)
    }

    /// Strict decode of an envelope already parsed (by the strict parser): the same checks as
    /// `decode(_:)` after parsing.
    public static func decode(json: JSON) throws -> Envelope {
        guard let top = json.objectValue else {
            throw EnvelopeError.json("the envelope's top level is \(kind(json)); a DSSE envelope is a JSON "
                + "object with \"payload\", \"payloadType\" and \"signatures\"")
        }
        try checkFields(top, allowed: ["payload", "payloadType", "signatures"],
                        required: ["payload", "payloadType", "signatures"], context: "the envelope")

        let payload = try string(top["payload"]!, field: "payload")
        let payloadType = try string(top["payloadType"]!, field: "payloadType")
        guard !payloadType.isEmpty else {
            throw EnvelopeError.fields("\"payloadType\" is empty; it must name the payload's type (for a "
                + "capability record, \"\(DSSE.recordPayloadType)\")")
        }
        guard let rawSignatures = top["signatures"]!.arrayValue else {
            throw EnvelopeError.fields("\"signatures\" must be an array, found \(kind(top["signatures"]!))")
        }
        guard !rawSignatures.isEmpty else {
            throw EnvelopeError(code: "envelope.signatures",
                                message: "the envelope has no signatures (\"signatures\" is an empty array); "
                                    + "an unsigned record cannot be verified. Sign it first.")
        }
        guard rawSignatures.count <= maxSignatures else {
            throw EnvelopeError(code: "envelope.size", message: "the envelope has \(rawSignatures.count) "
                + "signatures, more than the limit of \(maxSignatures)")
        }

        // Base64 and size of the payload: checked on the length first, then by decoding.
        guard Base64.maxDecodedCount(payload) <= maxPayloadBytes + 2 else {
            throw EnvelopeError(code: "envelope.size", message: "the payload is over the \(maxPayloadBytes)-byte "
                + "limit (\(payload.utf8.count) base64 characters)")
        }
        let payloadData = try Base64.decode(payload, field: "payload")
        guard payloadData.count <= maxPayloadBytes else {
            throw EnvelopeError(code: "envelope.size", message: "the payload is \(payloadData.count) bytes, over "
                + "the \(maxPayloadBytes)-byte limit")
        }

        var signatures: [EnvelopeSignature] = []
        for (i, raw) in rawSignatures.enumerated() {
            let context = "signatures[\(i)]"
            guard let entry = raw.objectValue else {
                throw EnvelopeError.fields("\(context) must be an object with \"sig\" (and optionally "
                    + "\"keyid\"), found \(kind(raw))")
            }
            try checkFields(entry, allowed: ["keyid", "sig"], required: ["sig"], context: context)
            let sig = try string(entry["sig"]!, field: "\(context).sig")
            guard Base64.maxDecodedCount(sig) <= maxSignatureBytes + 2 else {
                throw EnvelopeError(code: "envelope.size", message: "\(context).sig is \(sig.utf8.count) base64 "
                    + "characters, over the \(maxSignatureBytes)-byte signature limit (Ed25519 signatures are 64 bytes)")
            }
            let sigBytes = try Base64.decode(sig, field: "\(context).sig")
            guard !sigBytes.isEmpty else {
                throw EnvelopeError(code: "envelope.base64", message: "\(context).sig is empty; expected a base64 "
                    + "signature (Ed25519: 64 bytes)")
            }
            var keyid: String?
            if let rawKeyID = entry["keyid"] {
                let value = try string(rawKeyID, field: "\(context).keyid")
                guard value.utf8.count <= maxKeyIDBytes else {
                    throw EnvelopeError(code: "envelope.size", message: "\(context).keyid is \(value.utf8.count) "
                        + "bytes, over the \(maxKeyIDBytes)-byte limit")
                }
                keyid = value
            }
            signatures.append(EnvelopeSignature(keyid: keyid, sig: sig))
        }
        return Envelope(payload: payload, payloadType: payloadType, signatures: signatures)
    }

    /// The decoded payload bytes.
    ///
    /// - Throws: ``EnvelopeError`` `envelope.base64` when `payload` is not valid base64.
    public func payloadBytes() throws -> Data {
        try Base64.decode(payload, field: "payload")
    }

    /// The envelope as JSON for writing to disk: two-space indented, keys sorted, slashes unescaped, a
    /// trailing newline. A signature without a keyid omits the field.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(UInt8(ascii: "\n"))
        return data
    }

    /// Signs `payload` as `payloadType` with `key`: one signature over ``DSSE/pae(payloadType:payload:)``,
    /// keyid set to the key's ``RecordVerifyingKey/keyID``, payload and signature in standard padded base64.
    ///
    /// - Throws: ``EnvelopeError`` (`envelope.fields` for an empty payloadType, `envelope.size` for a payload
    ///   over ``maxPayloadBytes``), or ``KeyError`` when signing fails.
    public static func sign(payload: Data, payloadType: String, with key: RecordSigningKey) throws -> Envelope {
        guard !payloadType.isEmpty else {
            throw EnvelopeError.fields("cannot sign with an empty payloadType; use \(DSSE.recordPayloadType) for a "
                + "capability record")
        }
        guard payload.count <= maxPayloadBytes else {
            throw EnvelopeError(code: "envelope.size", message: "the payload is \(payload.count) bytes, over the "
                + "\(maxPayloadBytes)-byte limit")
        }
        let signature = try key.signature(for: DSSE.pae(payloadType: payloadType, payload: payload))
        return Envelope(
            payload: payload.base64EncodedString(),
            payloadType: payloadType,
            signatures: [EnvelopeSignature(keyid: key.publicKey.keyID, sig: signature.base64EncodedString())])
    }

    /// Checks every signature against every given key, and returns one outcome per signature, in order.
    ///
    /// A signature is verified when some key in `keys` verifies it over `PAE(payloadType, payload)`; the
    /// keyid hint only decides which key is tried first and never makes a signature count. The envelope is
    /// trustworthy for a caller when at least one outcome has a ``SignatureOutcome/verifiedBy`` key the caller
    /// trusts; this function does not decide that, nor whether the payloadType is one the caller accepts.
    ///
    /// - Throws: ``EnvelopeError`` `envelope.base64` when the payload is not valid base64 (nothing can be
    ///   verified then). Problems with single signatures are reported in their outcomes instead.
    public func verify(with keys: [RecordVerifyingKey]) throws -> [SignatureOutcome] {
        let pae = DSSE.pae(payloadType: payloadType, payload: try payloadBytes())
        var outcomes: [SignatureOutcome] = []
        for (index, entry) in signatures.enumerated() {
            var outcome = SignatureOutcome(index: index, keyidHint: entry.keyid, verifiedBy: nil, problem: nil)
            let sig: Data
            do {
                sig = try Base64.decode(entry.sig, field: "signatures[\(index)].sig")
            } catch let error as EnvelopeError {
                outcome.problem = error.message
                outcomes.append(outcome)
                continue
            }
            guard sig.count == 64 else {
                outcome.problem = "signature is \(sig.count) bytes, Ed25519 signatures are 64"
                outcomes.append(outcome)
                continue
            }
            guard !keys.isEmpty else {
                outcome.problem = "no keys were given to verify it with"
                outcomes.append(outcome)
                continue
            }
            // The hinted key first (a hint is a shortcut, not a filter: every key is tried).
            let ordered = keys.filter { $0.keyID == entry.keyid } + keys.filter { $0.keyID != entry.keyid }
            if let key = ordered.first(where: { $0.isValidSignature(sig, for: pae) }) {
                outcome.verifiedBy = key.keyID
            } else if let hint = entry.keyid, keys.contains(where: { $0.keyID == hint }) {
                outcome.problem = "no given key verifies it (not even \(hint), the key its keyid names)"
            } else {
                outcome.problem = "no given key verifies it"
            }
            outcomes.append(outcome)
        }
        return outcomes
    }

    // MARK: Decoding helpers

    static func checkFields(_ object: [String: JSON], allowed: Set<String>, required: [String], context: String) throws {
        let unknown = object.keys.filter { !allowed.contains($0) }.sorted()
        if !unknown.isEmpty {
            let names = unknown.map { "\"\($0)\"" }.joined(separator: ", ")
            throw EnvelopeError.fields("\(context) has unknown field\(unknown.count == 1 ? "" : "s") \(names); "
                + "allowed: \(allowed.sorted().map { "\"\($0)\"" }.joined(separator: ", "))")
        }
        let missing = required.filter { object[$0] == nil }
        if !missing.isEmpty {
            let names = missing.map { "\"\($0)\"" }.joined(separator: ", ")
            throw EnvelopeError.fields("\(context) is missing required field\(missing.count == 1 ? "" : "s") \(names)")
        }
    }

    static func string(_ value: JSON, field: String) throws -> String {
        guard let s = value.stringValue else {
            throw EnvelopeError.fields("\"\(field)\" must be a string, found \(kind(value))")
        }
        return s
    }

    /// What kind of JSON value it is, for error messages.
    static func kind(_ value: JSON) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// Whether the text stops mid-structure: more opening than closing brackets outside strings, or an
    /// unterminated string.
    static func looksTruncated(_ data: Data) -> Bool {
        var depth = 0
        var inString = false
        var escaped = false
        for b in data {
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch b {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            default: break
            }
        }
        return inString || depth > 0
    }
}

/// What ``Envelope/verify(with:)`` found for one signature.
public struct SignatureOutcome: Sendable, Equatable {
    /// The signature's position in the envelope's `signatures` array.
    public var index: Int
    /// The signature's keyid as written in the envelope: an unauthenticated hint, reported as it is (it may
    /// name a different key than ``verifiedBy``, or none).
    public var keyidHint: String?
    /// The ``RecordVerifyingKey/keyID`` of the given key that verified the signature; nil when none did.
    public var verifiedBy: String?
    /// Why the signature did not verify, e.g. "signature is 63 bytes, Ed25519 signatures are 64" or "no given
    /// key verifies it"; nil when it verified.
    public var problem: String?

    public init(index: Int, keyidHint: String?, verifiedBy: String?, problem: String?) {
        self.index = index
        self.keyidHint = keyidHint
        self.verifiedBy = verifiedBy
        self.problem = problem
    }

    /// Whether a given key verified this signature.
    public var isVerified: Bool { verifiedBy != nil }

    /// Whether the keyid hint names the key that verified the signature: nil when the signature did not
    /// verify or carries no hint, false when the hint names another key (worth a warning: the hint is wrong,
    /// though the signature is good).
    public var hintMatches: Bool? {
        guard let verifiedBy, let keyidHint else { return nil }
        return keyidHint == verifiedBy
    }
}

/// Why an envelope could not be decoded (or signed). `code` is stable and meant for programs and tests;
/// `message` says what is wrong for people.
public struct EnvelopeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One of `envelope.json` (empty, truncated or malformed JSON, or a top level that is not an object),
    /// `envelope.fields` (missing, unknown, empty or mistyped fields), `envelope.base64` (payload or sig
    /// not valid base64), `envelope.size` (over a size limit), `envelope.signatures` (no signatures).
    public var code: String
    /// What is wrong, and what to do where there is something to do.
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    static func json(_ message: String) -> EnvelopeError { EnvelopeError(code: "envelope.json", message: message) }
    static func fields(_ message: String) -> EnvelopeError { EnvelopeError(code: "envelope.fields", message: message) }
}

/// Base64 as DSSE allows it: the standard or the URL-safe alphabet (not mixed), padded or not.
enum Base64 {
    /// An upper bound of the decoded size of `text`, from its length alone.
    static func maxDecodedCount(_ text: String) -> Int { (text.utf8.count + 3) / 4 * 3 }

    static func decode(_ text: String, field: String) throws -> Data {
        func fail(_ why: String) -> EnvelopeError {
            EnvelopeError(code: "envelope.base64", message: "\"\(field)\" is not valid base64: \(why)")
        }
        let bytes = Array(text.utf8)
        var end = bytes.count
        var padding = 0
        while end > 0, bytes[end - 1] == UInt8(ascii: "=") {
            end -= 1
            padding += 1
        }
        if padding > 2 { throw fail("too much '=' padding (\(padding))") }
        if padding > 0, bytes.count % 4 != 0 {
            throw fail("padded base64 must be a multiple of 4 characters long, this is \(bytes.count)")
        }
        if end % 4 == 1 { throw fail("its length (\(end) characters before padding) cannot be base64") }
        var standard = false
        var urlSafe = false
        var out: [UInt8] = []
        out.reserveCapacity(end / 4 * 3 + 2)
        var acc: UInt32 = 0
        var bits = 0
        for i in 0..<end {
            let c = bytes[i]
            let v: UInt32
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = UInt32(c - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt32(c - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): v = 62; standard = true
            case UInt8(ascii: "/"): v = 63; standard = true
            case UInt8(ascii: "-"): v = 62; urlSafe = true
            case UInt8(ascii: "_"): v = 63; urlSafe = true
            case UInt8(ascii: "="): throw fail("'=' in the middle (offset \(i))")
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                throw fail("whitespace at offset \(i) (base64 in an envelope is one unbroken string)")
            default:
                throw fail("character \(c < 0x80 ? "'\(Character(Unicode.Scalar(c)))'" : "byte 0x\(String(c, radix: 16))") "
                    + "at offset \(i) is not in the base64 alphabet")
            }
            acc = acc << 6 | v
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
                acc &= (1 << UInt32(bits)) - 1
            }
        }
        if standard && urlSafe { throw fail("it mixes the standard (+ /) and URL-safe (- _) alphabets") }
        return Data(out)
    }
}
