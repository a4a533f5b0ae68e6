// Ed25519 keys for signing capability records: loading (PKCS#8 / SubjectPublicKeyInfo PEM, raw hex),
// key IDs, and writing a fresh key pair to disk (KeyFiles).
//
// Key files are parsed here with a small DER reader rather than handed straight to CryptoExtras: the
// reader checks the algorithm OID (CryptoExtras' PKCS#8 loader does not, so an X25519 key would load
// as an Ed25519 one), accepts PKCS#8 v2 (with the optional public key), and lets the errors say what
// a refused key actually is (RSA, EC P-256, an encrypted key, ...). CryptoExtras writes the PEMs.

import Crypto
import CryptoExtras
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A key file or key text that cannot be used: what is wrong with it, and what to do about it.
public struct KeyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A complete sentence (or two) naming the file where there is one.
    public var message: String

    public init(message: String) { self.message = message }
    init(_ message: String) { self.message = message }

    public var description: String { message }
}

// MARK: - Signing key

/// An Ed25519 private key that signs capability records.
///
/// On disk it is a PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"), the format `openssl genpkey -algorithm
/// ed25519` writes and ``KeyFiles/generate(into:overwrite:)`` writes. Ed25519 signatures made with it
/// are randomized by swift-crypto (hedged signing): signing the same bytes twice gives different, equally
/// valid signatures, so compare signatures by verifying them, never byte for byte.
public struct RecordSigningKey: Sendable {
    let key: Curve25519.Signing.PrivateKey

    init(key: Curve25519.Signing.PrivateKey) { self.key = key }

    /// Loads a PKCS#8 "PRIVATE KEY" PEM holding an Ed25519 key.
    ///
    /// - Throws: ``KeyError`` when the text is not PEM, is a public key, an encrypted key, or a key of
    ///   another algorithm (the message names the algorithm when it can tell: RSA, EC P-256, X25519, ...).
    public init(pem: String) throws {
        self.key = try KeyParsing.privateKey(fromPEM: pem, source: nil)
    }

    /// Reads and loads the PKCS#8 PEM key file at `path`.
    ///
    /// - Throws: ``KeyError`` naming the file when it is missing, unreadable, too large to be a key, or
    ///   not an unencrypted Ed25519 PKCS#8 key.
    public init(contentsOf path: String) throws {
        let text = try KeyParsing.readKeyFile(path)
        self.key = try KeyParsing.privateKey(fromPEM: text, source: path)
    }

    /// A fresh random key (from the system's secure random source).
    public static func generate() -> RecordSigningKey {
        RecordSigningKey(key: Curve25519.Signing.PrivateKey())
    }

    /// The matching public key.
    public var publicKey: RecordVerifyingKey {
        RecordVerifyingKey(validatedRaw: key.publicKey.rawRepresentation)
    }

    /// The key as a PKCS#8 "PRIVATE KEY" PEM (OpenSSL reads it as it is), ending in a newline.
    public var pemRepresentation: String {
        KeyParsing.withTrailingNewline(key.pemRepresentation)
    }

    /// An Ed25519 signature (64 bytes) over `data` exactly as given — for a DSSE envelope, the PAE bytes
    /// (``Envelope/sign(payload:payloadType:with:)`` does that).
    public func signature(for data: Data) throws -> Data {
        do {
            return try key.signature(for: data)
        } catch {
            throw KeyError("Ed25519 signing failed: \(error)")
        }
    }
}

// MARK: - Verifying key

/// An Ed25519 public key that verifies capability-record signatures.
///
/// Readable from a SubjectPublicKeyInfo "PUBLIC KEY" PEM (`openssl pkey -pubout`), from the private key's
/// PKCS#8 PEM (the public key is derived), or from 64 hex digits (the raw 32-byte key). Two keys are
/// equal when their raw bytes are.
public struct RecordVerifyingKey: Sendable, Hashable {
    /// The raw 32 key bytes.
    let raw: Data

    init(validatedRaw raw: Data) { self.raw = raw }

    /// Loads a SubjectPublicKeyInfo "PUBLIC KEY" PEM, or a PKCS#8 "PRIVATE KEY" PEM whose public key is
    /// derived (so a verifier can be pointed at the signing key file itself).
    ///
    /// - Throws: ``KeyError`` when the text is not an Ed25519 key PEM; the message names the algorithm
    ///   of a key of another kind when it can tell.
    public init(pem: String) throws {
        self = try KeyParsing.publicKey(fromPEM: pem, source: nil)
    }

    /// Loads a raw 32-byte public key written as 64 hex digits (either case; surrounding whitespace is
    /// ignored).
    ///
    /// - Throws: ``KeyError`` when the text is not exactly 64 hex digits.
    public init(hex: String) throws {
        self = try KeyParsing.publicKey(fromHex: hex, source: nil)
    }

    /// Reads a public key file, recognising its format: a PEM (public, or an Ed25519 private key whose
    /// public key is derived) or a file of 64 hex digits.
    ///
    /// - Throws: ``KeyError`` naming the file when it is missing, unreadable, or holds no Ed25519 key.
    public init(contentsOf path: String) throws {
        let text = try KeyParsing.readKeyFile(path)
        if text.contains("-----BEGIN") {
            self = try KeyParsing.publicKey(fromPEM: text, source: path)
        } else {
            self = try KeyParsing.publicKey(fromHex: text, source: path)
        }
    }

    /// The raw 32 key bytes as 64 lowercase hex digits.
    public var rawHex: String { KeyParsing.hex(raw) }

    /// The key's ID: `"sha256:"` followed by the lowercase hex SHA-256 of the 32 raw key bytes. Envelopes
    /// carry it as the (unauthenticated) `keyid` hint.
    public var keyID: String { "sha256:" + KeyParsing.hex(Data(SHA256.hash(data: raw))) }

    /// The key as a SubjectPublicKeyInfo "PUBLIC KEY" PEM, ending in a newline.
    public var pemRepresentation: String {
        // `raw` is 32 bytes by construction, so this cannot fail.
        let key = try! Curve25519.Signing.PublicKey(rawRepresentation: raw)
        return KeyParsing.withTrailingNewline(key.pemRepresentation)
    }

    /// Whether `signature` is a valid Ed25519 signature by this key over exactly `data`. Signatures that
    /// are not 64 bytes are never valid.
    public func isValidSignature(_ signature: Data, for data: Data) -> Bool {
        guard signature.count == 64, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
            return false
        }
        return key.isValidSignature(signature, for: data)
    }
}

// MARK: - Key files

/// Writing a new key pair to disk.
public enum KeyFiles {
    /// The private key's file name in the key directory.
    public static let privateKeyName = "accelbench.key"
    /// The public key PEM's file name in the key directory.
    public static let publicKeyName = "accelbench.pub.pem"
    /// The raw public key hex file's name in the key directory.
    public static let publicKeyHexName = "accelbench.pub.hex"

    /// Generates a key pair and writes `DIR/accelbench.key` (PKCS#8 PEM, mode 0600 from the moment it is
    /// created), `DIR/accelbench.pub.pem` (SubjectPublicKeyInfo PEM, 0644) and `DIR/accelbench.pub.hex`
    /// (64 hex digits and a newline, 0644).
    ///
    /// `directory` is created (mode 0700) if it does not exist. Each file is written to a temporary file in
    /// `directory` and renamed into place, so a reader never sees a half-written file.
    ///
    /// - Parameters:
    ///   - directory: Where to write the three files.
    ///   - overwrite: Replace an existing `accelbench.key`. Without it an existing key is never touched.
    /// - Returns: The three paths and the new public key.
    /// - Throws: ``KeyError`` naming the file when `accelbench.key` exists (and `overwrite` is false), or
    ///   when the directory cannot be created or a file cannot be written.
    @discardableResult
    public static func generate(into directory: String, overwrite: Bool) throws
        -> (privateKeyPath: String, publicKeyPath: String, publicKeyHexPath: String, key: RecordVerifyingKey)
    {
        let dir = directory.isEmpty ? "." : directory
        try ensureDirectory(dir)
        let keyPath = join(dir, privateKeyName)
        let pubPath = join(dir, publicKeyName)
        let hexPath = join(dir, publicKeyHexName)

        if !overwrite, pathExists(keyPath) {
            throw KeyError(
                "\(keyPath) already exists; refusing to overwrite a signing key. Records signed with it "
                    + "would no longer match a new key. Move it away first, or pass overwrite (--force) "
                    + "to replace it.")
        }

        let signingKey = RecordSigningKey.generate()
        let publicKey = signingKey.publicKey
        // The private key first: when it is refused (it appeared meanwhile), no public file is touched.
        try writeAtomically(Data(signingKey.pemRepresentation.utf8), to: keyPath, in: dir, mode: 0o600,
                            replace: overwrite)
        try writeAtomically(Data(publicKey.pemRepresentation.utf8), to: pubPath, in: dir, mode: 0o644,
                            replace: true)
        try writeAtomically(Data((publicKey.rawHex + "\n").utf8), to: hexPath, in: dir, mode: 0o644,
                            replace: true)
        syncDirectory(dir)
        return (keyPath, pubPath, hexPath, publicKey)
    }

    static func join(_ dir: String, _ name: String) -> String {
        dir.hasSuffix("/") ? dir + name : dir + "/" + name
    }

    static func pathExists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0  // a dangling symlink counts as existing: never write through it
    }

    static func ensureDirectory(_ dir: String) throws {
        var st = stat()
        if stat(dir, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFDIR else {
                throw KeyError("\(dir) exists and is not a directory; choose a directory for the key files.")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(
                atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw KeyError("cannot create the key directory \(dir): \(error.localizedDescription)")
        }
        // createDirectory's mode is subject to the umask; make it exactly 0700.
        _ = chmod(dir, 0o700)
    }

    static func errnoText(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// Writes `data` to a new temporary file in `dir` created with `mode` (then fchmod'ed to exactly `mode`,
    /// whatever the umask), syncs it, and moves it to `path`: with rename when `replace`, otherwise with
    /// link, which fails instead of replacing a file that exists.
    static func writeAtomically(_ data: Data, to path: String, in dir: String, mode: mode_t, replace: Bool) throws {
        let name = (path as NSString).lastPathComponent
        var tmp = ""
        var fd: Int32 = -1
        for _ in 0..<16 {
            let suffix = KeyParsing.hex(Data((0..<6).map { _ in UInt8.random(in: 0...255) }))
            tmp = join(dir, ".\(name).tmp-\(suffix)")
            fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else {
            throw KeyError("cannot create a temporary file in \(dir) to write \(path): \(errnoText(errno))")
        }
        var committed = false
        defer {
            if fd >= 0 { close(fd) }
            if !committed { unlink(tmp) }
        }
        guard fchmod(fd, mode) == 0 else {
            throw KeyError("cannot set the mode of \(tmp): \(errnoText(errno))")
        }
        let written: Bool = data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += n
            }
            return true
        }
        guard written else { throw KeyError("cannot write \(path): \(errnoText(errno))") }
        guard fsync(fd) == 0 else { throw KeyError("cannot write \(path) to disk: \(errnoText(errno))") }
        let closeResult = close(fd)
        fd = -1
        guard closeResult == 0 else { throw KeyError("cannot write \(path): \(errnoText(errno))") }
        if replace {
            guard rename(tmp, path) == 0 else {
                throw KeyError("cannot move the new file into place as \(path): \(errnoText(errno))")
            }
        } else {
            guard link(tmp, path) == 0 else {
                let code = errno
                if code == EEXIST {
                    throw KeyError("\(path) already exists; refusing to overwrite a signing key.")
                }
                throw KeyError("cannot move the new file into place as \(path): \(errnoText(code))")
            }
            unlink(tmp)
        }
        committed = true
    }

    static func syncDirectory(_ dir: String) {
        let fd = open(dir, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }
}

// MARK: - Parsing

/// PEM / DER / hex parsing of key files (internal).
enum KeyParsing {
    /// Key files larger than this are refused before reading (a PEM Ed25519 key is ~120 bytes).
    static let maxKeyFileBytes = 1 << 20

    static let ed25519OID: [UInt8] = [0x2B, 0x65, 0x70]

    static func hex(_ data: Data) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(data.count * 2)
        for b in data {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func withTrailingNewline(_ s: String) -> String { s.hasSuffix("\n") ? s : s + "\n" }

    static func prefix(_ source: String?) -> String { source.map { "\($0): " } ?? "" }

    /// Reads a key file as text, with errors that name the file.
    static func readKeyFile(_ path: String) throws -> String {
        var st = stat()
        guard stat(path, &st) == 0 else {
            let code = errno
            if code == ENOENT {
                throw KeyError("\(path): no such key file. Generate a key pair with `accelbench keygen --out DIR`, "
                    + "or with `openssl genpkey -algorithm ed25519 -out \(path)`.")
            }
            throw KeyError("cannot read the key file \(path): \(String(cString: strerror(code)))")
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            throw KeyError("\(path) is a directory, not a key file.")
        }
        if Int(st.st_size) > maxKeyFileBytes {
            throw KeyError("\(path) is \(st.st_size) bytes, too large to be a key file (a key file is a "
                + "PEM or hex text of a few hundred bytes).")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let code = errno
            throw KeyError("cannot read the key file \(path): \(String(cString: strerror(code))). "
                + "Check its permissions.")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.readToEnd() ?? Data()
        } catch {
            throw KeyError("cannot read the key file \(path): \(error.localizedDescription)")
        }
        guard data.count <= maxKeyFileBytes else {
            throw KeyError("\(path) is too large to be a key file.")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw KeyError("\(path) is not a text key file (it is not UTF-8). Expected a PEM key "
                + "(-----BEGIN PRIVATE KEY----- / -----BEGIN PUBLIC KEY-----) or 64 hex digits; a DER "
                + "(binary) key can be converted with `openssl pkey -inform DER -in \(path)`.")
        }
        return text
    }

    // MARK: PEM

    struct PEMBlock {
        var label: String
        var headers: [String]
        var der: [UInt8]
    }

    /// The first PEM block in `text`.
    static func pemBlock(_ text: String, source: String?) throws -> PEMBlock {
        let p = prefix(source)
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard let begin = lines.firstIndex(where: { $0.hasPrefix("-----BEGIN ") && $0.hasSuffix("-----") }) else {
            throw KeyError("\(p)not a PEM key: no \"-----BEGIN ...-----\" line. Expected an Ed25519 key in "
                + "PEM form, as `openssl genpkey -algorithm ed25519` writes.")
        }
        let label = String(lines[begin].dropFirst("-----BEGIN ".count).dropLast(5))
        let endLine = "-----END \(label)-----"
        guard let end = lines[(begin + 1)...].firstIndex(of: endLine) else {
            throw KeyError("\(p)the PEM block \"\(label)\" has no \"\(endLine)\" line; the file is truncated.")
        }
        var headers: [String] = []
        var body = ""
        for line in lines[(begin + 1)..<end] where !line.isEmpty {
            if line.contains(":") { headers.append(line) } else { body += line }
        }
        guard let der = Data(base64Encoded: body), !der.isEmpty else {
            throw KeyError("\(p)the PEM block \"\(label)\" does not hold valid base64; the file is damaged.")
        }
        return PEMBlock(label: label, headers: headers, der: Array(der))
    }

    // MARK: DER

    struct DERNode {
        var tag: UInt8
        var content: ArraySlice<UInt8>
    }

    struct DERFailure: Error {}

    /// Splits `bytes` into consecutive DER TLVs (single-byte tags, definite lengths).
    static func derNodes(_ bytes: ArraySlice<UInt8>) throws -> [DERNode] {
        var nodes: [DERNode] = []
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let tag = bytes[i]
            guard tag & 0x1F != 0x1F else { throw DERFailure() }  // multi-byte tags: not in key formats
            i += 1
            guard i < bytes.endIndex else { throw DERFailure() }
            var length = Int(bytes[i])
            i += 1
            if length & 0x80 != 0 {
                let count = length & 0x7F
                guard count >= 1, count <= 4, bytes.endIndex - i >= count else { throw DERFailure() }
                length = 0
                for _ in 0..<count {
                    length = length << 8 | Int(bytes[i])
                    i += 1
                }
            }
            guard length >= 0, bytes.endIndex - i >= length else { throw DERFailure() }
            nodes.append(DERNode(tag: tag, content: bytes[i..<(i + length)]))
            i += length
        }
        return nodes
    }

    static func single(_ bytes: ArraySlice<UInt8>, tag: UInt8) throws -> DERNode {
        let nodes = try derNodes(bytes)
        guard nodes.count == 1, nodes[0].tag == tag else { throw DERFailure() }
        return nodes[0]
    }

    static let sequenceTag: UInt8 = 0x30
    static let oidTag: UInt8 = 0x06
    static let octetStringTag: UInt8 = 0x04
    static let bitStringTag: UInt8 = 0x03
    static let integerTag: UInt8 = 0x02

    /// A readable name for an algorithm OID (and EC curve OID, when given).
    static func algorithmName(oid: ArraySlice<UInt8>, parameters: DERNode?) -> String {
        switch Array(oid) {
        case [0x2B, 0x65, 0x70]: return "Ed25519"
        case [0x2B, 0x65, 0x71]: return "Ed448"
        case [0x2B, 0x65, 0x6E]: return "X25519"
        case [0x2B, 0x65, 0x6F]: return "X448"
        case [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01]: return "RSA"
        case [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0A]: return "RSA-PSS"
        case [0x2A, 0x86, 0x48, 0xCE, 0x38, 0x04, 0x01]: return "DSA"
        case [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]:
            if let parameters, parameters.tag == oidTag {
                return "EC " + curveName(parameters.content)
            }
            return "EC"
        default:
            return "unrecognised-algorithm (OID \(oidText(oid)))"
        }
    }

    /// "an RSA private key", "a DSA public key", "an X25519 private key (X25519 is for key agreement, not
    /// signing)", "a private key of an unrecognised algorithm (OID 1.2.3)".
    static func describeKey(_ kind: String, oid: ArraySlice<UInt8>, parameters: DERNode?) -> String {
        let name = algorithmName(oid: oid, parameters: parameters)
        if name.hasPrefix("unrecognised-algorithm") {
            return "a \(kind) key of an unrecognised algorithm (OID \(oidText(oid)))"
        }
        let article = name.hasPrefix("DSA") ? "a" : "an"  // RSA, EC, Ed448, X25519, X448: "an"
        let note = name.hasPrefix("X") ? " (\(name) is for key agreement, not signing)" : ""
        return "\(article) \(name) \(kind) key\(note)"
    }

    static func curveName(_ oid: ArraySlice<UInt8>) -> String {
        switch Array(oid) {
        case [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]: return "P-256"
        case [0x2B, 0x81, 0x04, 0x00, 0x22]: return "P-384"
        case [0x2B, 0x81, 0x04, 0x00, 0x23]: return "P-521"
        case [0x2B, 0x81, 0x04, 0x00, 0x0A]: return "secp256k1"
        default: return "(curve OID \(oidText(oid)))"
        }
    }

    static func oidText(_ oid: ArraySlice<UInt8>) -> String {
        guard let first = oid.first else { return "empty" }
        var parts = [String(min(Int(first) / 40, 2)), String(Int(first) - min(Int(first) / 40, 2) * 40)]
        var value = 0
        for b in oid.dropFirst() {
            value = value << 7 | Int(b & 0x7F)
            if b & 0x80 == 0 {
                parts.append(String(value))
                value = 0
            }
        }
        return parts.joined(separator: ".")
    }

    /// The algorithm OID and parameters of an AlgorithmIdentifier SEQUENCE.
    static func algorithmIdentifier(_ node: DERNode) throws -> (oid: ArraySlice<UInt8>, parameters: DERNode?) {
        guard node.tag == sequenceTag else { throw DERFailure() }
        let parts = try derNodes(node.content)
        guard let first = parts.first, first.tag == oidTag, parts.count <= 2 else { throw DERFailure() }
        return (first.content, parts.count == 2 ? parts[1] : nil)
    }

    /// The curve named inside a SEC1 "EC PRIVATE KEY" (its [0] parameters), if present.
    static func sec1Curve(_ der: [UInt8]) -> String? {
        guard let seq = try? single(der[...], tag: sequenceTag), let parts = try? derNodes(seq.content) else {
            return nil
        }
        for part in parts where part.tag == 0xA0 {
            if let oid = try? single(part.content, tag: oidTag) { return curveName(oid.content) }
        }
        return nil
    }

    static let howToMakeOne = "Use an Ed25519 key: `accelbench keygen --out DIR`, or `openssl genpkey -algorithm ed25519 -out FILE`."

    /// Refusals for PEM labels that are not PKCS#8 / SPKI, or nil when the label is one of those.
    static func refusal(for block: PEMBlock, wantPrivate: Bool, source: String?) -> KeyError? {
        let p = prefix(source)
        let file = source ?? "FILE"
        if block.headers.contains(where: { $0.hasPrefix("Proc-Type:") && $0.contains("ENCRYPTED") }) {
            return KeyError("\(p)the \(block.label) is encrypted with a passphrase. Decrypt it first: "
                + "`openssl pkey -in \(file) -out DECRYPTED.key` (then chmod 600 DECRYPTED.key).")
        }
        switch block.label {
        case "PRIVATE KEY", "PUBLIC KEY":
            return nil
        case "ENCRYPTED PRIVATE KEY":
            return KeyError("\(p)this is an encrypted private key (ENCRYPTED PRIVATE KEY); accelbench reads "
                + "unencrypted PKCS#8 keys. Decrypt it with `openssl pkey -in \(file) -out DECRYPTED.key` "
                + "(it asks for the passphrase), keep DECRYPTED.key at mode 0600, and use that.")
        case "RSA PRIVATE KEY", "RSA PUBLIC KEY":
            return KeyError("\(p)this is an RSA key (\(block.label)); capability records are signed with "
                + "Ed25519. \(howToMakeOne)")
        case "EC PRIVATE KEY":
            let curve = sec1Curve(block.der).map { " " + $0 } ?? ""
            return KeyError("\(p)this is an EC\(curve) key (EC PRIVATE KEY); capability records are signed "
                + "with Ed25519. \(howToMakeOne)")
        case "DSA PRIVATE KEY":
            return KeyError("\(p)this is a DSA key; capability records are signed with Ed25519. \(howToMakeOne)")
        case "OPENSSH PRIVATE KEY":
            return KeyError("\(p)this is an OpenSSH-format private key; accelbench reads PKCS#8 PEM keys "
                + "(-----BEGIN PRIVATE KEY-----). \(howToMakeOne)")
        case "CERTIFICATE":
            return KeyError("\(p)this is a certificate, not a key. "
                + (wantPrivate ? howToMakeOne : "Give the Ed25519 public key PEM (`openssl pkey -pubout`)."))
        default:
            return KeyError("\(p)unsupported PEM block \"\(block.label)\"; expected "
                + (wantPrivate ? "\"PRIVATE KEY\" (PKCS#8 Ed25519)." : "\"PUBLIC KEY\" or \"PRIVATE KEY\" (Ed25519)."))
        }
    }

    /// Parses a PKCS#8 PrivateKeyInfo; throws KeyError for non-Ed25519 algorithms.
    static func ed25519PrivateKey(pkcs8 der: [UInt8], source: String?) throws -> Curve25519.Signing.PrivateKey {
        let p = prefix(source)
        let damaged = KeyError("\(p)the PRIVATE KEY is not a valid PKCS#8 structure; the file is damaged.")
        let parts: [DERNode]
        let algorithm: (oid: ArraySlice<UInt8>, parameters: DERNode?)
        do {
            let seq = try single(der[...], tag: sequenceTag)
            parts = try derNodes(seq.content)
            guard parts.count >= 3, parts[0].tag == integerTag, parts[0].content.count == 1,
                  parts[0].content.first! <= 1 else { throw damaged }
            algorithm = try algorithmIdentifier(parts[1])
        } catch let error as KeyError {
            throw error
        } catch {
            throw damaged
        }
        guard Array(algorithm.oid) == ed25519OID else {
            throw KeyError("\(p)this is \(describeKey("private", oid: algorithm.oid, parameters: algorithm.parameters)); "
                + "capability records are signed with Ed25519. \(howToMakeOne)")
        }
        guard algorithm.parameters == nil, parts[2].tag == octetStringTag,
              let inner = try? single(parts[2].content, tag: octetStringTag), inner.content.count == 32,
              let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: inner.content)
        else { throw damaged }
        // PKCS#8 v2 (RFC 5958) may carry the public key as [1]; it must be this key's.
        for extra in parts.dropFirst(3) {
            switch extra.tag {
            case 0xA0: continue  // attributes
            case 0x81, 0xA1:
                var bits = extra.content
                if extra.tag == 0xA1 {
                    guard let b = try? single(extra.content, tag: bitStringTag) else { throw damaged }
                    bits = b.content
                }
                guard bits.first == 0, Array(bits.dropFirst()) == Array(key.publicKey.rawRepresentation) else {
                    throw KeyError("\(p)the PRIVATE KEY's embedded public key does not belong to its private "
                        + "key; the file is damaged or was tampered with.")
                }
            default:
                throw damaged
            }
        }
        return key
    }

    /// Parses a SubjectPublicKeyInfo; throws KeyError for non-Ed25519 algorithms.
    static func ed25519PublicKey(spki der: [UInt8], source: String?) throws -> RecordVerifyingKey {
        let p = prefix(source)
        let damaged = KeyError("\(p)the PUBLIC KEY is not a valid SubjectPublicKeyInfo; the file is damaged.")
        let parts: [DERNode]
        let algorithm: (oid: ArraySlice<UInt8>, parameters: DERNode?)
        do {
            let seq = try single(der[...], tag: sequenceTag)
            parts = try derNodes(seq.content)
            guard parts.count == 2 else { throw damaged }
            algorithm = try algorithmIdentifier(parts[0])
        } catch let error as KeyError {
            throw error
        } catch {
            throw damaged
        }
        guard Array(algorithm.oid) == ed25519OID else {
            throw KeyError("\(p)this is \(describeKey("public", oid: algorithm.oid, parameters: algorithm.parameters)); "
                + "capability records are verified with Ed25519 public keys.")
        }
        guard algorithm.parameters == nil, parts[1].tag == bitStringTag, parts[1].content.count == 33,
              parts[1].content.first == 0
        else { throw damaged }
        return RecordVerifyingKey(validatedRaw: Data(parts[1].content.dropFirst()))
    }

    static func privateKey(fromPEM text: String, source: String?) throws -> Curve25519.Signing.PrivateKey {
        let block = try pemBlock(text, source: source)
        if let refusal = refusal(for: block, wantPrivate: true, source: source) { throw refusal }
        if block.label == "PUBLIC KEY" {
            throw KeyError("\(prefix(source))this is a public key; signing needs the private key "
                + "(-----BEGIN PRIVATE KEY-----), e.g. accelbench.key rather than accelbench.pub.pem.")
        }
        return try ed25519PrivateKey(pkcs8: block.der, source: source)
    }

    static func publicKey(fromPEM text: String, source: String?) throws -> RecordVerifyingKey {
        let block = try pemBlock(text, source: source)
        if let refusal = refusal(for: block, wantPrivate: false, source: source) { throw refusal }
        if block.label == "PRIVATE KEY" {
            let key = try ed25519PrivateKey(pkcs8: block.der, source: source)
            return RecordVerifyingKey(validatedRaw: key.publicKey.rawRepresentation)
        }
        return try ed25519PublicKey(spki: block.der, source: source)
    }

    static func publicKey(fromHex text: String, source: String?) throws -> RecordVerifyingKey {
        let p = prefix(source)
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let utf8 = Array(trimmed.utf8)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        if let bad = utf8.firstIndex(where: { nibble($0) == nil }) {
            let shown = utf8.count > 80 ? "" : " (\"\(trimmed)\")"
            throw KeyError("\(p)not an Ed25519 public key: expected 64 hex digits (the raw 32-byte key) or a "
                + "PEM key, found a non-hex character at offset \(bad)\(shown).")
        }
        guard utf8.count == 64 else {
            throw KeyError("\(p)not an Ed25519 public key: expected 64 hex digits (32 bytes), found "
                + "\(utf8.count) hex digits.")
        }
        var raw = Data(capacity: 32)
        for i in stride(from: 0, to: 64, by: 2) {
            raw.append(nibble(utf8[i])! << 4 | nibble(utf8[i + 1])!)
        }
        return RecordVerifyingKey(validatedRaw: raw)
    }
}
