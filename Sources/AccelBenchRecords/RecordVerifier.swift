import AccelBenchJSON
import Foundation

/// What `accelbench verify` found: each step of the pipeline, the schema errors (JSON Schema "basic"
/// output units) and the semantic checks. `valid` only when every step passed.
public struct VerificationReport: Sendable, Equatable {
    public struct Step: Sendable, Equatable {
        /// Stable id: envelope.decode, envelope.payload_type, signature, payload.json, payload.canonical,
        /// schema, record.decode, semantic, validity.claim.
        public var id: String
        /// nil: not run (an earlier step made it meaningless).
        public var passed: Bool?
        public var message: String
    }

    public var file: String?
    public var valid: Bool { !steps.isEmpty && steps.allSatisfy { $0.passed == true } }
    /// For a valid file: `valid`, or `partial` when some results are flagged by result-quality checks
    /// (their figures stay in the record but count in no normalized figure).
    public var status: String = "invalid"
    /// `sha256:` of the payload bytes (the record's content id), once the payload was read.
    public var contentID: String?
    public var payloadType: String?
    public var signatures: [SignatureOutcome] = []
    public var steps: [Step] = []
    public var schemaErrors: [SchemaError] = []
    public var checks: [CapabilityRecord.Check] = []
    public var record: CapabilityRecord?

    /// The first failed step's id and message: the named reason a file is invalid.
    public var reason: String? {
        steps.first { $0.passed == false }.map { "\($0.id): \($0.message)" }
    }

    /// The report as JSON (for `verify --format json`).
    public func json() -> JSON {
        var out: [String: JSON] = [
            "valid": .bool(valid),
            "status": .string(valid ? status : "invalid"),
            "steps": .array(steps.map { s in
                .object(["id": .string(s.id), "passed": s.passed.map(JSON.bool) ?? .null, "message": .string(s.message)])
            }),
            "schema": JSONSchemaValidator.basicOutput(schemaErrors),
            "checks": .array(checks.map { c in
                var o: [String: JSON] = ["id": .string(c.id), "passed": .bool(c.passed)]
                if let v = c.value, v.isFinite { o["value"] = .number(v) }
                if let t = c.threshold, t.isFinite { o["threshold"] = .number(t) }
                if let n = c.note { o["note"] = .string(n) }
                return .object(o)
            }),
            "signatures": .array(signatures.map { s in
                var o: [String: JSON] = ["index": .number(Double(s.index))]
                o["keyid_hint"] = s.keyidHint.map(JSON.string) ?? .null
                o["verified_by"] = s.verifiedBy.map(JSON.string) ?? .null
                if let p = s.problem { o["problem"] = .string(p) }
                return .object(o)
            }),
        ]
        if let file { out["file"] = .string(file) }
        if let contentID { out["content_id"] = .string(contentID) }
        if let payloadType { out["payload_type"] = .string(payloadType) }
        if let reason { out["reason"] = .string(reason) }
        return .object(out)
    }
}

/// The record checker (MLPerf-checker style): envelope, payload type, signature against the given
/// keys, canonical form, schema, then the semantic checks. Every input gets an answer; nothing here
/// traps on bad bytes.
public struct RecordVerifier: Sendable {
    public var keys: [RecordVerifyingKey]
    public var thresholds: CheckThresholds
    public var now: Date
    /// Check a bare record's content (no envelope). The signature step then fails unless this is set,
    /// in which case it passes as "unsigned: content checked only".
    public var allowUnsigned: Bool
    let validator: JSONSchemaValidator

    /// Files above this are refused before parsing.
    public static let maximumFileBytes = 32 << 20

    public init(keys: [RecordVerifyingKey], thresholds: CheckThresholds = CheckThresholds(), now: Date = Date(), allowUnsigned: Bool = false) throws {
        self.keys = keys
        self.thresholds = thresholds
        self.now = now
        self.allowUnsigned = allowUnsigned
        self.validator = try JSONSchemaValidator(schema: try RecordCoding.schema())
    }

    public func verify(file path: String) -> VerificationReport {
        var report = VerificationReport(file: path)
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        if let size = attributes?[.size] as? Int, size > RecordVerifier.maximumFileBytes {
            report.steps.append(.init(id: "envelope.decode", passed: false, message: "the file is \(size) bytes; records are at most \(RecordVerifier.maximumFileBytes)"))
            return report
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            report.steps.append(.init(id: "envelope.decode", passed: false, message: "cannot read \(path)"))
            return report
        }
        report = verify(data)
        report.file = path
        return report
    }

    public func verify(_ data: Data) -> VerificationReport {
        var report = VerificationReport()
        func step(_ id: String, _ passed: Bool?, _ message: String) { report.steps.append(.init(id: id, passed: passed, message: message)) }
        func skipRest(after id: String) {
            let order = ["envelope.decode", "envelope.payload_type", "signature", "payload.json", "payload.canonical", "schema", "record.decode", "semantic", "validity.claim"]
            guard let i = order.firstIndex(of: id) else { return }
            for later in order[(i + 1)...] where !report.steps.contains(where: { $0.id == later }) {
                step(later, nil, "not run: \(id) failed")
            }
        }
        guard data.count <= RecordVerifier.maximumFileBytes else {
            step("envelope.decode", false, "the input is \(data.count) bytes; records are at most \(RecordVerifier.maximumFileBytes)")
            skipRest(after: "envelope.decode")
            return report
        }

        // 1. Envelope, or a bare record. The input is parsed once; a bare record's parse is its payload's.
        var payload: Data
        let parsed = try? JSON.parse(data)
        var parsedPayload: JSON?
        if let parsed, parsed["schema"] != nil {
            parsedPayload = parsed
            step("envelope.decode", allowUnsigned, allowUnsigned ? "a bare record (no envelope)" : "a bare record, not a signed envelope: sign it with `accelbench sign`, or pass --allow-unsigned to check its content only")
            step("envelope.payload_type", allowUnsigned ? true : nil, allowUnsigned ? "none (unsigned)" : "not run: no envelope")
            step("signature", allowUnsigned ? true : false, allowUnsigned ? "unsigned: content checked only" : "no signature")
            payload = data
        } else {
            let envelope: Envelope
            do {
                // Unparsable input goes through decode(_:) for its line, column and truncation hint.
                envelope = try parsed.map { try Envelope.decode(json: $0) } ?? Envelope.decode(data)
                step("envelope.decode", true, "DSSE envelope with \(envelope.signatures.count) signature(s)")
            } catch {
                step("envelope.decode", false, "\(error)")
                skipRest(after: "envelope.decode")
                return report
            }
            report.payloadType = envelope.payloadType
            if envelope.payloadType == DSSE.recordPayloadType {
                step("envelope.payload_type", true, envelope.payloadType)
            } else if envelope.payloadType.hasPrefix("application/vnd.accelbench.capability-record.") {
                step("envelope.payload_type", false, "\(envelope.payloadType) is another major version of the record; this checker reads \(DSSE.recordPayloadType)")
            } else {
                step("envelope.payload_type", false, "payload type '\(envelope.payloadType.prefix(200))' is not \(DSSE.recordPayloadType)")
            }
            do {
                payload = try envelope.payloadBytes()
            } catch {
                step("signature", false, "\(error)")
                skipRest(after: "signature")
                return report
            }
            if keys.isEmpty {
                step("signature", false, "no key to verify with: pass --key PUB (a public key PEM or hex), or set ACCELBENCH_TRUSTED_KEYS")
            } else {
                do {
                    let outcomes = try envelope.verify(with: keys)
                    report.signatures = outcomes
                    if let good = outcomes.first(where: { $0.verifiedBy != nil }) {
                        step("signature", true, "signature \(good.index + 1) verifies with \(good.verifiedBy!)")
                    } else {
                        let problems = outcomes.compactMap(\.problem)
                        step("signature", false, "no signature verifies with the given key(s)" + (problems.isEmpty ? "" : ": " + problems.joined(separator: "; ")))
                    }
                } catch {
                    step("signature", false, "\(error)")
                }
            }
        }
        report.contentID = RecordCoding.contentID(payload: payload)

        // 2. The payload: strict JSON, canonical form.
        let json: JSON
        do {
            json = try parsedPayload ?? JSON.parse(payload)
            step("payload.json", true, "\(payload.count) bytes of JSON")
        } catch {
            step("payload.json", false, "the payload is not valid JSON: \(error)")
            skipRest(after: "payload.json")
            return report
        }
        if let canonical = try? json.canonicalData(), canonical == payload {
            step("payload.canonical", true, "RFC 8785 canonical form")
        } else {
            step("payload.canonical", false, "the payload is not in RFC 8785 canonical form (records are signed canonical, so their SHA-256 is a stable id)")
        }

        // 3. Schema.
        report.schemaErrors = validator.validate(json)
        if report.schemaErrors.isEmpty {
            step("schema", true, "conforms to \(CapabilityRecord.schemaID)")
        } else {
            let first = report.schemaErrors[0]
            step("schema", false, "\(report.schemaErrors.count) schema error(s); first: \(first.instanceLocation.isEmpty ? "/" : first.instanceLocation): \(first.error)")
            skipRest(after: "schema")
            return report
        }

        // 4. The model and the semantic checks.
        let record: CapabilityRecord
        do {
            record = try RecordCoding.decode(json)
            step("record.decode", true, "record v\(record.schemaVersion), \(record.results.count) result(s)")
        } catch {
            step("record.decode", false, "\(error)")
            skipRest(after: "record.decode")
            return report
        }
        report.record = record
        report.checks = RecordChecks.evaluate(record, thresholds: thresholds, now: now)
        let failed = report.checks.filter { !$0.passed }
        let hard = failed.filter { !RecordChecks.isResultQuality($0.id) }
        let flagged = failed.filter { RecordChecks.isResultQuality($0.id) }
        var message = hard.isEmpty ? "\(report.checks.count - failed.count) of \(report.checks.count) checks passed"
            : "\(hard.count) of \(report.checks.count) checks failed: " + hard.prefix(5).map(\.id).joined(separator: ", ")
        if !flagged.isEmpty {
            message += "; \(flagged.count) result(s) flagged (partial): " + flagged.prefix(5).map(\.id).joined(separator: ", ")
        }
        step("semantic", hard.isEmpty, message)

        // The record's own verdict: consistent with its own checks, not invalid, and no milder than
        // what this checker finds (a record may be stricter than the checker's flags, never laxer).
        let claimed = record.validity.status
        let own = RecordChecks.status(of: record.validity.checks)
        let certification = record.validity.checks.filter { $0.id.hasPrefix("certify.") }
        let found = RecordChecks.status(of: report.checks + certification)
        let ownFailures = record.validity.checks.filter { !$0.passed }.prefix(5).map(\.id).joined(separator: ", ")
        if claimed != own {
            step("validity.claim", false, "validity.status says '\(claimed)', but its own checks make it '\(own)'" + (ownFailures.isEmpty ? "" : " (\(ownFailures))"))
        } else if claimed == "invalid" {
            step("validity.claim", false, "the record's own verdict is 'invalid' (\(ownFailures))")
        } else if RecordChecks.severity(claimed) < RecordChecks.severity(found) {
            step("validity.claim", false, "the record claims '\(claimed)', but the checks above make it '\(found)'")
        } else {
            step("validity.claim", true, "the record's own verdict: \(claimed)" + (claimed == "partial" ? " (flagged: \(ownFailures))" : ""))
        }
        report.status = claimed == "partial" || found == "partial" ? "partial" : "valid"
        return report
    }
}
