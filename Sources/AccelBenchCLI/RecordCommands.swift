import AccelBenchCore
import AccelBenchJSON
import AccelBenchRecords
import ArgumentParser
import Foundation

/// `accelbench keygen --out DIR`: an Ed25519 key pair for signing records.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make an Ed25519 key pair for signing capability records.",
        discussion: """
            Writes DIR/accelbench.key (the private key, PKCS#8 PEM, mode 0600), DIR/accelbench.pub.pem (the \
            public key, SubjectPublicKeyInfo PEM) and DIR/accelbench.pub.hex (its 32 raw bytes in hex), and \
            prints the key id (sha256 of the raw public key). A key made by `openssl genpkey -algorithm \
            ed25519` works as it is. An existing key is never overwritten without --force.
            """)

    @Option(help: ArgumentHelp("Directory for the key files (created if needed).", valueName: "dir"))
    var out: String

    @Flag(help: "Replace an existing DIR/accelbench.key.")
    var force = false

    func run() throws {
        let made: (privateKeyPath: String, publicKeyPath: String, publicKeyHexPath: String, key: RecordVerifyingKey)
        do {
            made = try KeyFiles.generate(into: out, overwrite: force)
        } catch let error as KeyError {
            throw AccelBenchError(.invalidArgument, error.message)
        }
        print("private key: \(made.privateKeyPath) (keep it secret; mode 0600)")
        print("public key:  \(made.publicKeyPath)")
        print("public hex:  \(made.publicKeyHexPath): \(made.key.rawHex)")
        print("key id:      \(made.key.keyID)")
    }
}

/// `accelbench sign RECORD --key KEY [--out FILE]`.
struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a capability record: a DSSE envelope with an Ed25519 signature over its canonical form.",
        discussion: """
            RECORD is a record v1 JSON file (from `accelbench record` or `accelbench run --record`). It is \
            checked against the schema, put in RFC 8785 canonical form (so its SHA-256 is a stable content \
            id) and signed over PAE(payloadType, payload) with payloadType \
            \(DSSE.recordPayloadType). The envelope is written atomically to --out (default: RECORD with \
            .signed.json in place of .json).
            """)

    @Argument(help: ArgumentHelp("The record to sign (JSON).", valueName: "record"))
    var record: String

    @Option(help: ArgumentHelp("Private key: PKCS#8 PEM (accelbench keygen, or openssl genpkey -algorithm ed25519).", valueName: "key"))
    var key: String

    @Option(help: ArgumentHelp("Envelope file to write.", valueName: "file"))
    var out: String?

    func run() throws {
        let signingKey = try RecordFiles.loadSigningKey(key)
        guard let data = FileManager.default.contents(atPath: record) else {
            throw AccelBenchError(.invalidArgument, "cannot read the record \(record)")
        }
        let json: JSON
        do {
            json = try JSON.parse(data)
        } catch {
            throw AccelBenchError(.invalidArgument, "\(record) is not valid JSON: \(error)")
        }
        if (try? Envelope.decode(json: json)) != nil {
            throw AccelBenchError(.invalidArgument, "\(record) is already a signed envelope; sign the record it holds, not the envelope")
        }
        let errors = try JSONSchemaValidator(schema: try RecordCoding.schema()).validate(json)
        guard errors.isEmpty else {
            throw AccelBenchError(
                .invalidArgument,
                "\(record) is not a capability record v1 (\(errors.count) schema error(s)):\n"
                    + errors.prefix(10).map { "  \($0.instanceLocation.isEmpty ? "/" : $0.instanceLocation): \($0.error)" }.joined(separator: "\n"))
        }
        let payload = try json.canonicalData()
        let envelope = try Envelope.sign(payload: payload, payloadType: DSSE.recordPayloadType, with: signingKey)
        let path = out ?? RecordFiles.signedPath(for: record)
        try RecordFiles.writeAtomically(try envelope.encoded(), to: path)
        print("signed: \(path)")
        print("content id: \(RecordCoding.contentID(payload: payload))")
        print("key id: \(signingKey.publicKey.keyID)")
    }
}

/// `accelbench verify FILE... [--key PUB ...]`: the record checker.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check signed capability records: envelope, payload type, signature, canonical form, schema, semantic checks.",
        discussion: """
            Keys: --key (repeatable; a public key PEM, a private key PEM, or a hex file) and the files or \
            directories listed in ACCELBENCH_TRUSTED_KEYS (colon-separated). Semantic checks, each with a \
            stable id: ids.unique, refs.resolve, time.ordered, time.not_future, correctness.passed:rN, \
            samples.digest:rN, stats.recompute:rN, noise.threshold:rN, duration.minimum:rN, \
            plausibility.nominal_peak:rN, power.window_covers_result:rN, throttle.none:rN, \
            efficiency.recompute:eN, normalized.rederive; then the record's own verdict (validity.claim). \
            Exit codes: 0 every file valid, 1 a file invalid, 2 usage error (bad flag, unreadable key).
            """)

    @Argument(help: ArgumentHelp("Envelope files (or bare records with --allow-unsigned).", valueName: "file"))
    var files: [String]

    @Option(name: .long, help: ArgumentHelp("Public key to verify with (repeatable).", valueName: "pub"))
    var key: [String] = []

    @Option(help: "Output: table or json (schema errors in JSON Schema's basic output shape).")
    var format: OutputFormat = .table

    @Flag(name: .customLong("allow-unsigned"), help: "Check a bare record's content (no envelope, no signature).")
    var allowUnsigned = false

    @Option(name: .customLong("max-noise"), help: ArgumentHelp("Largest robust CV of a result's samples.", valueName: "fraction"))
    var maxNoise: Double = CheckThresholds().maxNoise

    @Option(name: .customLong("min-seconds"), help: ArgumentHelp("Least seconds of timed calls per result.", valueName: "seconds"))
    var minSeconds: Double = CheckThresholds().minTimedSeconds

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("name at least one file to verify") }
        guard format == .table || format == .json else { throw ValidationError("--format: verify prints table or json") }
        guard maxNoise >= 0 && maxNoise.isFinite else { throw ValidationError("--max-noise must be a fraction >= 0, got \(maxNoise)") }
        guard minSeconds >= 0 && minSeconds.isFinite else { throw ValidationError("--min-seconds must be >= 0, got \(minSeconds)") }
    }

    func run() throws {
        let keys = try RecordFiles.loadVerifyingKeys(key)
        var thresholds = CheckThresholds()
        thresholds.maxNoise = maxNoise
        thresholds.minTimedSeconds = minSeconds
        let verifier = try RecordVerifier(keys: keys, thresholds: thresholds, allowUnsigned: allowUnsigned)
        let reports = files.map { verifier.verify(file: $0) }
        switch format {
        case .json:
            let value: JSON = reports.count == 1 ? reports[0].json() : .array(reports.map { $0.json() })
            print(String(decoding: try value.prettyData(), as: UTF8.self))
        default:
            print(reports.map(VerifyCommand.render).joined(separator: "\n"), terminator: "")
        }
        if reports.contains(where: { !$0.valid }) { throw ExitCode(1) }
    }

    static func render(_ report: VerificationReport) -> String {
        var out = "\(report.file ?? "input"): \(report.valid ? (report.status == "partial" ? "VALID (partial: flagged results count in no normalized figure)" : "VALID") : "INVALID")\n"
        if let id = report.contentID { out += "  content id: \(id)\n" }
        for step in report.steps {
            let mark = step.passed == true ? "ok  " : step.passed == false ? "FAIL" : "--  "
            out += "  \(mark) \(step.id.padding(toLength: 22, withPad: " ", startingAt: 0)) \(step.message)\n"
        }
        for error in report.schemaErrors.prefix(20) {
            out += "       schema: \(error.instanceLocation.isEmpty ? "/" : error.instanceLocation): \(error.error) (\(error.keywordLocation))\n"
        }
        if report.schemaErrors.count > 20 { out += "       ... \(report.schemaErrors.count - 20) more schema errors (--format json lists all)\n" }
        let failed = report.checks.filter { !$0.passed }
        if !report.checks.isEmpty {
            out += "  semantic checks: \(report.checks.count - failed.count) passed, \(failed.count) failed\n"
            for c in failed {
                let mark = RecordChecks.isResultQuality(c.id) ? "FLAG" : "FAIL"
                var detail = ""
                if let v = c.value { detail += " value \(Format.number(v))" }
                if let t = c.threshold { detail += ", threshold \(Format.number(t))" }
                if let n = c.note { detail += (detail.isEmpty ? " " : "; ") + n }
                out += "    \(mark) \(c.id):\(detail)\n"
            }
        }
        if let reason = report.reason { out += "  reason: \(reason)\n" }
        return out
    }
}

/// `accelbench compare BASE NEW [...]`: result by result, with a rank test on the stored samples.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare capability records: each result of NEW against BASE (faster, slower, same, ambiguous).",
        discussion: """
            Results are matched by workload, shape, dtype, backend and threads. Each pair is classified with a \
            two-sided Mann-Whitney U test on the stored per-sample throughputs (it needs >= 9 samples per \
            side; fewer are shown without a verdict): faster/slower when p < --alpha and the median moved by \
            at least --min-change; same when it moved less; ambiguous when it moved more but the test cannot \
            tell it from noise. A result that passed in BASE and fails in NEW is a regression too. Files may \
            be signed envelopes or bare records; with --key their signatures are checked first. \
            Exit codes: 0 no regression, 3 a regression found, 2 usage error.
            """)

    @Argument(help: ArgumentHelp("The base record.", valueName: "base"))
    var base: String

    @Argument(help: ArgumentHelp("Records to compare with the base.", valueName: "new"))
    var new: [String]

    @Option(help: "Output: table, markdown or json.")
    var format: OutputFormat = .table

    @Option(help: "Significance level of the rank test.")
    var alpha: Double = 0.05

    @Option(name: .customLong("min-change"), help: ArgumentHelp("Least relative change of the median that counts (0.02 = 2 %).", valueName: "fraction"))
    var minChange: Double = 0.02

    @Option(name: .long, help: ArgumentHelp("Public key the records' signatures must verify with (repeatable).", valueName: "pub"))
    var key: [String] = []

    func validate() throws {
        guard !new.isEmpty else { throw ValidationError("name at least one record to compare with the base") }
        guard format != .csv else { throw ValidationError("--format: compare prints table, markdown or json") }
        guard alpha > 0 && alpha < 1 else { throw ValidationError("--alpha must be in (0, 1), got \(alpha)") }
        guard minChange >= 0 && minChange < 1 else { throw ValidationError("--min-change must be in [0, 1), got \(minChange)") }
    }

    func run() throws {
        let reader = try RecordFiles.reader(keys: try RecordFiles.loadVerifyingKeys(key))
        let baseRecord = try RecordFiles.readRecord(base, verifier: reader)
        let comparison = RecordComparison(alpha: alpha, minimumChange: minChange)
        var regression = false
        var outputs: [JSON] = []
        var text = ""
        for path in new {
            let newRecord = try RecordFiles.readRecord(path, verifier: reader)
            let rows = comparison.compare(base: baseRecord, new: newRecord)
            regression = regression || rows.contains { $0.verdict.isRegression }
            switch format {
            case .json:
                outputs.append(.object(["base": .string(base), "new": .string(path), "results": .array(rows.map(CompareCommand.json))]))
            default:
                text += CompareCommand.render(rows, base: base, new: path, markdown: format == .markdown) + "\n"
            }
        }
        if format == .json {
            print(String(decoding: try (outputs.count == 1 ? outputs[0] : .array(outputs)).prettyData(), as: UTF8.self))
        } else {
            print(text, terminator: "")
        }
        if regression { throw ExitCode(ExitStatus.caseFailed.rawValue) }
    }

    static func render(_ rows: [ResultComparison], base: String, new: String, markdown: Bool) -> String {
        var table = TextTable(header: ["workload", "shape", "dtype", "backend", "threads", "base", "new", "unit", "change", "p", "verdict", "note"])
        for r in rows {
            table.append([
                r.workload, r.shape, r.dtype, r.backend, "\(r.threads)", r.baseMedian.map(Format.number) ?? "-", r.newMedian.map(Format.number) ?? "-",
                r.unit, r.ratio.map { String(format: "%+.1f%%", ($0 - 1) * 100) } ?? "-", r.test.map { String(format: "%.3g", $0.pValue) } ?? "-",
                r.verdict.rawValue, r.note,
            ])
        }
        var counts: [String] = []
        for v in ResultComparison.Verdict.allCases {
            let n = rows.filter { $0.verdict == v }.count
            if n > 0 { counts.append("\(n) \(v.rawValue)") }
        }
        let regressions = rows.filter { $0.verdict.isRegression }.count
        let heading = "\(new) against \(base) (medians per sample; Mann-Whitney U, two-sided):"
        let summary = counts.joined(separator: ", ") + (regressions > 0 ? ". REGRESSION: \(regressions) result(s)" : ". No regression.")
        return markdown ? "### \(heading)\n\n" + table.renderMarkdown() + "\n" + summary + "\n" : heading + "\n" + table.render() + summary + "\n"
    }

    static func json(_ r: ResultComparison) -> JSON {
        var o: [String: JSON] = [
            "workload": .string(r.workload), "shape": .string(r.shape), "dtype": .string(r.dtype), "backend": .string(r.backend),
            "threads": .number(Double(r.threads)), "unit": .string(r.unit), "verdict": .string(r.verdict.rawValue), "note": .string(r.note),
            "base_samples": .number(Double(r.baseSamples)), "new_samples": .number(Double(r.newSamples)),
        ]
        if let v = r.baseMedian { o["base_median"] = .number(v) }
        if let v = r.newMedian { o["new_median"] = .number(v) }
        if let v = r.ratio { o["ratio"] = .number(v) }
        if let t = r.test {
            o["p_value"] = .number(t.pValue)
            o["u"] = .number(t.u)
            o["test_method"] = .string(t.method)
            o["hodges_lehmann_shift"] = .number(t.hodgesLehmannShift)
        }
        return .object(o)
    }
}

/// `accelbench record RUN.json`: a run's result file as an (unsigned) capability record.
struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Make a capability record v1 from a run's result file (results/*.json); sign it with accelbench sign.",
        discussion: "The record is checked (its validity block) and written atomically in canonical form. Projected results are left out: a record holds measurements only.")

    @Argument(help: ArgumentHelp("A result file written by accelbench run.", valueName: "run.json"))
    var runFile: String

    @Option(help: ArgumentHelp("Record file to write (default: RUN with .record.json in place of .json).", valueName: "file"))
    var out: String?

    @Option(name: .long, help: ArgumentHelp("Private key: write the signed envelope instead of the bare record.", valueName: "key"))
    var sign: String?

    @OptionGroup(title: "Record subject") var subject: RecordSubjectFlags

    func run() throws {
        guard let data = FileManager.default.contents(atPath: runFile) else {
            throw AccelBenchError(.invalidArgument, "cannot read the run file \(runFile)")
        }
        let document: RunDocument
        do {
            document = try RunDocument.decoded(from: data)
        } catch {
            throw AccelBenchError(.invalidArgument, "\(runFile) is not an accelbench run result file: \(error)")
        }
        let key = try sign.map(RecordFiles.loadSigningKey)
        let built = try RecordBuilder.build(from: document, subject: try subject.input())
        let path = out ?? RecordFiles.recordPath(for: runFile)
        let written = try RecordFiles.write(built.record, to: path, signingKey: key)
        if built.projectedLeftOut > 0 { printError("note: \(built.projectedLeftOut) projected result(s) left out (not measurements)") }
        print("record: \(path) (\(key == nil ? "unsigned" : "signed"), \(built.record.validity.status), content id \(written))")
    }
}

/// Flags that say who a record is about.
struct RecordSubjectFlags: ParsableArguments {
    @Option(name: .customLong("operator"), help: ArgumentHelp("Operator (organisation) named in the record.", valueName: "name"))
    var operatorName: String?

    @Option(name: .customLong("region-code"), help: ArgumentHelp("Site region code (e.g. GB/T 2260).", valueName: "code"))
    var regionCode: String?

    @Option(name: .customLong("site-id"), help: ArgumentHelp("Site identifier.", valueName: "id"))
    var siteId: String?

    @Option(name: .customLong("national-compute-id"), help: ArgumentHelp("Identifier assigned by a national or regional compute registry (kept opaque).", valueName: "id"))
    var nationalComputeId: String?

    @Option(name: .customLong("supersedes"), help: ArgumentHelp("Content id (sha256:...) of the record this one replaces.", valueName: "id"))
    var supersedes: String?

    func input() throws -> RecordSubjectInput {
        if let supersedes, supersedes.range(of: "^sha256:[0-9a-f]{64}$", options: .regularExpression) == nil {
            throw AccelBenchError(.invalidArgument, "--supersedes takes a content id, sha256: and 64 lowercase hex digits (accelbench verify prints it)")
        }
        if let regionCode, regionCode.range(of: "^[0-9A-Za-z-]{1,32}$", options: .regularExpression) == nil {
            throw AccelBenchError(.invalidArgument, "--region-code takes 1-32 letters, digits or '-', got '\(regionCode)'")
        }
        let salt = ProcessInfo.processInfo.environment["ACCELBENCH_NODE_SALT"]
        return RecordSubjectInput(
            operatorName: operatorName, regionCode: regionCode, siteId: siteId, nationalComputeId: nationalComputeId,
            nodeSalt: salt?.isEmpty == false ? salt : nil, supersedes: supersedes)
    }
}

/// Reading and writing record files.
enum RecordFiles {
    static func loadSigningKey(_ path: String) throws -> RecordSigningKey {
        do {
            return try RecordSigningKey(contentsOf: path)
        } catch let error as KeyError {
            throw AccelBenchError(.invalidArgument, "--key \(path): \(error.message)")
        }
    }

    /// The given keys, then those named by ACCELBENCH_TRUSTED_KEYS (files, or directories of *.pem, *.pub, *.hex).
    static func loadVerifyingKeys(_ paths: [String], environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [RecordVerifyingKey] {
        var keys: [RecordVerifyingKey] = []
        func load(_ path: String, origin: String) throws {
            do {
                keys.append(try RecordVerifyingKey(contentsOf: path))
            } catch let error as KeyError {
                throw AccelBenchError(.invalidArgument, "\(origin) \(path): \(error.message)")
            }
        }
        for path in paths { try load(path, origin: "--key") }
        for entry in (environment["ACCELBENCH_TRUSTED_KEYS"] ?? "").split(separator: ":").map(String.init) where !entry.isEmpty {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: entry, isDirectory: &isDirectory) else {
                throw AccelBenchError(.invalidArgument, "ACCELBENCH_TRUSTED_KEYS names \(entry), which does not exist")
            }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: entry)) ?? []
                for name in names.sorted() where name.hasSuffix(".pub.pem") || name.hasSuffix(".pub") || name.hasSuffix(".pub.hex") {
                    try load((entry as NSString).appendingPathComponent(name), origin: "ACCELBENCH_TRUSTED_KEYS")
                }
            } else {
                try load(entry, origin: "ACCELBENCH_TRUSTED_KEYS")
            }
        }
        return Array(Set(keys)).sorted { $0.keyID < $1.keyID }
    }

    /// A record from an envelope (signature checked when keys are given) or a bare record file.
    static func readRecord(_ path: String, keys: [RecordVerifyingKey]) throws -> CapabilityRecord {
        try readRecord(path, verifier: try reader(keys: keys))
    }

    /// The verifier `readRecord` uses: without keys it reads bare records and does not hold an
    /// unverifiable signature against an envelope.
    static func reader(keys: [RecordVerifyingKey]) throws -> RecordVerifier {
        try RecordVerifier(keys: keys, allowUnsigned: keys.isEmpty)
    }

    static func readRecord(_ path: String, verifier: RecordVerifier) throws -> CapabilityRecord {
        let report = verifier.verify(file: path)
        let signature = report.steps.first { $0.id == "signature" }
        guard let record = report.record else {
            // Without keys a failed signature step only means "not checked": name the real reason.
            let failure = report.steps.first { $0.passed == false && !(verifier.keys.isEmpty && $0.id == "signature") }
            throw AccelBenchError(
                .invalidArgument, "\(path): not a readable capability record (\(failure.map { "\($0.id): \($0.message)" } ?? "unknown reason"))")
        }
        if !verifier.keys.isEmpty, signature?.passed != true {
            throw AccelBenchError(.invalidArgument, "\(path): \(signature?.message ?? "signature not verified")")
        }
        return record
    }

    /// Writes the record (canonical bytes) or its signed envelope atomically; returns the content id.
    @discardableResult
    static func write(_ record: CapabilityRecord, to path: String, signingKey: RecordSigningKey?) throws -> String {
        let payload = try RecordCoding.payload(record)
        if let signingKey {
            let envelope = try Envelope.sign(payload: payload, payloadType: DSSE.recordPayloadType, with: signingKey)
            try writeAtomically(try envelope.encoded(), to: path)
        } else {
            // Exactly the canonical bytes (no trailing newline), so the file's SHA-256 is the content id.
            try writeAtomically(payload, to: path)
        }
        return RecordCoding.contentID(payload: payload)
    }

    /// Writes through a temporary file renamed into place (creating the directory): a reader never sees
    /// a half-written file, and an existing file is replaced only by a complete one.
    static func writeAtomically(_ data: Data, to path: String, what: String = "") throws {
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
        } catch {
            throw AccelBenchError(.io, "cannot write \(what.isEmpty ? "" : what + " ")\(path): \(error.localizedDescription)")
        }
    }

    static func signedPath(for record: String) -> String {
        record.hasSuffix(".json") ? String(record.dropLast(5)) + ".signed.json" : record + ".signed.json"
    }

    static func recordPath(for run: String) -> String {
        run.hasSuffix(".json") ? String(run.dropLast(5)) + ".record.json" : run + ".record.json"
    }
}
