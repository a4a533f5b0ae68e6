// DSSE envelopes and Ed25519 record keys (Envelope.swift, SigningKeys.swift).
//
// Fixtures/keys was made once with the OpenSSL 3.0 CLI:
//   openssl genpkey -algorithm ed25519 -out openssl-ed25519.key
//   openssl pkey -in openssl-ed25519.key -pubout -out openssl-ed25519.pub.pem
//   openssl-ed25519.pub.hex          the last 32 bytes of `openssl pkey -pubout -outform DER`
//   openssl-payload.json             a payload; openssl-payload.pae.bin its PAE (record payload type)
//   openssl pkeyutl -sign -rawin -inkey openssl-ed25519.key -in openssl-payload.pae.bin  -> .sig.b64 (base64)
//   openssl-signed.envelope.json     payload + OpenSSL's signature as a DSSE envelope
//   rsa-2048.key / .pub.pem          openssl genpkey -algorithm RSA (PKCS#8) / openssl pkey -pubout
//   ec-p256.key / .pub.pem           openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256
//   ec-p256.sec1.key                 openssl ec -in ec-p256.key ("EC PRIVATE KEY")
//   x25519.key                       openssl genpkey -algorithm x25519
//   openssl-ed25519.encrypted.key    openssl pkey -aes256 -passout pass:accelbench ("ENCRYPTED PRIVATE KEY")
// Ed25519 signatures from swift-crypto are randomized, so the tests verify signatures, never compare them.

import Crypto
import Foundation
import Testing

@testable import AccelBenchRecords

/// Paths and helpers for the signing tests.
enum SigningFixtures {
    static var keysDirectory: URL {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent("keys")
    }

    static func path(_ name: String) -> String { keysDirectory.appendingPathComponent(name).path }

    static func data(_ name: String) throws -> Data { try Data(contentsOf: keysDirectory.appendingPathComponent(name)) }

    static func text(_ name: String) throws -> String { String(decoding: try data(name), as: UTF8.self) }

    /// A fresh temporary directory (removed by the caller).
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("accelbench-signing-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let value = attributes[.posixPermissions]
        return ((value as? Int) ?? (value as? NSNumber)?.intValue ?? -1) & 0o7777
    }

    static func envelopeJSON(_ object: Any) throws -> Data {
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    static let opensslPath = "/usr/bin/openssl"
    static var hasOpenSSL: Bool { FileManager.default.isExecutableFile(atPath: opensslPath) }

    /// Runs the OpenSSL CLI; returns its exit status and output.
    static func openssl(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: opensslPath)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}

// MARK: - PAE

@Suite("Signing: DSSE pre-authentication encoding")
struct SigningPAETests {
    @Test("PAE matches the DSSE protocol's test vector")
    func specVector() {
        let pae = DSSE.pae(payloadType: "http://example.com/HelloWorld", payload: Data("hello world".utf8))
        #expect(pae == Data("DSSEv1 29 http://example.com/HelloWorld 11 hello world".utf8))
    }

    @Test("The spec's own ECDSA P-256 signature verifies over our PAE (its envelope decodes too)")
    func specSignature() throws {
        // protocol.md's test vector: P-256 public key X||Y, deterministic ECDSA, raw r||s signature.
        let envelope = try Envelope.decode(Data("""
            {"payload": "aGVsbG8gd29ybGQ=",
             "payloadType": "http://example.com/HelloWorld",
             "signatures": [{"sig": "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="}]}
            """.utf8))
        let xy = "67cd390f77aa359cb08c2235f652270493a9ed832b0abcc01f70954c0390d2380c782bd54e269125a44f4433aff1432ce94e12bca73aa67ac80cea12608ddf74"
        let raw = Data(stride(from: 0, to: xy.count, by: 2).map { i -> UInt8 in
            let start = xy.index(xy.startIndex, offsetBy: i)
            return UInt8(xy[start..<xy.index(start, offsetBy: 2)], radix: 16)!
        })
        let key = try P256.Signing.PublicKey(rawRepresentation: raw)
        let sig = try P256.Signing.ECDSASignature(rawRepresentation: try Base64.decode(envelope.signatures[0].sig, field: "sig"))
        let pae = DSSE.pae(payloadType: envelope.payloadType, payload: try envelope.payloadBytes())
        #expect(try envelope.payloadBytes() == Data("hello world".utf8))
        #expect(key.isValidSignature(sig, for: pae))
        #expect(!key.isValidSignature(sig, for: pae + Data([0x20])))
        // Not an Ed25519 signature: our verifier must not accept it with any Ed25519 key.
        let outcomes = try envelope.verify(with: [RecordSigningKey.generate().publicKey])
        #expect(outcomes.count == 1 && outcomes[0].verifiedBy == nil)
    }

    @Test("Lengths are byte counts in decimal without leading zeros; UTF-8 and empty parts")
    func lengths() {
        #expect(DSSE.pae(payloadType: "", payload: Data()) == Data("DSSEv1 0  0 ".utf8))
        #expect(DSSE.pae(payloadType: "é", payload: Data([0, 1])) == Data("DSSEv1 2 é 2 ".utf8) + Data([0, 1]))
        let big = Data(repeating: 0x41, count: 1000)
        #expect(DSSE.pae(payloadType: "t", payload: big) == Data("DSSEv1 1 t 1000 ".utf8) + big)
    }

    @Test("The PAE of the OpenSSL fixture is the file OpenSSL signed")
    func paeFixture() throws {
        let pae = DSSE.pae(payloadType: DSSE.recordPayloadType, payload: try SigningFixtures.data("openssl-payload.json"))
        #expect(pae == (try SigningFixtures.data("openssl-payload.pae.bin")))
    }
}

// MARK: - Sign and verify

@Suite("Signing: envelopes, sign and verify")
struct SigningEnvelopeTests {
    let key = RecordSigningKey.generate()
    let payload = Data(#"{"a":1,"b":"two"}"#.utf8)

    @Test("sign then verify; the keyid is the key's ID; encoded() round-trips through decode()")
    func signVerify() throws {
        let envelope = try Envelope.sign(payload: payload, payloadType: DSSE.recordPayloadType, with: key)
        #expect(envelope.payloadType == DSSE.recordPayloadType)
        #expect(try envelope.payloadBytes() == payload)
        #expect(envelope.signatures.count == 1)
        #expect(envelope.signatures[0].keyid == key.publicKey.keyID)
        let outcomes = try envelope.verify(with: [key.publicKey])
        #expect(outcomes == [SignatureOutcome(index: 0, keyidHint: key.publicKey.keyID, verifiedBy: key.publicKey.keyID, problem: nil)])
        #expect(outcomes[0].isVerified && outcomes[0].hintMatches == true)

        let bytes = try envelope.encoded()
        #expect(bytes.last == UInt8(ascii: "\n"))
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("\"payloadType\" : \"application/vnd.accelbench.capability-record.v1+json\""))
        let decoded = try Envelope.decode(bytes)
        #expect(decoded == envelope)
        #expect(try decoded.verify(with: [key.publicKey])[0].verifiedBy == key.publicKey.keyID)
    }

    @Test("Signing twice gives two signatures that both verify (randomized Ed25519; never compare bytes)")
    func twoSignatures() throws {
        let a = try Envelope.sign(payload: payload, payloadType: DSSE.recordPayloadType, with: key)
        let b = try Envelope.sign(payload: payload, payloadType: DSSE.recordPayloadType, with: key)
        #expect(try a.verify(with: [key.publicKey])[0].isVerified)
        #expect(try b.verify(with: [key.publicKey])[0].isVerified)
    }

    @Test("Flipping any bit of the payload makes verification fail")
    func payloadBitFlips() throws {
        let envelope = try Envelope.sign(payload: payload, payloadType: DSSE.recordPayloadType, with: key)
        var failures = 0
        for position in 0..<payload.count {
            for bit in 0..<8 {
                var tampered = payload
                tampered[position] ^= UInt8(1 << bit)
                var copy = envelope
                copy.payload = tampered.base64EncodedString()
                let outcome = try copy.verify(with: [key.publicKey])[0]
                if outcome.verifiedBy == nil, outcome.problem == "no given key verifies it (not even \(key.publicKey.keyID), the key its keyid names)" {
                    failures += 1
                }
            }
        }
        #expect(failures == payload.count * 8)
        // Appending or dropping a byte fails too.
        var longer = envelope
        longer.payload = (payload + Data([0x20])).base64EncodedString()
        #expect(try longer.verify(with: [key.publicKey])[0].verifiedBy == nil)
        var shorter = envelope
        shorter.payload = payload.dropLast().base64EncodedString()
        #expect(try shorter.verify(with: [key.publicKey])[0].verifiedBy == nil)
    }

    @Test("Flipping any bit of the payloadType makes verification fail")
    func payloadTypeBitFlips() throws {
        let type = DSSE.recordPayloadType
        let envelope = try Envelope.sign(payload: payload, payloadType: type, with: key)
        let bytes = Array(type.utf8)
        var failures = 0
        for position in 0..<bytes.count {
            for bit in 0..<8 {
                var tampered = bytes
                tampered[position] ^= UInt8(1 << bit)
                // A flipped high bit is not UTF-8 on its own; String(decoding:) makes it U+FFFD, still different.
                var copy = envelope
                copy.payloadType = String(decoding: tampered, as: UTF8.self)
                #expect(copy.payloadType != type)
                if try copy.verify(with: [key.publicKey])[0].verifiedBy == nil { failures += 1 }
            }
        }
        #expect(failures == bytes.count * 8)
    }

    @Test("Flipping any bit of the 64-byte signature makes verification fail")
    func signatureBitFlips() throws {
        let envelope = try Envelope.sign(payload: payload, payloadType: DSSE.recordPayloadType, with: key)
        let sig = try Base64.decode(envelope.signatures[0].sig, field: "sig")
        #expect(sig.count == 64)
        var failures = 0
        for position in 0..<64 {
            for bit in 0..<8 {
                var tampered = sig
                tampered[position] ^= UInt8(1 << bit)
                var copy = envelope
                copy.signatures[0].sig = tampered.base64EncodedString()
                if try copy.verify(with: [key.publicKey])[0].verifiedBy == nil { failures += 1 }
                #expect(!key.publicKey.isValidSignature(tampered, for: DSSE.pae(payloadType: envelope.payloadType, payload: payload)))
            }
        }
        #expect(failures == 64 * 8)
    }

    @Test("A wrong key verifies nothing; the problem says so")
    func wrongKey() throws {
        let envelope = try Envelope.sign(payload: payload, payloadType: DSSE.recordPayloadType, with: key)
        let other = RecordSigningKey.generate().publicKey
        let outcomes = try envelope.verify(with: [other])
        #expect(outcomes.count == 1)
        #expect(outcomes[0].verifiedBy == nil)
        #expect(outcomes[0].keyidHint == key.publicKey.keyID)
        #expect(outcomes[0].problem == "no given key verifies it")
        #expect(!outcomes[0].isVerified && outcomes[0].hintMatches == nil)
        let none = try envelope.verify(with: [])
        #expect(none[0].verifiedBy == nil && none[0].problem == "no keys were given to verify it with")
    }

    @Test("The keyid hint is unauthenticated: a wrong or missing hint does not stop the right key, and is reported as written")
    func keyidHint() throws {
        var envelope = try Envelope.sign(payload: payload, payloadType: DSSE.recordPayloadType, with: key)
        let other = RecordSigningKey.generate().publicKey
        // The hint names another (given) key: the signature still verifies by the real key, and the hint is reported.
        envelope.signatures[0].keyid = other.keyID
        var outcome = try envelope.verify(with: [other, key.publicKey])[0]
        #expect(outcome.verifiedBy == key.publicKey.keyID)
        #expect(outcome.keyidHint == other.keyID)
        #expect(outcome.hintMatches == false)
        #expect(outcome.problem == nil)
        // No hint at all.
        envelope.signatures[0].keyid = nil
        outcome = try envelope.verify(with: [other, key.publicKey])[0]
        #expect(outcome.verifiedBy == key.publicKey.keyID && outcome.keyidHint == nil && outcome.hintMatches == nil)
        // A hint naming the only given key does not make a bad signature count.
        var forged = try Envelope.sign(payload: payload, payloadType: DSSE.recordPayloadType, with: RecordSigningKey.generate())
        forged.signatures[0].keyid = key.publicKey.keyID
        outcome = try forged.verify(with: [key.publicKey])[0]
        #expect(outcome.verifiedBy == nil)
        #expect(outcome.keyidHint == key.publicKey.keyID)
        #expect(outcome.problem?.contains("no given key verifies it") == true)
    }

    @Test("Several signatures: one outcome each, in order; a short signature is named")
    func multipleSignatures() throws {
        let second = RecordSigningKey.generate()
        let a = try Envelope.sign(payload: payload, payloadType: DSSE.recordPayloadType, with: key)
        let b = try Envelope.sign(payload: payload, payloadType: DSSE.recordPayloadType, with: second)
        let short = Data(repeating: 7, count: 63).base64EncodedString()
        let envelope = Envelope(payload: a.payload, payloadType: a.payloadType,
                                signatures: a.signatures + b.signatures + [EnvelopeSignature(keyid: nil, sig: short)])
        let outcomes = try envelope.verify(with: [key.publicKey])
        #expect(outcomes.map(\.index) == [0, 1, 2])
        #expect(outcomes[0].verifiedBy == key.publicKey.keyID)
        #expect(outcomes[1].verifiedBy == nil && outcomes[1].problem == "no given key verifies it")
        #expect(outcomes[2].verifiedBy == nil && outcomes[2].problem == "signature is 63 bytes, Ed25519 signatures are 64")
        let both = try envelope.verify(with: [key.publicKey, second.publicKey])
        #expect(both[1].verifiedBy == second.publicKey.keyID)
    }

    @Test("URL-safe and unpadded base64 are accepted for payload and sig")
    func base64Variants() throws {
        // A payload whose standard base64 has '+' and '/' and padding.
        let bytes = Data([0xFB, 0xFF, 0xBF, 0xFE, 0x00])
        let envelope = try Envelope.sign(payload: bytes, payloadType: "application/x-test", with: key)
        func urlSafe(_ s: String, pad: Bool) -> String {
            var t = s.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            if !pad { t = t.replacingOccurrences(of: "=", with: "") }
            return t
        }
        #expect(envelope.payload.contains("+") || envelope.payload.contains("/"))
        for pad in [true, false] {
            let json = try SigningFixtures.envelopeJSON([
                "payload": urlSafe(envelope.payload, pad: pad),
                "payloadType": envelope.payloadType,
                "signatures": [["keyid": envelope.signatures[0].keyid!, "sig": urlSafe(envelope.signatures[0].sig, pad: pad)]],
            ])
            let decoded = try Envelope.decode(json)
            #expect(try decoded.payloadBytes() == bytes)
            #expect(try decoded.verify(with: [key.publicKey])[0].verifiedBy == key.publicKey.keyID)
        }
        // Standard alphabet without padding.
        let unpadded = envelope.payload.replacingOccurrences(of: "=", with: "")
        #expect(try Base64.decode(unpadded, field: "payload") == bytes)
    }

    @Test("An empty payload signs and verifies")
    func emptyPayload() throws {
        let envelope = try Envelope.sign(payload: Data(), payloadType: DSSE.recordPayloadType, with: key)
        #expect(envelope.payload == "")
        let decoded = try Envelope.decode(try envelope.encoded())
        #expect(try decoded.verify(with: [key.publicKey])[0].isVerified)
    }

    @Test("Signing refuses an empty payloadType")
    func emptyPayloadType() {
        #expect(throws: EnvelopeError.self) { try Envelope.sign(payload: payload, payloadType: "", with: key) }
    }
}

// MARK: - Decode rejections

@Suite("Signing: strict envelope decoding")
struct SigningDecodeTests {
    static var good: [String: Any] { [
        "payload": Data("{}".utf8).base64EncodedString(),
        "payloadType": DSSE.recordPayloadType,
        "signatures": [["keyid": "k", "sig": Data(repeating: 1, count: 64).base64EncodedString()]],
    ] }

    func code(_ data: Data) -> String? {
        do {
            _ = try Envelope.decode(data)
            return nil
        } catch let error as EnvelopeError {
            #expect(!error.message.isEmpty)
            return error.code
        } catch {
            Issue.record("not an EnvelopeError: \(error)")
            return "?"
        }
    }

    func code(_ object: Any) throws -> String? { code(try SigningFixtures.envelopeJSON(object)) }

    func with(_ change: (inout [String: Any]) -> Void) -> [String: Any] {
        var object = Self.good
        change(&object)
        return object
    }

    @Test("The baseline envelope decodes")
    func baseline() throws {
        #expect(try code(Self.good) == nil)
    }

    @Test("Not JSON, empty, truncated, or not an object: envelope.json")
    func notJSON() throws {
        #expect(code(Data("not json at all".utf8)) == "envelope.json")
        #expect(code(Data()) == "envelope.json")
        #expect(code(Data([0xFF, 0xFE, 0x00])) == "envelope.json")
        #expect(try code([Self.good]) == "envelope.json")
        #expect(code(Data("\"a string\"".utf8)) == "envelope.json")
        #expect(code(Data("42".utf8)) == "envelope.json")
        #expect(code(Data("null".utf8)) == "envelope.json")
        let full = try SigningFixtures.envelopeJSON(Self.good)
        for cut in [1, full.count / 3, full.count / 2, full.count - 1] {
            #expect(code(full.prefix(cut)) == "envelope.json", "truncated to \(cut) bytes")
        }
        do {
            _ = try Envelope.decode(full.prefix(full.count / 2))
        } catch let error as EnvelopeError {
            #expect(error.message.contains("truncated"))
        }
        // The truncated real fixture, too.
        let fixture = try SigningFixtures.data("openssl-signed.envelope.json")
        #expect(code(fixture.prefix(fixture.count - 10)) == "envelope.json")
    }

    @Test("Missing, unknown and mistyped fields: envelope.fields, naming the field")
    func fields() throws {
        for name in ["payload", "payloadType", "signatures"] {
            let object = with { $0[name] = nil }
            #expect(try code(object) == "envelope.fields", "missing \(name)")
            do {
                _ = try Envelope.decode(try SigningFixtures.envelopeJSON(object))
            } catch let error as EnvelopeError {
                #expect(error.message.contains("\"\(name)\""))
            }
        }
        do {
            _ = try Envelope.decode(try SigningFixtures.envelopeJSON(with { $0["signature"] = "x"; $0["extra"] = 1 }))
            Issue.record("unknown fields accepted")
        } catch let error as EnvelopeError {
            #expect(error.code == "envelope.fields")
            #expect(error.message.contains("\"extra\"") && error.message.contains("\"signature\""))
        }
        #expect(try code(with { $0["payload"] = 5 }) == "envelope.fields")
        #expect(try code(with { $0["payload"] = NSNull() }) == "envelope.fields")
        #expect(try code(with { $0["payloadType"] = true }) == "envelope.fields")
        #expect(try code(with { $0["payloadType"] = "" }) == "envelope.fields")
        #expect(try code(with { $0["signatures"] = "sig" }) == "envelope.fields")
        #expect(try code(with { $0["signatures"] = ["sig"] }) == "envelope.fields")
        #expect(try code(with { $0["signatures"] = [["keyid": "k"]] }) == "envelope.fields")
        #expect(try code(with { $0["signatures"] = [["sig": 12]] }) == "envelope.fields")
        #expect(try code(with { $0["signatures"] = [["sig": "AAAA", "keyid": 1]] }) == "envelope.fields")
        #expect(try code(with { $0["signatures"] = [["sig": "AAAA", "cert": "x"]] }) == "envelope.fields")
        do {
            _ = try Envelope.decode(try SigningFixtures.envelopeJSON(with { $0["payloadType"] = false }))
        } catch let error as EnvelopeError {
            #expect(error.message == "\"payloadType\" must be a string, found a boolean")
        }
    }

    @Test("Bad base64 in payload or sig: envelope.base64")
    func badBase64() throws {
        for bad in ["not base64!", "QQ=Q", "Q", "QQ===", "QUJD\nREVG", "ab+c_d==", "é"] {
            #expect(try code(with { $0["payload"] = bad }) == "envelope.base64", "payload \(bad)")
            #expect(try code(with { $0["signatures"] = [["sig": bad]] }) == "envelope.base64", "sig \(bad)")
        }
        #expect(try code(with { $0["signatures"] = [["sig": ""]] }) == "envelope.base64")
        // The empty payload is valid base64 of nothing.
        #expect(try code(with { $0["payload"] = "" }) == nil)
    }

    @Test("No signatures: envelope.signatures; limits: envelope.size")
    func signaturesAndSizes() throws {
        #expect(try code(with { $0["signatures"] = [Any]() }) == "envelope.signatures")
        let sig = ["sig": Data(repeating: 1, count: 64).base64EncodedString()]
        #expect(try code(with { $0["signatures"] = Array(repeating: sig, count: 16) }) == nil)
        #expect(try code(with { $0["signatures"] = Array(repeating: sig, count: 17) }) == "envelope.size")
        #expect(try code(with { $0["signatures"] = [["sig": Data(count: 2048).base64EncodedString()]] }) == "envelope.size")
        #expect(try code(with { $0["signatures"] = [["sig": "AAAA", "keyid": String(repeating: "k", count: 2000)]] }) == "envelope.size")
        let over = Data(count: Envelope.maxPayloadBytes + 1).base64EncodedString()
        #expect(try code(with { $0["payload"] = over }) == "envelope.size")
        let atLimit = Data(count: Envelope.maxPayloadBytes).base64EncodedString()
        #expect(try code(with { $0["payload"] = atLimit }) == nil)
        #expect(code(Data(repeating: 0x20, count: Envelope.maxEnvelopeBytes + 1)) == "envelope.size")
    }

    @Test("An odd-sized signature decodes, and verify reports its size")
    func oddSignatureSize() throws {
        let envelope = try Envelope.decode(try SigningFixtures.envelopeJSON(with {
            $0["signatures"] = [["sig": Data(repeating: 1, count: 63).base64EncodedString()]]
        }))
        let outcome = try envelope.verify(with: [RecordSigningKey.generate().publicKey])[0]
        #expect(outcome.problem == "signature is 63 bytes, Ed25519 signatures are 64")
    }

    @Test("verify throws envelope.base64 for an in-memory envelope with a bad payload")
    func verifyBadPayload() {
        let envelope = Envelope(payload: "%%%", payloadType: "t", signatures: [EnvelopeSignature(keyid: nil, sig: "AAAA")])
        #expect(throws: EnvelopeError(code: "envelope.base64", message: "\"payload\" is not valid base64: character '%' at offset 0 is not in the base64 alphabet")) {
            try envelope.verify(with: [])
        }
    }
}

// MARK: - Keys and OpenSSL

@Suite("Signing: keys, OpenSSL interoperability")
struct SigningKeyTests {
    @Test("OpenSSL's PEMs load; the derived public key is the fixture's, in hex and PEM")
    func opensslKeys() throws {
        let expectedHex = try SigningFixtures.text("openssl-ed25519.pub.hex").trimmingCharacters(in: .whitespacesAndNewlines)
        let signing = try RecordSigningKey(contentsOf: SigningFixtures.path("openssl-ed25519.key"))
        #expect(signing.publicKey.rawHex == expectedHex)
        let fromPub = try RecordVerifyingKey(contentsOf: SigningFixtures.path("openssl-ed25519.pub.pem"))
        #expect(fromPub.rawHex == expectedHex)
        #expect(fromPub == signing.publicKey)
        // A verifier can be pointed at the private key file (public key derived), or the hex file.
        #expect(try RecordVerifyingKey(contentsOf: SigningFixtures.path("openssl-ed25519.key")) == fromPub)
        #expect(try RecordVerifyingKey(contentsOf: SigningFixtures.path("openssl-ed25519.pub.hex")) == fromPub)
        // Our PEM output is byte-identical to OpenSSL's for the same key.
        #expect(fromPub.pemRepresentation == (try SigningFixtures.text("openssl-ed25519.pub.pem")))
        #expect(signing.pemRepresentation == (try SigningFixtures.text("openssl-ed25519.key")))
        // keyID = sha256 of the raw key.
        let raw = try #require(Data(hexString: expectedHex))
        #expect(fromPub.keyID == "sha256:" + SHA256.hash(data: raw).map { String(format: "%02x", $0) }.joined())
        #expect(fromPub.keyID == "sha256:105f0a493ecb8ea41ce955e2bb98d44cd6c0bf65d3ca3a8f97c7ac8c9825e00d")
    }

    @Test("OpenSSL's signature over the PAE verifies with our verifier (cross-implementation)")
    func opensslSignature() throws {
        let key = try RecordVerifyingKey(contentsOf: SigningFixtures.path("openssl-ed25519.pub.pem"))
        let sig = try #require(Data(base64Encoded: try SigningFixtures.text("openssl-payload.sig.b64").trimmingCharacters(in: .whitespacesAndNewlines)))
        let pae = try SigningFixtures.data("openssl-payload.pae.bin")
        #expect(key.isValidSignature(sig, for: pae))
        #expect(!key.isValidSignature(sig, for: pae.dropLast()))
        // And as a DSSE envelope: decode + verify, keyid hint matching.
        let envelope = try Envelope.decode(try SigningFixtures.data("openssl-signed.envelope.json"))
        #expect(try envelope.payloadBytes() == (try SigningFixtures.data("openssl-payload.json")))
        let outcomes = try envelope.verify(with: [RecordSigningKey.generate().publicKey, key])
        #expect(outcomes == [SignatureOutcome(index: 0, keyidHint: key.keyID, verifiedBy: key.keyID, problem: nil)])
        // Signing the same payload with OpenSSL's key from our side verifies with OpenSSL's public key.
        let ours = try Envelope.sign(payload: try envelope.payloadBytes(), payloadType: envelope.payloadType,
                                     with: try RecordSigningKey(contentsOf: SigningFixtures.path("openssl-ed25519.key")))
        #expect(try ours.verify(with: [key])[0].verifiedBy == key.keyID)
    }

    @Test("OpenSSL verifies a signature we made, with a key we wrote", .enabled(if: SigningFixtures.hasOpenSSL))
    func opensslVerifiesOurs() throws {
        let dir = try SigningFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let made = try KeyFiles.generate(into: dir.path, overwrite: false)
        let key = try RecordSigningKey(contentsOf: made.privateKeyPath)
        let payload = Data(#"{"record":"signed by accelbench"}"#.utf8)
        let envelope = try Envelope.sign(payload: payload, payloadType: DSSE.recordPayloadType, with: key)
        let paePath = dir.appendingPathComponent("pae.bin").path
        let sigPath = dir.appendingPathComponent("sig.bin").path
        let badPath = dir.appendingPathComponent("bad.bin").path
        let sig = try Base64.decode(envelope.signatures[0].sig, field: "sig")
        try DSSE.pae(payloadType: envelope.payloadType, payload: payload).write(to: URL(fileURLWithPath: paePath))
        try sig.write(to: URL(fileURLWithPath: sigPath))
        var bad = sig
        bad[10] ^= 1
        try bad.write(to: URL(fileURLWithPath: badPath))

        let good = try SigningFixtures.openssl(["pkeyutl", "-verify", "-rawin", "-pubin", "-inkey", made.publicKeyPath,
                                                "-in", paePath, "-sigfile", sigPath])
        #expect(good.status == 0, "openssl: \(good.output)")
        #expect(good.output.contains("Signature Verified Successfully"))
        // The check is real: a tampered signature fails under OpenSSL too.
        let rejected = try SigningFixtures.openssl(["pkeyutl", "-verify", "-rawin", "-pubin", "-inkey", made.publicKeyPath,
                                                    "-in", paePath, "-sigfile", badPath])
        #expect(rejected.status != 0)
        // OpenSSL reads our private key PEM and derives the same public key PEM we wrote.
        let derived = try SigningFixtures.openssl(["pkey", "-in", made.privateKeyPath, "-pubout"])
        #expect(derived.status == 0)
        #expect(derived.output == (try String(contentsOfFile: made.publicKeyPath, encoding: .utf8)))
    }

    @Test("Keys of other kinds are refused, saying what they are and what to do")
    func refusals() throws {
        func message(_ body: () throws -> Void) -> String {
            do {
                try body()
                return ""
            } catch let error as KeyError {
                return error.message
            } catch {
                return "not a KeyError: \(error)"
            }
        }
        let rsa = message { _ = try RecordSigningKey(contentsOf: SigningFixtures.path("rsa-2048.key")) }
        #expect(rsa.contains("RSA") && rsa.contains("Ed25519") && rsa.contains("rsa-2048.key"), "\(rsa)")
        let ec = message { _ = try RecordSigningKey(contentsOf: SigningFixtures.path("ec-p256.key")) }
        #expect(ec.contains("EC P-256") && ec.contains("Ed25519"), "\(ec)")
        let sec1 = message { _ = try RecordSigningKey(contentsOf: SigningFixtures.path("ec-p256.sec1.key")) }
        #expect(sec1.contains("EC P-256") && sec1.contains("EC PRIVATE KEY"), "\(sec1)")
        let x25519 = message { _ = try RecordSigningKey(contentsOf: SigningFixtures.path("x25519.key")) }
        #expect(x25519.contains("X25519"), "\(x25519)")
        let encrypted = message { _ = try RecordSigningKey(contentsOf: SigningFixtures.path("openssl-ed25519.encrypted.key")) }
        #expect(encrypted.contains("encrypted") && encrypted.contains("openssl pkey"), "\(encrypted)")
        let pub = message { _ = try RecordSigningKey(contentsOf: SigningFixtures.path("openssl-ed25519.pub.pem")) }
        #expect(pub.contains("public key") && pub.contains("private key"), "\(pub)")
        let hex = message { _ = try RecordSigningKey(contentsOf: SigningFixtures.path("openssl-ed25519.pub.hex")) }
        #expect(hex.contains("not a PEM key"), "\(hex)")
        let missing = message { _ = try RecordSigningKey(contentsOf: "/nonexistent/accelbench.key") }
        #expect(missing.contains("/nonexistent/accelbench.key") && missing.contains("no such key file"), "\(missing)")
        let directory = message { _ = try RecordSigningKey(contentsOf: SigningFixtures.keysDirectory.path) }
        #expect(directory.contains("is a directory"), "\(directory)")

        let rsaPub = message { _ = try RecordVerifyingKey(contentsOf: SigningFixtures.path("rsa-2048.pub.pem")) }
        #expect(rsaPub.contains("RSA") && rsaPub.contains("public key"), "\(rsaPub)")
        let ecPub = message { _ = try RecordVerifyingKey(contentsOf: SigningFixtures.path("ec-p256.pub.pem")) }
        #expect(ecPub.contains("EC P-256"), "\(ecPub)")
        let rsaForVerify = message { _ = try RecordVerifyingKey(contentsOf: SigningFixtures.path("rsa-2048.key")) }
        #expect(rsaForVerify.contains("RSA"), "\(rsaForVerify)")
        let garbage = message { _ = try RecordVerifyingKey(contentsOf: SigningFixtures.path("openssl-payload.json")) }
        #expect(garbage.contains("64 hex digits"), "\(garbage)")
    }

    @Test("Damaged PEMs are refused with a KeyError, not a crash")
    func damaged() throws {
        let pem = try SigningFixtures.text("openssl-ed25519.key")
        let lines = pem.split(separator: "\n")
        let cases = [
            "",
            "-----BEGIN PRIVATE KEY-----\n",
            lines.dropLast().joined(separator: "\n"),                                  // no END line
            "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n",           // not base64
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",           // not DER
            "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n",           // empty SEQUENCE
            "-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n",
        ]
        for text in cases {
            #expect(throws: KeyError.self, "\(text)") { _ = try RecordSigningKey(pem: text) }
            #expect(throws: KeyError.self, "\(text)") { _ = try RecordVerifyingKey(pem: text) }
        }
        // The DER truncated at every length.
        let der = try #require(Data(base64Encoded: String(lines[1])))
        for cut in 0..<der.count {
            let text = "-----BEGIN PRIVATE KEY-----\n\(der.prefix(cut).base64EncodedString())\n-----END PRIVATE KEY-----\n"
            #expect(throws: KeyError.self) { _ = try RecordSigningKey(pem: text) }
        }
        // CRLF line ends and surrounding text are fine.
        let crlf = "some comment\r\n" + pem.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(try RecordSigningKey(pem: crlf).publicKey == (try RecordSigningKey(pem: pem).publicKey))
    }

    @Test("PKCS#8 v2 (with the public key, RFC 5958) loads; a mismatched embedded public key is refused")
    func pkcs8v2() throws {
        let key = RecordSigningKey.generate()
        let seed = key.key.rawRepresentation
        func v2(_ publicKey: Data) -> String {
            // SEQUENCE { INTEGER 1, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING seed }, [1] BIT STRING pub }
            var body: [UInt8] = [0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20] + seed
            body += [0x81, 0x21, 0x00] + publicKey
            let der = Data([0x30, UInt8(body.count)] + body)
            return "-----BEGIN PRIVATE KEY-----\n\(der.base64EncodedString(options: .lineLength64Characters))\n-----END PRIVATE KEY-----\n"
        }
        #expect(try RecordSigningKey(pem: v2(key.key.publicKey.rawRepresentation)).publicKey == key.publicKey)
        #expect(throws: KeyError.self) { _ = try RecordSigningKey(pem: v2(RecordSigningKey.generate().key.publicKey.rawRepresentation)) }
    }

    @Test("Hex keys: 64 digits, either case, whitespace trimmed; anything else refused")
    func hexKeys() throws {
        let key = RecordSigningKey.generate().publicKey
        #expect(key.rawHex.count == 64 && key.rawHex == key.rawHex.lowercased())
        #expect(try RecordVerifyingKey(hex: key.rawHex) == key)
        #expect(try RecordVerifyingKey(hex: "  \n" + key.rawHex.uppercased() + "\n") == key)
        #expect(try RecordVerifyingKey(pem: key.pemRepresentation) == key)
        let hex = key.rawHex
        let bad: [String] = ["", String(hex.dropLast()), hex + "00", "zz" + String(hex.dropFirst(2)),
                             String(hex.prefix(32)) + " " + String(hex.dropFirst(32))]
        for text in bad {
            #expect(throws: KeyError.self, "\(text)") { _ = try RecordVerifyingKey(hex: text) }
        }
        #expect(key.keyID.hasPrefix("sha256:") && key.keyID.count == 7 + 64)
        #expect(Set([key, try RecordVerifyingKey(hex: key.rawHex)]).count == 1)
    }

    @Test("A generated key's PEM loads back and signs for the same public key")
    func pemRoundTrip() throws {
        let key = RecordSigningKey.generate()
        #expect(key.pemRepresentation.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        #expect(key.pemRepresentation.hasSuffix("-----END PRIVATE KEY-----\n"))
        let loaded = try RecordSigningKey(pem: key.pemRepresentation)
        #expect(loaded.publicKey == key.publicKey)
        let data = Data("x".utf8)
        #expect(key.publicKey.isValidSignature(try loaded.signature(for: data), for: data))
        #expect(!key.publicKey.isValidSignature(Data(count: 63), for: data))
    }
}

// MARK: - Key files

@Suite("Signing: key files on disk")
struct SigningKeyFilesTests {
    @Test("generate writes the three files with their modes; they load back, match, sign and verify")
    func generate() throws {
        let root = try SigningFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let dir = root.appendingPathComponent("keys").appendingPathComponent("nested").path
        let made = try KeyFiles.generate(into: dir, overwrite: false)
        #expect(made.privateKeyPath == dir + "/accelbench.key")
        #expect(made.publicKeyPath == dir + "/accelbench.pub.pem")
        #expect(made.publicKeyHexPath == dir + "/accelbench.pub.hex")
        #expect(try SigningFixtures.mode(dir) == 0o700)
        #expect(try SigningFixtures.mode(made.privateKeyPath) == 0o600)
        #expect(try SigningFixtures.mode(made.publicKeyPath) == 0o644)
        #expect(try SigningFixtures.mode(made.publicKeyHexPath) == 0o644)
        // Only the three files: no temporary files left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["accelbench.key", "accelbench.pub.hex", "accelbench.pub.pem"])

        let signing = try RecordSigningKey(contentsOf: made.privateKeyPath)
        #expect(signing.publicKey == made.key)
        #expect(try RecordVerifyingKey(contentsOf: made.publicKeyPath) == made.key)
        #expect(try RecordVerifyingKey(contentsOf: made.publicKeyHexPath) == made.key)
        #expect(try String(contentsOfFile: made.publicKeyHexPath, encoding: .utf8) == made.key.rawHex + "\n")

        let envelope = try Envelope.sign(payload: Data("payload".utf8), payloadType: DSSE.recordPayloadType, with: signing)
        let verifiers = [made.publicKeyPath, made.publicKeyHexPath, made.privateKeyPath].map { try! RecordVerifyingKey(contentsOf: $0) }
        for key in verifiers {
            #expect(try envelope.verify(with: [key])[0].verifiedBy == made.key.keyID)
        }
    }

    @Test("An existing key is never overwritten without overwrite:true; with it, a new key replaces it")
    func overwrite() throws {
        let dir = try SigningFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try KeyFiles.generate(into: dir.path, overwrite: false)
        let firstPEM = try String(contentsOfFile: first.privateKeyPath, encoding: .utf8)
        do {
            _ = try KeyFiles.generate(into: dir.path, overwrite: false)
            Issue.record("overwrote an existing key")
        } catch let error as KeyError {
            #expect(error.message.contains(first.privateKeyPath))
            #expect(error.message.contains("already exists"))
        }
        #expect(try String(contentsOfFile: first.privateKeyPath, encoding: .utf8) == firstPEM)
        #expect(try RecordVerifyingKey(contentsOf: first.publicKeyPath) == first.key)

        let second = try KeyFiles.generate(into: dir.path, overwrite: true)
        #expect(second.key != first.key)
        #expect(try RecordSigningKey(contentsOf: second.privateKeyPath).publicKey == second.key)
        #expect(try RecordVerifyingKey(contentsOf: second.publicKeyPath) == second.key)
        #expect(try RecordVerifyingKey(contentsOf: second.publicKeyHexPath) == second.key)
        #expect(try SigningFixtures.mode(second.privateKeyPath) == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).count == 3)
    }

    @Test("An existing directory keeps its mode; a file in the way is refused")
    func directoryHandling() throws {
        let dir = try SigningFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
        _ = try KeyFiles.generate(into: dir.path + "/", overwrite: false)
        #expect(try SigningFixtures.mode(dir.path) == 0o755)
        #expect(try SigningFixtures.mode(dir.path + "/accelbench.key") == 0o600)
        let file = dir.appendingPathComponent("accelbench.key").path
        #expect(throws: KeyError.self) { _ = try KeyFiles.generate(into: file, overwrite: true) }
        // A dangling symlink named accelbench.key counts as existing.
        let other = try SigningFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: other) }
        try FileManager.default.createSymbolicLink(atPath: other.appendingPathComponent("accelbench.key").path,
                                                   withDestinationPath: other.appendingPathComponent("elsewhere").path)
        #expect(throws: KeyError.self) { _ = try KeyFiles.generate(into: other.path, overwrite: false) }
        #expect(!FileManager.default.fileExists(atPath: other.appendingPathComponent("elsewhere").path))
    }
}

extension Data {
    /// Bytes from hex digits (test helper).
    fileprivate init?(hexString: String) {
        let utf8 = Array(hexString.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out = Data()
        for i in stride(from: 0, to: utf8.count, by: 2) {
            guard let b = UInt8(String(decoding: utf8[i..<(i + 2)], as: UTF8.self), radix: 16) else { return nil }
            out.append(b)
        }
        self = out
    }
}
