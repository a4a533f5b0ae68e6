import AccelBenchCore
import AccelBenchJSON
import AccelBenchRecords
import Foundation
import Testing

@testable import AccelBenchCLI

/// Records from the command line: keygen, run --sign, record, sign, verify, compare, certify, and the
/// golden files of a record and an envelope.
@Suite(.serialized) struct RecordCommandTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    /// Set ACCELBENCH_UPDATE_GOLDEN=1 to rewrite the golden files from the current code.
    static let updateGolden = ProcessInfo.processInfo.environment["ACCELBENCH_UPDATE_GOLDEN"] == "1"

    static func temp(_ name: String) -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("accelbench-records-\(UInt32.random(in: 0...UInt32.max))")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name)
    }

    /// The committed run document (a real run: reference and openblas matmul, estimated power).
    static func runDocument() throws -> RunDocument {
        try RunDocument.decoded(from: Data(contentsOf: golden.appendingPathComponent("run.json")))
    }

    static let fixedNow = Date(timeIntervalSince1970: 1_800_000_000)

    static func record(from document: RunDocument) throws -> CapabilityRecord {
        try RecordBuilder.build(
            from: document, subject: RecordSubjectInput(operatorName: "Example DC", nodeSalt: "salt", machineIdentity: "test-machine"),
            isaExtensions: ["avx2", "avx512f"], runID: "01890a5d-ac96-774b-bcce-b302099a8057", now: fixedNow
        ).record
    }

    /// Volatile fields replaced by a marker: what the golden file does not pin.
    static func masked(_ value: JSON, paths: [[String]]) -> JSON {
        func mask(_ v: JSON, _ path: ArraySlice<String>) -> JSON {
            guard let key = path.first else { return .string("<masked>") }
            switch v {
            case var .object(o):
                if key == "*" { return .object(o.mapValues { mask($0, path.dropFirst()) }) }
                if let inner = o[key] { o[key] = mask(inner, path.dropFirst()) }
                return .object(o)
            case let .array(a) where key == "*":
                return .array(a.map { mask($0, path.dropFirst()) })
            default:
                return v
            }
        }
        return paths.reduce(value) { mask($0, $1[...]) }
    }

    static func checkGolden(_ value: JSON, file: String) throws {
        let url = golden.appendingPathComponent(file)
        let text = try value.prettyData()
        if updateGolden {
            try text.write(to: url, options: .atomic)
            return
        }
        let expected = try Data(contentsOf: url)
        #expect(text == expected, "\(file) differs from the golden file; if the change is intended, rerun with ACCELBENCH_UPDATE_GOLDEN=1")
    }

    @Test("golden record: the record built from the committed run file, with volatile fields masked")
    func goldenRecord() throws {
        let record = try RecordCommandTests.record(from: try RecordCommandTests.runDocument())
        #expect(record.validity.status == "valid", "\(record.validity.checks.filter { !$0.passed })")
        let json = try RecordCoding.canonicalJSON(record)
        // The harness's version and the build configuration change with the checkout; the rest is fixed by the run file.
        let value = RecordCommandTests.masked(json, paths: [["provenance", "harness", "version"], ["provenance", "harness", "build_configuration"]])
        try RecordCommandTests.checkGolden(value, file: "record.golden.json")
    }

    @Test("golden envelope: DSSE shape with the payload type and key id; the payload and the randomized signature masked")
    func goldenEnvelope() throws {
        let record = try RecordCommandTests.record(from: try RecordCommandTests.runDocument())
        let key = try RecordSigningKey(pem: String(contentsOf: RecordCommandTests.golden.appendingPathComponent("test-signing.key"), encoding: .utf8))
        let envelope = try Envelope.sign(payload: try RecordCoding.payload(record), payloadType: DSSE.recordPayloadType, with: key)
        // Ed25519 here is randomized: verify, never compare the signature bytes.
        #expect(try envelope.verify(with: [key.publicKey]).first?.verifiedBy == key.publicKey.keyID)
        let value = RecordCommandTests.masked(try JSON.parse(try envelope.encoded()), paths: [["payload"], ["signatures", "*", "sig"]])
        try RecordCommandTests.checkGolden(value, file: "envelope.golden.json")
    }

    @Test("keygen, run --sign, verify: the record from this machine verifies; a flipped byte or another key does not")
    func signAndVerifyEndToEnd() throws {
        let dir = RecordCommandTests.temp("keys").path
        #expect(AccelBench.main(arguments: ["keygen", "--out", dir]) == 0)
        #expect(AccelBench.main(arguments: ["keygen", "--out", dir]) == ExitStatus.usageError.rawValue, "an existing key is never overwritten")
        let recordPath = RecordCommandTests.temp("run.record.json").path
        let status = AccelBench.main(arguments: [
            "run", "--no-ceilings", "--backend", "reference", "--shape", "16x24x8", "--threads", "1", "--quiet", "--format", "csv",
            "--sign", dir + "/accelbench.key", "--operator", "Example DC", "--output", recordPath,
        ])
        #expect(status == 0)
        // A result flagged by a noisy moment of this shared machine makes the record partial, still valid.
        let report = try RecordVerifier(keys: [try RecordVerifyingKey(contentsOf: dir + "/accelbench.pub.pem")]).verify(file: recordPath)
        #expect(report.valid, "\(report.reason ?? "")")
        #expect(AccelBench.main(arguments: ["verify", recordPath, "--key", dir + "/accelbench.pub.pem"]) == 0)
        #expect(AccelBench.main(arguments: ["verify", recordPath, "--key", dir + "/accelbench.pub.hex", "--format", "json"]) == 0)
        #expect(AccelBench.main(arguments: ["verify", recordPath]) == 1, "no key: the signature is not verified")
        let other = RecordCommandTests.temp("other").path
        #expect(AccelBench.main(arguments: ["keygen", "--out", other]) == 0)
        #expect(AccelBench.main(arguments: ["verify", recordPath, "--key", other + "/accelbench.pub.pem"]) == 1)

        // A flipped byte in the envelope's signature.
        var envelope = try Envelope.decode(Data(contentsOf: URL(fileURLWithPath: recordPath)))
        var sig = Data(base64Encoded: envelope.signatures[0].sig)!
        sig[10] ^= 1
        envelope.signatures[0].sig = sig.base64EncodedString()
        let tampered = RecordCommandTests.temp("tampered.json").path
        try envelope.encoded().write(to: URL(fileURLWithPath: tampered))
        #expect(AccelBench.main(arguments: ["verify", tampered, "--key", dir + "/accelbench.pub.pem"]) == 1)

        // Usage errors: a missing key file, no file at all.
        #expect(AccelBench.main(arguments: ["verify", recordPath, "--key", "/nonexistent.pem"]) == ExitStatus.usageError.rawValue)
        #expect(AccelBench.main(arguments: ["verify"]) == ExitStatus.usageError.rawValue)
        #expect(AccelBench.main(arguments: ["run", "--sign", "/nonexistent.key", "--no-ceilings"]) == ExitStatus.usageError.rawValue)
    }

    @Test("record + sign: a run file becomes a record, signing refuses envelopes and non-records, openssl keys work")
    func recordThenSign() throws {
        let recordPath = RecordCommandTests.temp("r.record.json").path
        let run = RecordCommandTests.golden.appendingPathComponent("run.json").path
        #expect(AccelBench.main(arguments: ["record", run, "--out", recordPath]) == 0)
        #expect(CanonicalJSON.isCanonical(try Data(contentsOf: URL(fileURLWithPath: recordPath))))
        #expect(AccelBench.main(arguments: ["verify", recordPath, "--allow-unsigned"]) == 0)
        let key = RecordCommandTests.golden.appendingPathComponent("test-signing.key").path
        let signed = RecordCommandTests.temp("r.signed.json").path
        #expect(AccelBench.main(arguments: ["sign", recordPath, "--key", key, "--out", signed]) == 0)
        #expect(AccelBench.main(arguments: ["verify", signed, "--key", key]) == 0)
        #expect(AccelBench.main(arguments: ["sign", signed, "--key", key]) == ExitStatus.usageError.rawValue, "already an envelope")
        #expect(AccelBench.main(arguments: ["sign", run, "--key", key]) == ExitStatus.usageError.rawValue, "a run file is not a record")
        #expect(AccelBench.main(arguments: ["sign", recordPath, "--key", run]) == ExitStatus.usageError.rawValue, "not a key")
    }

    /// Two records of the same run, the second with every sample's throughput scaled.
    func comparePair(scale: Double, dropSamples: Bool = false) throws -> (String, String) {
        let document = try RecordCommandTests.runDocument()
        var changed = document
        for i in changed.results.indices {
            guard var m = changed.results[i].measurement else { continue }
            m.secondsPerCall = m.secondsPerCall.enumerated().map { j, s in s / (scale * (1 + 0.001 * Double(j % 3))) }
            if dropSamples { m.secondsPerCall = Array(m.secondsPerCall.prefix(5)) }
            changed.results[i].measurement = m
            changed.results[i].throughput = Summary(m.secondsPerCall.map { changed.results[i].unit.value(work: changed.results[i].work, seconds: $0) })
            changed.results[i].energy = nil
        }
        let base = RecordCommandTests.temp("base.json").path
        let new = RecordCommandTests.temp("new.json").path
        try RecordFiles.write(try RecordCommandTests.record(from: document), to: base, signingKey: nil)
        try RecordFiles.write(try RecordCommandTests.record(from: changed), to: new, signingKey: nil)
        return (base, new)
    }

    @Test("compare: a 20% slowdown is a regression (exit 3); the same run is not; too few samples give no verdict")
    func compareClassifies() throws {
        let (base, slower) = try comparePair(scale: 0.8)
        #expect(AccelBench.main(arguments: ["compare", base, slower]) == ExitStatus.caseFailed.rawValue)
        #expect(AccelBench.main(arguments: ["compare", base, slower, "--format", "markdown"]) == ExitStatus.caseFailed.rawValue)
        let (_, faster) = try comparePair(scale: 1.25)
        #expect(AccelBench.main(arguments: ["compare", base, faster, "--format", "json"]) == 0)
        #expect(AccelBench.main(arguments: ["compare", base, base]) == 0)
        let (_, few) = try comparePair(scale: 0.5, dropSamples: true)
        #expect(AccelBench.main(arguments: ["compare", base, few]) == 0, "fewer than 9 samples: no verdict, no regression")

        let a = try RecordFiles.readRecord(base, keys: [])
        let b = try RecordFiles.readRecord(slower, keys: [])
        let rows = RecordComparison().compare(base: a, new: b)
        #expect(rows.filter { $0.verdict == .slower }.count == 2)
        #expect(rows.contains { $0.verdict == .notMeasured })
        let c = try RecordFiles.readRecord(few, keys: [])
        #expect(RecordComparison().compare(base: a, new: c).filter { $0.verdict == .tooFewSamples }.count == 2)
        #expect(AccelBench.main(arguments: ["compare", base]) == ExitStatus.usageError.rawValue)
        #expect(AccelBench.main(arguments: ["compare", base, "/nonexistent.json"]) == ExitStatus.usageError.rawValue)
    }

    @Test("certify: pass (exit 0) and fail (exit 4) against thresholds, with the checks in the record; bad thresholds exit 2")
    func certify() throws {
        let lenient = RecordCommandTests.temp("lenient.json")
        try Data(#"{"version": 1, "skus": {"cpu-host": {"min_peak_fraction": {"fp32": 0.000001}, "max_noise": 1}}}"#.utf8).write(to: lenient)
        let strict = RecordCommandTests.temp("strict.json")
        try Data(#"{"version": 1, "skus": {"default": {"min_peak_fraction": {"fp32": 1.05, "bf16": 0.5}, "min_power_level": 3}}}"#.utf8).write(to: strict)
        let out = RecordCommandTests.temp("certify.record.json").path
        let selection = ["--workload", "matmul", "--backend", "openblas", "--dtype", "fp32", "--shape", "64x64x64", "--threads", "1", "--quiet", "--output", out]
        #expect(AccelBench.main(arguments: ["certify", "--profile", "cpu-host", "--thresholds", lenient.path] + selection) == 0)
        var record = try RecordFiles.readRecord(out, keys: [])
        #expect(record.validity.certification?.passed == true)
        #expect(record.validity.checks.contains { $0.id == "certify.peak_fraction:fp32" && $0.passed })

        #expect(AccelBench.main(arguments: ["certify", "--profile", "cpu-host", "--thresholds", strict.path] + selection) == ExitStatus.certificationFailed.rawValue)
        record = try RecordFiles.readRecord(out, keys: [])
        #expect(record.validity.certification?.passed == false)
        #expect(record.validity.status == "invalid")
        let failed = Set(record.validity.checks.filter { !$0.passed }.map(\.id))
        #expect(failed.isSuperset(of: ["certify.peak_fraction:fp32", "certify.peak_fraction:bf16", "certify.power_level"]))
        // The failed certification verifies as a record whose own verdict is invalid.
        #expect(AccelBench.main(arguments: ["verify", out, "--allow-unsigned"]) == 1)

        let bad = RecordCommandTests.temp("bad.json")
        try Data(#"{"version": 1, "skus": {"cpu-host": {"min_peak_fraktion": {"fp32": 0.5}}}}"#.utf8).write(to: bad)
        #expect(AccelBench.main(arguments: ["certify", "--profile", "cpu-host", "--thresholds", bad.path] + selection) == ExitStatus.usageError.rawValue)
        #expect(AccelBench.main(arguments: ["certify", "--profile", "no-such-chip"] + selection) == ExitStatus.usageError.rawValue)
    }

    @Test("trusted keys come from ACCELBENCH_TRUSTED_KEYS: files and directories of public keys")
    func trustedKeys() throws {
        let dir = RecordCommandTests.temp("trusted").path
        #expect(AccelBench.main(arguments: ["keygen", "--out", dir]) == 0)
        let keys = try RecordFiles.loadVerifyingKeys([], environment: ["ACCELBENCH_TRUSTED_KEYS": dir])
        #expect(keys.count == 1, "the .pub.pem and .pub.hex of one key count once")
        #expect(throws: AccelBenchError.self) { try RecordFiles.loadVerifyingKeys([], environment: ["ACCELBENCH_TRUSTED_KEYS": "/nonexistent"]) }
    }
}
