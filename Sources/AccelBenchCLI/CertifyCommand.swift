import AccelBenchCore
import AccelBenchProfiles
import AccelBenchRecords
import ArgumentParser
import Foundation

/// `accelbench certify --profile NAME [--thresholds FILE]`: run the standard suite and decide pass/fail.
struct CertifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certify",
        abstract: "Run the standard suite and decide pass/fail per check against a chip profile, with evidence, in a capability record.",
        discussion: """
            Checks (written into the record's validity, each with its value, threshold and evidence): \
            certify.peak_fraction:NAME (the best passed result's median / the profile's peak, for each NAME of \
            the SKU's min_peak_fraction: fp32, fp16, bf16, int8, memory_bandwidth), certify.correctness (every \
            result matched its float64 reference), certify.noise (the noisiest result's robust CV), \
            certify.no_throttle, certify.power_level (power measured at a stated level, when the SKU asks). \
            Profile cpu-host is this machine's CPU with the peaks measured in the same run; any other profile \
            judges the results that ran on a device matching it (device plugins) against its datasheet peaks. \
            Thresholds: --thresholds FILE (per SKU, see the README) or the built-in ones \
            (fp32 >= 0.5 and memory_bandwidth >= 0.5 of peak, noise <= 0.10, no throttling). All run flags \
            apply (--suite, --workload, --power..., --sign KEY). The record goes to --output or \
            results/HOST-DATE.record.json. Exit codes: 0 certified, 4 certification failed, 2 bad input.
            """)

    @Option(help: ArgumentHelp("Chip profile to certify against (accelbench profiles list; cpu-host = this CPU, measured peaks).", valueName: "name"))
    var profile: String

    @Option(help: ArgumentHelp("Thresholds file (JSON, per SKU).", valueName: "file"))
    var thresholds: String?

    @Option(help: ArgumentHelp("The SKU entry of the thresholds file to use (default: the profile id).", valueName: "sku"))
    var sku: String?

    @OptionGroup var runFlags: RunCommand

    func run() throws {
        let profileID = profile.lowercased()
        let sku = self.sku ?? profileID
        // Bad input first, before minutes of measuring.
        var nominal: ChipProfile?
        if profileID != ChipProfile.derivedCPUID {
            nominal = try ProfileCatalog.load(userDirectories: runFlags.profileOptions.profilePath).named(profileID)
        } else if runFlags.noCeilings {
            throw AccelBenchError(.invalidArgument, "certify --profile cpu-host judges against the ceilings measured in the same run: drop --no-ceilings")
        }
        let limits: CertificationThresholds
        let source: String
        if let thresholds {
            guard let data = FileManager.default.contents(atPath: thresholds) else {
                throw AccelBenchError(.invalidArgument, "cannot read the thresholds file \(thresholds)")
            }
            do {
                limits = try CertificationThresholds.parse(data, sku: sku)
            } catch let error as RecordError {
                throw AccelBenchError(.invalidArgument, "\(thresholds): \(error.message)")
            }
            source = thresholds
        } else {
            limits = .builtin
            source = "builtin"
        }
        let signingKey = try runFlags.sign.map(RecordFiles.loadSigningKey)
        let subject = try runFlags.subjectFlags.input()

        let outcome = try runFlags.measure(defaultSuite: .standard)
        var built = try RecordBuilder.build(from: outcome.document, subject: subject)
        let peaks: Certifier.ProfilePeaks
        let eligible: Set<String>
        if let nominal {
            peaks = CertifyCommand.peaks(of: nominal, kind: "nominal_profile")
            eligible = Set(built.record.results.filter { $0.peak?.profile == nominal.id }.map(\.id))
        } else {
            guard let derived = outcome.document.cpuProfile else {
                throw AccelBenchError(.invalidArgument, "no ceilings were measured (no measured case), so cpu-host has no peaks to certify against")
            }
            peaks = CertifyCommand.peaks(of: derived, kind: "measured_ceiling")
            eligible = Set(built.record.results.filter { $0.deviceRefs.isEmpty }.map(\.id))
        }
        try Certifier.certify(&built.record, peaks: peaks, sku: sku, thresholds: limits, thresholdsSource: source, eligible: eligible)

        let path = runFlags.output ?? RecordFiles.recordPath(for: RunCommand.defaultResultPath(host: outcome.document.host, date: outcome.started))
        let contentID = try RecordFiles.write(built.record, to: path, signingKey: signingKey)
        print(CertifyCommand.render(built.record, path: path, contentID: contentID, signed: signingKey != nil))
        if built.record.validity.certification?.passed != true {
            throw ExitCode(ExitStatus.certificationFailed.rawValue)
        }
    }

    static func peaks(of profile: ChipProfile, kind: String) -> Certifier.ProfilePeaks {
        var values: [String: Double] = [:]
        for name in CertificationThresholds.peakNames where name != "memory_bandwidth" { values[name] = profile.peakTFLOPS[name] }
        values["memory_bandwidth"] = profile.bandwidthGBps
        return Certifier.ProfilePeaks(profile: profile.id, kind: kind, values: values)
    }

    static func render(_ record: CapabilityRecord, path: String, contentID: String, signed: Bool) -> String {
        guard let c = record.validity.certification else { return "" }
        var table = TextTable(header: ["check", "result", "value", "threshold", "evidence"])
        for id in c.checkIds {
            guard let check = record.validity.checks.first(where: { $0.id == id }) else { continue }
            table.append([
                id, check.passed ? "pass" : "FAIL", check.value.map(Format.number) ?? "-", check.threshold.map(Format.number) ?? "-",
                check.note ?? "",
            ])
        }
        return "Certification of SKU \(c.sku) against profile \(c.profile) (thresholds: \(c.thresholdsSource)):\n" + table.render()
            + "\(c.passed ? "CERTIFIED" : "NOT CERTIFIED"): \(c.checkIds.count) checks, \(c.checkIds.filter { id in record.validity.checks.first { $0.id == id }?.passed == false }.count) failed\n"
            + "record: \(path) (\(signed ? "signed" : "unsigned"), content id \(contentID))"
    }
}
