import AccelBenchCore
import AccelBenchJSON
import Foundation
import Testing

@testable import AccelBenchRecords

@Suite("Record: model, schema, checker")
struct RecordTests {
    let key = RecordSigningKey.generate()

    func verifier(allowUnsigned: Bool = false, keys: [RecordVerifyingKey]? = nil) throws -> RecordVerifier {
        try RecordVerifier(keys: keys ?? [key.publicKey], now: RecordFixtures.now, allowUnsigned: allowUnsigned)
    }

    func envelopeData(_ record: CapabilityRecord) throws -> Data {
        try Envelope.sign(payload: try RecordCoding.payload(record), payloadType: DSSE.recordPayloadType, with: key).encoded()
    }

    @Test("a record built like the harness builds it conforms to the schema and passes every check")
    func wellFormedRecordIsValid() throws {
        let record = RecordFixtures.mixed()
        #expect(record.validity.status == "valid", "\(record.validity.checks.filter { !$0.passed })")
        let report = try verifier().verify(try envelopeData(record))
        #expect(report.valid, "\(report.steps) \(report.schemaErrors)")
        #expect(report.record == record)
        #expect(report.contentID == RecordCoding.contentID(payload: try RecordCoding.payload(record)))
        #expect(report.checks.contains { $0.id == "efficiency.recompute:e1" && $0.passed })
        #expect(report.checks.contains { $0.id == "power.window_covers_result:r1" && $0.passed })
    }

    @Test("the payload is canonical: encoding, parsing and encoding again gives the same bytes and id")
    func payloadIsCanonicalAndStable() throws {
        let record = RecordFixtures.mixed()
        let payload = try RecordCoding.payload(record)
        #expect(try JSON.parse(payload).canonicalData() == payload)
        let decoded = try RecordCoding.decode(try JSON.parse(payload))
        #expect(decoded == record)
        #expect(try RecordCoding.payload(decoded) == payload)
        #expect(String(decoding: payload, as: UTF8.self).hasPrefix("{\"ceilings\":[],\"efficiency\":"))
    }

    @Test("the normalized block points at the results it came from, and BF16 is never put in the FP16 figure")
    func normalizedFigures() throws {
        let record = RecordFixtures.mixed()
        let n = record.normalized
        #expect(n.rulesVersion == NormalizationRules.rulesVersion)
        #expect(n.generalComputeFp32Tflops.derivedFrom == "r1")
        #expect(abs(n.generalComputeFp32Tflops.value! - record.results[0].throughput!.median / 1000) < 1e-12)
        #expect(n.intelligentComputeBf16DenseTflops.derivedFrom == "r2")
        #expect(n.intelligentComputeFp16DenseTflops.value == nil)
        #expect(n.intelligentComputeFp16DenseTflops.absentReason != nil)
        #expect(n.memoryBandwidthGbPerS.derivedFrom == "r3")
        #expect(n.llmTokensPerS.map(\.test) == ["tg128:d128"])
        #expect(n.efficiency.map(\.figure).sorted() == ["general_compute_fp32_tflops", "memory_bandwidth_gb_per_s"])
    }

    @Test("a projected result cannot enter a record: the schema refuses its status")
    func projectedRefused() throws {
        var record = RecordFixtures.record()
        record.results[0].status = "projected"
        let report = try verifier(allowUnsigned: true).verify(try RecordCoding.payload(record))
        #expect(!report.valid)
        #expect(report.schemaErrors.contains { $0.instanceLocation == "/results/0/status" })
    }

    @Test("each semantic check catches its tamper", arguments: Tamper.allCases)
    func semanticCheck(tamper: Tamper) throws {
        var record = RecordFixtures.mixed()
        tamper.apply(&record)
        let checks = RecordChecks.evaluate(record, now: RecordFixtures.now)
        let check = try #require(checks.first { $0.id == tamper.checkID }, "no check \(tamper.checkID)")
        #expect(!check.passed, "\(tamper.checkID) passed after its tamper")
        // The signed file is then invalid, and says which check.
        let report = try verifier().verify(try envelopeData(record))
        #expect(!report.valid)
        #expect(report.checks.contains { $0.id == tamper.checkID && !$0.passed })
    }

    @Test("a noisy result makes the record partial: still valid, flagged, and left out of the normalized figures")
    func noisyResultIsFlagged() throws {
        var noisy = RecordFixtures.Case()
        noisy.samples = RecordFixtures.samples(median: 150, spread: 0.5, count: 12)
        var steady = RecordFixtures.Case()
        steady.threads = 1
        let record = RecordFixtures.record([noisy, steady])
        #expect(record.validity.status == "partial")
        #expect(record.validity.checks.filter { !$0.passed }.map(\.id) == ["noise.threshold:r1"])
        // The noisy result has the higher median, but the figure comes from the steady one.
        #expect(record.results[0].throughput!.median > record.results[1].throughput!.median)
        #expect(record.normalized.generalComputeFp32Tflops.derivedFrom == "r2")
        let report = try verifier().verify(try envelopeData(record))
        #expect(report.valid, "\(report.reason ?? "")")
        #expect(report.status == "partial")
        #expect(report.json()["status"] == .string("partial"))
        // Claiming "valid" for it is refused.
        var laxer = record
        laxer.validity.status = "valid"
        #expect(try verifier().verify(try envelopeData(laxer)).reason?.hasPrefix("validity.claim") == true)
    }

    @Test("a record whose own verdict contradicts its checks is invalid (validity.claim)")
    func claimChecked() throws {
        var record = RecordFixtures.record()
        record.validity.checks[0].passed = false
        let report = try verifier().verify(try envelopeData(record))
        #expect(!report.valid)
        #expect(report.reason?.hasPrefix("validity.claim") == true)
    }

    @Test("flipping any byte of the payload, the signature or the payload type makes verify fail with a named reason")
    func everyByteFlipIsCaught() throws {
        let record = RecordFixtures.record()
        let payload = try RecordCoding.payload(record)
        let envelope = try Envelope.sign(payload: payload, payloadType: DSSE.recordPayloadType, with: key)
        let v = try verifier()
        #expect(v.verify(try envelope.encoded()).valid)

        for i in 0..<payload.count {
            var bytes = payload
            bytes[i] ^= 0x01
            var e = envelope
            e.payload = bytes.base64EncodedString()
            let report = v.verify(try e.encoded())
            #expect(!report.valid)
            #expect(report.steps.first { $0.id == "signature" }?.passed == false, "payload byte \(i)")
        }
        let sig = try #require(Data(base64Encoded: envelope.signatures[0].sig))
        for i in 0..<sig.count {
            var bytes = sig
            bytes[i] ^= 0x80
            var e = envelope
            e.signatures[0].sig = bytes.base64EncodedString()
            let report = v.verify(try e.encoded())
            #expect(report.reason?.hasPrefix("signature") == true, "signature byte \(i): \(report.reason ?? "valid")")
        }
        let type = Array(envelope.payloadType.utf8)
        for i in 0..<type.count {
            var bytes = type
            bytes[i] ^= 0x01
            var e = envelope
            e.payloadType = String(decoding: bytes, as: UTF8.self)
            let report = v.verify(try e.encoded())
            #expect(!report.valid)
            #expect(report.reason?.hasPrefix("envelope.payload_type") == true, "payload type byte \(i): \(report.reason ?? "valid")")
            #expect(report.steps.first { $0.id == "signature" }?.passed == false)
        }
    }

    @Test("a payload that is valid JSON but not canonical is refused even when correctly signed")
    func nonCanonicalRefused() throws {
        let record = RecordFixtures.record()
        let pretty = try JSONSerialization.data(
            withJSONObject: try JSONSerialization.jsonObject(with: try RecordCoding.payload(record)), options: [.prettyPrinted])
        let e = try Envelope.sign(payload: pretty, payloadType: DSSE.recordPayloadType, with: key)
        let report = try verifier().verify(try e.encoded())
        #expect(!report.valid)
        #expect(report.steps.first { $0.id == "payload.canonical" }?.passed == false)
        #expect(report.steps.first { $0.id == "signature" }?.passed == true)
    }

    @Test("without a key, or with the wrong key, the signature step fails and says why")
    func keysRequired() throws {
        let data = try envelopeData(RecordFixtures.record())
        let none = try verifier(keys: []).verify(data)
        #expect(!none.valid)
        #expect(none.steps.first { $0.id == "signature" }?.message.contains("--key") == true)
        let wrong = try verifier(keys: [RecordSigningKey.generate().publicKey]).verify(data)
        #expect(wrong.reason?.hasPrefix("signature") == true)
        let bare = try verifier().verify(try RecordCoding.payload(RecordFixtures.record()))
        #expect(!bare.valid)
        #expect(try verifier(allowUnsigned: true).verify(try RecordCoding.payload(RecordFixtures.record())).valid)
    }

    @Test("the checker answers hostile input without crashing: empty, huge, deep, wrong types")
    func hostileInputs() throws {
        let v = try verifier(allowUnsigned: true)
        let inputs: [Data] = [
            Data(), Data("null".utf8), Data("[]".utf8), Data("{}".utf8), Data(String(repeating: "[", count: 100_000).utf8),
            Data("{\"payload\": 5, \"payloadType\": [], \"signatures\": {}}".utf8),
            Data("{\"payload\": \"!!!\", \"payloadType\": \"x\", \"signatures\": [{\"sig\": \"AA==\"}]}".utf8),
            Data([0xFF, 0xFE, 0x00, 0x7B]), Data(repeating: 0x20, count: RecordVerifier.maximumFileBytes + 1),
            Data("{\"schema\": \"\(CapabilityRecord.schemaID)\", \"results\": \"no\"}".utf8),
        ]
        for input in inputs {
            let report = v.verify(input)
            #expect(!report.valid)
            #expect(report.reason != nil)
        }
    }

    @Test("fuzz: 10,000 mutated records each get an answer from the checker, never a crash")
    func fuzzMutatedRecords() throws {
        let v = try verifier(allowUnsigned: true)
        let payload = try RecordCoding.payload(RecordFixtures.record())
        let json = try JSON.parse(payload)
        var rng = SeededGenerator(seed: 0xF022)
        var answered = 0
        var validCount = 0
        for round in 0..<10_000 {
            let data: Data
            if round % 2 == 0 {
                // Byte-level: flip, insert, delete, truncate.
                var bytes = [UInt8](payload)
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    guard !bytes.isEmpty else { break }
                    let i = Int.random(in: 0..<bytes.count, using: &rng)
                    switch Int.random(in: 0..<4, using: &rng) {
                    case 0: bytes[i] = UInt8.random(in: 0...255, using: &rng)
                    case 1: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: i)
                    case 2: bytes.remove(at: i)
                    default: bytes.removeSubrange(i...)
                    }
                }
                data = Data(bytes)
            } else {
                // Structural: replace one value somewhere with another JSON value.
                data = try RecordTests.mutate(json, using: &rng).canonicalData()
            }
            let report = v.verify(data)
            #expect(!report.steps.isEmpty)
            answered += 1
            if report.valid { validCount += 1 }
        }
        #expect(answered == 10_000)
        // Some structural mutations are harmless (e.g. a note's text): not all are invalid, but most are.
        #expect(validCount < 5_000)
    }

    static func mutate(_ value: JSON, using rng: inout SeededGenerator) -> JSON {
        let replacements: [JSON] = [
            .null, .bool(true), .number(-1), .number(0), .number(1e300), .string(""), .string("x"), .array([]), .object([:]),
            .number(Double.greatestFiniteMagnitude), .string(String(repeating: "a", count: 300)),
        ]
        func walk(_ v: JSON, depth: Int) -> JSON {
            let stop = Int.random(in: 0..<4, using: &rng) == 0 || depth > 8
            switch v {
            case var .object(o) where !o.isEmpty && !stop:
                let keys = o.keys.sorted()
                let k = keys[Int.random(in: 0..<keys.count, using: &rng)]
                if Int.random(in: 0..<6, using: &rng) == 0 {
                    o.removeValue(forKey: k)
                } else {
                    o[k] = walk(o[k]!, depth: depth + 1)
                }
                return .object(o)
            case var .array(a) where !a.isEmpty && !stop:
                let i = Int.random(in: 0..<a.count, using: &rng)
                a[i] = walk(a[i], depth: depth + 1)
                return .array(a)
            default:
                return replacements[Int.random(in: 0..<replacements.count, using: &rng)]
            }
        }
        return walk(value, depth: 0)
    }

    @Test("the report's JSON form carries the steps, schema errors in basic output shape, and the checks")
    func reportJSON() throws {
        var record = RecordFixtures.record()
        record.results[0].dtype = "fp24"
        let report = try verifier(allowUnsigned: true).verify(try RecordCoding.payload(record))
        let json = report.json()
        #expect(json["valid"] == .bool(false))
        let errors = try #require(json["schema"]?["errors"]?.arrayValue)
        #expect(errors.contains { $0["instanceLocation"] == .string("/results/0/dtype") })
        #expect(errors.allSatisfy { $0["keywordLocation"]?.stringValue != nil && $0["error"]?.stringValue != nil })
        #expect(json["steps"]?.arrayValue?.isEmpty == false)
    }

    @Test("a UUIDv7 run id sorts by time and has the version and variant bits")
    func uuidV7() {
        let a = RecordCoding.uuidV7(date: Date(timeIntervalSince1970: 1_700_000_000))
        let b = RecordCoding.uuidV7(date: Date(timeIntervalSince1970: 1_700_000_001))
        #expect(a < b)
        #expect(a.range(of: "^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", options: .regularExpression) != nil)
    }
}

/// Replaces the first result's samples, keeping its digest and statistics consistent.
func setFirstSamples(_ r: inout CapabilityRecord, _ samples: [Double]) {
    r.results[0].samples = samples
    r.results[0].samplesDigest = try! RecordCoding.digest(canonical: samples)
    let s = Summary(samples)
    r.results[0].throughput = CapabilityRecord.Stats(
        n: s.n, median: s.median, mean: s.mean, min: s.min, max: s.max, p5: s.p5, p25: s.p25, p75: s.p75, p95: s.p95, stddev: s.stddev,
        cv: s.cv, robustCv: s.robustCV)
}


/// A semantic tamper of the mixed fixture and the check id that must catch it.
enum Tamper: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case efficiencyValue, efficiencyWork, nominalPeak, timeOrder, timeFuture, windowShort, correctness, noise, duration, samples, stats
    case normalized, danglingRef, duplicateID, throttle

    var testDescription: String { rawValue }

    var checkID: String {
        switch self {
        case .efficiencyValue, .efficiencyWork: "efficiency.recompute:e1"
        case .nominalPeak: "plausibility.nominal_peak:r1"
        case .timeOrder: "time.ordered"
        case .timeFuture: "time.not_future"
        case .windowShort: "power.window_covers_result:r1"
        case .correctness: "correctness.passed:r1"
        case .noise: "noise.threshold:r1"
        case .duration: "duration.minimum:r1"
        case .samples: "samples.digest:r1"
        case .stats: "stats.recompute:r1"
        case .normalized: "normalized.rederive"
        case .danglingRef: "refs.resolve"
        case .duplicateID: "ids.unique"
        case .throttle: "throttle.none:r1"
        }
    }

    func apply(_ r: inout CapabilityRecord) {
        switch self {
        case .efficiencyValue: r.efficiency[0].value *= 1.5
        case .efficiencyWork:
            r.efficiency[0].windowWork *= 2
            r.efficiency[0].value *= 2
        case .nominalPeak: r.results[0].peak = CapabilityRecord.Peak(value: 90, kind: "nominal_profile", label: "profile x", profile: "x")
        case .timeOrder: r.provenance.finishedAt = "2026-09-21T09:00:00Z"
        case .timeFuture: r.provenance.finishedAt = "2027-01-01T00:00:00Z"
        case .windowShort: r.power.windows[0].durationS = 0.0001
        case .correctness: r.results[0].correctness!.value = 1
        case .noise: setFirstSamples(&r, RecordFixtures.samples(median: 100, spread: 0.5, count: 10))
        case .duration: r.results[0].timedSeconds = 0.01
        case .samples: r.results[0].samples[0] += 1
        case .stats: r.results[0].throughput!.median *= 2
        case .normalized: r.normalized.generalComputeFp32Tflops.value! *= 2
        case .danglingRef: r.efficiency[0].result = "r99"
        case .duplicateID: r.results[1].id = "r1"
        case .throttle:
            r.power.windows[0].telemetry = [
                CapabilityRecord.Telemetry(channel: "nvml:gpu0", atS: 0.5, values: [.init(name: "throttle_reasons", value: "sw_thermal")])
            ]
        }
    }
}
