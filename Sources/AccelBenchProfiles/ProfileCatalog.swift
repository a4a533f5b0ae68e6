import AccelBenchCore
import AccelBenchJSON
import Foundation

/// The chip profiles accelbench knows: the bundled ones and the user's (`--profile-path DIR`, every
/// `*.json` file in it). Every file is validated against the bundled schema when it is loaded; a user
/// profile with the id of a bundled one replaces it, and `notes` says so.
public struct ProfileCatalog: Sendable {
    /// Sorted by vendor, then id.
    public private(set) var profiles: [ChipProfile]
    /// Where each profile came from: "bundled" or the user file's path.
    public private(set) var origins: [String: String]
    /// One line per user profile that replaced a bundled one.
    public private(set) var notes: [String]

    public init(profiles: [ChipProfile], origins: [String: String] = [:], notes: [String] = []) {
        self.profiles = profiles.sorted { ($0.vendor, $0.id) < ($1.vendor, $1.id) }
        self.origins = origins
        self.notes = notes
    }

    /// The directory of the bundled profiles (a SwiftPM resource).
    public static var bundledDirectory: URL {
        Bundle.module.resourceURL!.appendingPathComponent("Profiles")
    }

    /// The schema every profile must pass.
    public static func schemaValidator() throws -> JSONSchemaValidator {
        let url = bundledDirectory.appendingPathComponent(schemaFileName)
        return try JSONSchemaValidator(schema: JSON.parse(Data(contentsOf: url)))
    }

    public static let schemaFileName = "chip-profile.schema.json"

    /// The bundled profiles plus those in `userDirectories` (later directories override earlier ones).
    public static func load(userDirectories: [String] = []) throws -> ProfileCatalog {
        let validator = try schemaValidator()
        var byID: [String: ChipProfile] = [:]
        var origins: [String: String] = [:]
        var notes: [String] = []
        for url in try profileFiles(in: bundledDirectory, what: "bundled profile directory") {
            let profile = try loadFile(url, validator: validator)
            byID[profile.id] = profile
            origins[profile.id] = "bundled"
        }
        for directory in userDirectories {
            for url in try profileFiles(in: URL(fileURLWithPath: directory), what: "--profile-path") {
                let profile = try loadFile(url, validator: validator)
                if let previous = origins[profile.id] {
                    notes.append("user profile \(url.path) overrides the \(previous == "bundled" ? "bundled profile" : "profile in \(previous)") '\(profile.id)'")
                }
                byID[profile.id] = profile
                origins[profile.id] = url.path
            }
        }
        return ProfileCatalog(profiles: Array(byID.values), origins: origins, notes: notes)
    }

    static func profileFiles(in directory: URL, what: String) throws -> [URL] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw AccelBenchError(.invalidArgument, "\(what) \(directory.path) is not a directory")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        return names.filter { $0.hasSuffix(".json") && !$0.hasSuffix(".schema.json") }.sorted()
            .map { directory.appendingPathComponent($0) }
    }

    /// Reads, validates and decodes one profile file. Every failure names the file, the field and
    /// what was expected.
    public static func loadFile(_ url: URL, validator: JSONSchemaValidator) throws -> ChipProfile {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw AccelBenchError(.invalidArgument, "profile \(url.path): cannot read it (\(error.localizedDescription))")
        }
        let value: JSON
        do {
            value = try JSON.parse(data)
        } catch {
            throw AccelBenchError(.invalidArgument, "profile \(url.path): not valid JSON (\(error))")
        }
        let violations = validator.validate(value)
        guard violations.isEmpty else {
            throw AccelBenchError(
                .invalidArgument,
                "profile \(url.path) does not match \(schemaFileName): " + violations.map(\.description).joined(separator: "; "))
        }
        do {
            return try JSONDecoder().decode(ChipProfile.self, from: data)
        } catch {
            throw AccelBenchError(.invalidArgument, "profile \(url.path): \(error)")
        }
    }

    /// Profiles whose vendor contains `vendor` and whose stack (short or as the source names it)
    /// contains `stack`, case-insensitively.
    public func filtered(vendor: String? = nil, stack: String? = nil) -> [ChipProfile] {
        profiles.filter { p in
            (vendor.map { p.vendor.localizedCaseInsensitiveContains($0) } ?? true)
                && (stack.map { p.stack.localizedCaseInsensitiveContains($0) || (p.stackDetail?.localizedCaseInsensitiveContains($0) ?? false) } ?? true)
        }
    }

    /// The profile with this id (case-insensitive); an unknown name is bad input that lists the
    /// closest ids.
    public func named(_ name: String) throws -> ChipProfile {
        let key = name.lowercased()
        if let p = profiles.first(where: { $0.id == key }) { return p }
        throw AccelBenchError(
            .unknownBackend,
            "unknown profile '\(name)'; closest: \(closest(to: key).joined(separator: ", ")) (all: accelbench profiles list)")
    }

    /// The profile of a device a backend reports (e.g. a plugin's device name "Ascend 910B2" or
    /// "NVIDIA H100 80GB HBM3"): the profile whose id is the slug of the name, else the one whose model
    /// (without its parenthesized note) the name contains, longest model first; nil when none fits.
    public func matching(deviceName: String) -> ChipProfile? {
        func slug(_ text: String) -> String {
            text.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
                .split(separator: "-").joined(separator: "-")
        }
        let name = slug(deviceName)
        if let exact = profiles.first(where: { $0.id == name }) { return exact }
        let candidates = profiles.compactMap { p -> (ChipProfile, String)? in
            let model = slug(p.model.split(separator: "(").first.map(String.init) ?? p.model)
            return model.isEmpty ? nil : (p, model)
        }
        return candidates.filter { "-\(name)-".contains("-\($0.1)-") }.max { $0.1.count < $1.1.count }?.0
    }

    /// Up to 3 ids nearest `name`: ids that contain it first, then by edit distance.
    public func closest(to name: String, count: Int = 3) -> [String] {
        let key = name.lowercased()
        return profiles.map(\.id)
            .map { id in (id, id.contains(key) ? 0 : 1, ProfileCatalog.editDistance(id, key)) }
            .sorted { ($0.1, $0.2, $0.0) < ($1.1, $1.2, $1.0) }
            .prefix(count).map(\.0)
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
}
