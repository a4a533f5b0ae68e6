import AccelBenchCore
import AccelBenchKernels
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory mapping of a whole file (the pages of a multi-GB model are read on demand).
final class GGUFMapping: @unchecked Sendable {
    let base: UnsafeRawPointer
    let size: Int

    init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw AccelBenchError(.io, "\(path): cannot open the model file (\(reason)); check the path and its permissions")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let reason = String(cString: strerror(errno))
            throw AccelBenchError(.io, "\(path): cannot stat the model file (\(reason))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw AccelBenchError(.io, "\(path): not a regular file; pass the path of a .gguf model file")
        }
        let size = Int(st.st_size)
        guard size > 0 else {
            throw AccelBenchError(.invalidArgument, "\(path): the file is empty, not a GGUF model; download or convert the model again")
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != UnsafeMutableRawPointer(bitPattern: -1) else {
            let reason = String(cString: strerror(errno))
            throw AccelBenchError(.io, "\(path): cannot map the model file into memory (\(reason))")
        }
        base = UnsafeRawPointer(p)
        self.size = size
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), size) }
}

/// A sequential little-endian reader over the mapping whose every failure names the file, the byte
/// offset and the item being read.
struct GGUFCursor {
    let base: UnsafeRawPointer
    let size: Int
    let path: String
    var position = 0

    func fail(_ message: String) -> AccelBenchError {
        AccelBenchError(.invalidArgument, "\(path): \(message)")
    }

    var remaining: Int { size - position }

    mutating func bytes(_ n: Int, _ what: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        guard n >= 0, n <= remaining else {
            throw fail(
                "truncated: \(what()) needs \(n) bytes at offset \(position) but the file ends at \(size) bytes;"
                    + " the file is incomplete or corrupt (download or convert it again)")
        }
        defer { position += n }
        return UnsafeRawBufferPointer(start: base + position, count: n)
    }

    mutating func load<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        let b = try bytes(MemoryLayout<T>.size, what())
        return T(littleEndian: b.loadUnaligned(as: T.self))
    }

    mutating func u32(_ what: @autoclosure () -> String) throws -> UInt32 { try load(UInt32.self, what()) }
    mutating func u64(_ what: @autoclosure () -> String) throws -> UInt64 { try load(UInt64.self, what()) }

    /// A u64 count that must fit in the rest of the file at `minimumBytes` each.
    mutating func count(_ what: @autoclosure () -> String, minimumBytes: Int) throws -> Int {
        let start = position
        let n = try u64("the \(what())")
        return try checkCount(n, what(), at: start, minimumBytes: minimumBytes)
    }

    /// `n` (read at `start`) as an Int, when the rest of the file can hold `n` items of `minimumBytes`.
    func checkCount(_ n: UInt64, _ what: @autoclosure () -> String, at start: Int, minimumBytes: Int) throws -> Int {
        let limit = UInt64(max(0, remaining) / max(1, minimumBytes))
        guard n <= limit else {
            throw fail(
                "the \(what()) at offset \(start) is \(n), more than the \(remaining) remaining bytes can hold;"
                    + " the file is truncated, corrupt or not a GGUF file (download or convert it again)")
        }
        return Int(n)
    }

    mutating func string(_ what: @autoclosure () -> String) throws -> String {
        let start = position
        let length = try u64("the length of \(what())")
        guard length <= UInt64(remaining) else {
            throw fail(
                "truncated: \(what()) at offset \(start) claims \(length) bytes but only \(remaining) remain;"
                    + " the file is incomplete or corrupt (download or convert it again)")
        }
        let b = try bytes(Int(length), what())
        guard let s = String(validating: b, as: UTF8.self) else {
            throw fail("\(what()) at offset \(start) is not valid UTF-8; the file is corrupt")
        }
        return s
    }

    mutating func value(_ type: GGUFValueType, key: String, depth: Int = 0) throws -> GGUFValue {
        let what = "the value of metadata key '\(key)'"
        switch type {
        case .uint8: return .uint8(try load(UInt8.self, what))
        case .int8: return .int8(try load(Int8.self, what))
        case .uint16: return .uint16(try load(UInt16.self, what))
        case .int16: return .int16(try load(Int16.self, what))
        case .uint32: return .uint32(try load(UInt32.self, what))
        case .int32: return .int32(try load(Int32.self, what))
        case .uint64: return .uint64(try load(UInt64.self, what))
        case .int64: return .int64(try load(Int64.self, what))
        case .float32: return .float32(Float(bitPattern: try load(UInt32.self, what)))
        case .float64: return .float64(Double(bitPattern: try load(UInt64.self, what)))
        case .bool:
            let start = position
            let b = try load(UInt8.self, what)
            guard b <= 1 else { throw fail("\(what) at offset \(start) is a bool stored as \(b) (expected 0 or 1); the file is corrupt") }
            return .bool(b == 1)
        case .string: return .string(try string(what))
        case .array:
            guard depth < GGUF.maxArrayDepth else {
                throw fail("\(what) nests arrays more than \(GGUF.maxArrayDepth) deep; the file is corrupt")
            }
            let typeOffset = position
            let raw = try u32("the element type of \(what)")
            guard let elementType = GGUFValueType(rawValue: raw) else {
                throw fail("\(what) is an array of unknown value type \(raw) (offset \(typeOffset)); the file is corrupt or newer than this reader")
            }
            let n = try count("element count of \(what)", minimumBytes: elementType.minimumEncodedBytes)
            var elements: [GGUFValue] = []
            elements.reserveCapacity(n)
            for _ in 0..<n { elements.append(try value(elementType, key: key, depth: depth + 1)) }
            return .array(elementType, elements)
        }
    }
}

/// A GGUF model file (version 2 or 3), memory-mapped. `init` validates the whole header, metadata and
/// tensor table (every tensor's data must lie aligned inside the file without overlapping another);
/// tensor data is read on demand by `quantizedMatrix`, `floats` and `withTensorBytes`.
///
/// Sendable invariant (why `@unchecked` is sound): every stored property is immutable and the mapping
/// is read-only.
public final class GGUFFile: @unchecked Sendable {
    /// The path as given to `init` (the prefix of every error message).
    public let path: String
    public let version: UInt32
    public let fileSize: Int
    /// `general.alignment` (default 32).
    public let alignment: Int
    /// File offset of the data section (the tensor offsets are relative to it).
    public let dataOffset: Int
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    public let metadata: [String: GGUFValue]
    /// The tensor table in file order.
    public let tensors: [GGUFTensorInfo]

    private let mapping: GGUFMapping
    private let tensorIndex: [String: Int]

    public init(path: String) throws {
        self.path = path
        mapping = try GGUFMapping(path: path)
        fileSize = mapping.size
        var c = GGUFCursor(base: mapping.base, size: mapping.size, path: path)

        // Header
        let magic = try c.u32("the GGUF magic")
        guard magic == GGUF.magic else {
            let shown = withUnsafeBytes(of: magic.littleEndian) { b in
                b.map { (0x20..<0x7f).contains($0) ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }.joined()
            }
            throw c.fail("not a GGUF file: it starts with \"\(shown)\", not \"GGUF\"; pass a .gguf model (convert other formats with llama.cpp's convert_hf_to_gguf.py)")
        }
        version = try c.u32("the GGUF version")
        guard GGUF.supportedVersions.contains(version) else {
            throw c.fail("GGUF version \(version) is not supported; accelbench reads versions 2 and 3 (convert the model again with a current llama.cpp)")
        }
        // A tensor info takes at least 24 bytes (name length, n_dims, type, offset); a key/value 13.
        let rawTensorCount = try c.u64("the tensor count")
        let rawKVCount = try c.u64("the metadata key/value count")
        let tensorCount = try c.checkCount(rawTensorCount, "tensor count", at: 8, minimumBytes: 24)
        let kvCount = try c.checkCount(rawKVCount, "metadata key/value count", at: 16, minimumBytes: 13)

        // Metadata
        var keys: [String] = []
        var metadata: [String: GGUFValue] = [:]
        keys.reserveCapacity(kvCount)
        for i in 0..<kvCount {
            let key = try c.string("metadata key #\(i)")
            let typeOffset = c.position
            let raw = try c.u32("the value type of metadata key '\(key)'")
            guard let type = GGUFValueType(rawValue: raw) else {
                throw c.fail("metadata key '\(key)' has unknown value type \(raw) (offset \(typeOffset)); the file is corrupt or newer than this reader")
            }
            guard metadata[key] == nil else {
                throw c.fail("metadata key '\(key)' appears twice; the file is corrupt")
            }
            metadata[key] = try c.value(type, key: key)
            keys.append(key)
        }
        metadataKeys = keys
        self.metadata = metadata

        var alignment = GGUF.defaultAlignment
        if let value = metadata["general.alignment"] {
            guard let a = value.intValue, a > 0, a & (a - 1) == 0, a <= 1 << 30 else {
                throw c.fail("general.alignment is \(value) (\(value.type)); it must be a power of two (u32, normally 32); the file is corrupt")
            }
            alignment = a
        }
        self.alignment = alignment

        // Tensor infos
        var infos: [(name: String, dims: [Int], type: GGMLType, offset: UInt64)] = []
        infos.reserveCapacity(tensorCount)
        var index: [String: Int] = [:]
        for i in 0..<tensorCount {
            let name = try c.string("the name of tensor #\(i)")
            let nDims = try c.u32("the dimension count of tensor '\(name)'")
            guard nDims <= GGUF.maxDimensions else {
                throw c.fail("tensor '\(name)' has \(nDims) dimensions; GGUF allows at most \(GGUF.maxDimensions); the file is corrupt")
            }
            var dims: [Int] = []
            for d in 0..<Int(nDims) {
                let ne = try c.u64("dimension \(d) of tensor '\(name)'")
                guard ne <= UInt64(Int64.max) else {
                    throw c.fail("tensor '\(name)' has dimension \(d) = \(ne), which is not a valid size; the file is corrupt")
                }
                dims.append(Int(ne))
            }
            let type = GGMLType(rawValue: try c.u32("the type of tensor '\(name)'"))
            let offset = try c.u64("the data offset of tensor '\(name)'")
            guard index[name] == nil else {
                throw c.fail("tensor name '\(name)' appears twice in the tensor table; the file is corrupt")
            }
            index[name] = i
            infos.append((name, dims, type, offset))
        }

        // Data section
        let (padded, overflow) = c.position.addingReportingOverflow(alignment - 1)
        guard !overflow else { throw c.fail("the tensor table is too large") }
        dataOffset = padded / alignment * alignment
        let dataBytes = fileSize - dataOffset  // negative when the file ends inside the padding

        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(infos.count)
        for info in infos {
            let shape = "[\(info.dims.map(String.init).joined(separator: ", "))]"
            guard let layout = info.type.blockLayout else {
                throw c.fail(
                    "tensor '\(info.name)' has unknown ggml type \(info.type.rawValue); the file is corrupt or uses a type newer than accelbench knows;"
                        + " accelbench reads F32, F16, Q8_0 and Q4_0 tensors (convert the model with llama-quantize to q8_0 or q4_0)")
            }
            if layout.elements > 1, (info.dims.first ?? 1) % layout.elements != 0 {
                throw c.fail("tensor '\(info.name)' (\(info.type.name), shape \(shape)) has a row length that is not a multiple of the \(info.type.name) block size \(layout.elements); the file is corrupt")
            }
            guard let byteCount = info.type.byteCount(dims: info.dims) else {
                throw c.fail("tensor '\(info.name)' has shape \(shape), whose size overflows; the file is corrupt")
            }
            guard info.offset % UInt64(alignment) == 0 else {
                throw c.fail("tensor '\(info.name)' has data offset \(info.offset), not a multiple of the file's alignment \(alignment) (general.alignment); the file is corrupt")
            }
            guard info.offset <= UInt64(max(0, dataBytes)), UInt64(byteCount) <= UInt64(max(0, dataBytes)) - info.offset else {
                throw c.fail(
                    "tensor '\(info.name)' (\(info.type.name), shape \(shape), \(byteCount) bytes at data offset \(info.offset)) ends past the end of the file"
                        + " (data section: \(max(0, dataBytes)) bytes from offset \(dataOffset)); the file is truncated or corrupt (download or convert it again)")
            }
            tensors.append(GGUFTensorInfo(name: info.name, dims: info.dims, type: info.type, offset: Int(info.offset), byteCount: byteCount))
        }
        // No two tensors may share bytes.
        let byOffset = tensors.filter { $0.byteCount > 0 }.sorted { $0.offset < $1.offset }
        for (a, b) in zip(byOffset, byOffset.dropFirst()) where a.offset + a.byteCount > b.offset {
            throw c.fail(
                "tensors '\(a.name)' (data offset \(a.offset), \(a.byteCount) bytes) and '\(b.name)' (data offset \(b.offset)) overlap; the file is corrupt")
        }
        self.tensors = tensors
        tensorIndex = index
    }

    // MARK: Metadata

    public func value(_ key: String) -> GGUFValue? { metadata[key] }
    /// An integer metadata value of any width (nil when absent, not an integer, or out of Int's range).
    public func int(_ key: String) -> Int? { metadata[key]?.intValue }
    public func string(_ key: String) -> String? { metadata[key]?.stringValue }
    /// A float (f32 or f64) or integer metadata value as a Double.
    public func float(_ key: String) -> Double? { metadata[key]?.doubleValue }

    /// `general.architecture` ("llama", "qwen2", ...).
    public var architecture: String? { string("general.architecture") }

    /// The length of `tokenizer.ggml.tokens`, else ne[1] of `token_embd.weight` or `output.weight`.
    public var vocabularySize: Int? {
        if let tokens = metadata["tokenizer.ggml.tokens"]?.arrayValue { return tokens.count }
        for name in ["token_embd.weight", "output.weight"] {
            if let i = tensorIndex[name], tensors[i].dims.count >= 2 { return tensors[i].dims[1] }
        }
        return nil
    }

    private func required(_ key: String, _ kind: String) -> AccelBenchError {
        if let v = metadata[key] {
            return AccelBenchError(.invalidArgument, "\(path): metadata key '\(key)' is \(v) (\(v.type)), not \(kind); the file does not describe a model accelbench can run")
        }
        return AccelBenchError(.invalidArgument, "\(path): metadata key '\(key)' is missing; accelbench needs it to run a llama-family model (convert the model with a current llama.cpp)")
    }

    private func requiredInt(_ key: String) throws -> Int {
        guard let v = int(key) else { throw required(key, "an integer") }
        guard v > 0 else {
            throw AccelBenchError(.invalidArgument, "\(path): metadata key '\(key)' is \(v); it must be positive")
        }
        return v
    }

    /// The llama-family hyperparameters under `\(general.architecture).*`.
    public func llamaHyperparameters() throws -> GGUFLlamaHyperparameters {
        guard let arch = architecture else { throw required("general.architecture", "a string") }
        let embedding = try requiredInt("\(arch).embedding_length")
        let blocks = try requiredInt("\(arch).block_count")
        let heads = try requiredInt("\(arch).attention.head_count")
        let kvHeads = metadata["\(arch).attention.head_count_kv"] == nil ? heads : try requiredInt("\(arch).attention.head_count_kv")
        let ffn = try requiredInt("\(arch).feed_forward_length")
        let context = try requiredInt("\(arch).context_length")
        var freqBase = 10000.0
        if metadata["\(arch).rope.freq_base"] != nil {
            guard let f = float("\(arch).rope.freq_base") else { throw required("\(arch).rope.freq_base", "a number") }
            freqBase = f
        }
        guard let eps = float("\(arch).attention.layer_norm_rms_epsilon") else {
            throw required("\(arch).attention.layer_norm_rms_epsilon", "a number")
        }
        guard let vocab = vocabularySize, vocab > 0 else {
            throw AccelBenchError(.invalidArgument, "\(path): cannot tell the vocabulary size: no tokenizer.ggml.tokens metadata and no token_embd.weight or output.weight tensor")
        }
        guard embedding % heads == 0, heads % kvHeads == 0 else {
            throw AccelBenchError(.invalidShape, "\(path): \(arch).embedding_length \(embedding) must be a multiple of head_count \(heads), and head_count a multiple of head_count_kv \(kvHeads)")
        }
        return GGUFLlamaHyperparameters(
            architecture: arch, embeddingLength: embedding, blockCount: blocks, headCount: heads, headCountKV: kvHeads,
            feedForwardLength: ffn, contextLength: context, ropeFreqBase: freqBase, rmsNormEpsilon: eps, vocabularySize: vocab)
    }

    // MARK: Tensors

    /// The table entry of tensor `name`.
    public func tensor(_ name: String) throws -> GGUFTensorInfo {
        if let i = tensorIndex[name] { return tensors[i] }
        let few = tensors.prefix(5).map { "'\($0.name)'" }.joined(separator: ", ")
        let more = tensors.count > 5 ? ", ... (\(tensors.count) in all)" : ""
        let listing = tensors.isEmpty ? "the file has no tensors" : "it has \(few)\(more)"
        throw AccelBenchError(.invalidArgument, "\(path): no tensor named '\(name)'; \(listing); is this the model (and architecture) accelbench expects?")
    }

    /// Calls `body` with the raw bytes of tensor `name` (valid only during the call).
    public func withTensorBytes<R>(_ name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let info = try tensor(name)
        return try withExtendedLifetime(mapping) {
            try body(UnsafeRawBufferPointer(start: mapping.base + dataOffset + info.offset, count: info.byteCount))
        }
    }

    private func unsupported(_ info: GGUFTensorInfo, wanted: String) -> AccelBenchError {
        if info.type.isReadable {
            return AccelBenchError(
                .invalidArgument,
                "\(path): tensor '\(info.name)' has type \(info.type), but accelbench needs it as \(wanted);"
                    + " convert the model with llama-quantize to q8_0 or q4_0")
        }
        return AccelBenchError(
            .invalidArgument,
            "\(path): tensor '\(info.name)' has type \(info.type); accelbench reads F32, F16, Q8_0 and Q4_0 tensors;"
                + " convert the model with llama-quantize to q8_0 or q4_0")
    }

    /// A Q8_0 / Q4_0 weight of `rows` output features x `columns` input features (GGUF shape
    /// [columns, rows], trailing dimensions of 1 allowed), copied out of the file.
    public func quantizedMatrix(_ name: String, rows: Int, columns: Int) throws -> QuantizedMatrix {
        let info = try tensor(name)
        guard let format = info.type.quantFormat else { throw unsupported(info, wanted: "Q8_0 or Q4_0") }
        let found = info.dims
        let trailingOnes = found.count <= 2 || found[2...].allSatisfy { $0 == 1 }
        guard found.count >= 2, trailingOnes, found[0] == columns, found[1] == rows else {
            throw AccelBenchError(
                .invalidShape,
                "\(path): tensor '\(name)' has shape [\(found.map(String.init).joined(separator: ", "))] (ne0 = columns first);"
                    + " expected [\(columns), \(rows)] (\(rows) rows x \(columns) columns); the model's hyperparameters do not match its tensors")
        }
        // The base address is never nil: the buffer starts inside the mapping even when empty.
        return try withTensorBytes(name) { QuantizedMatrix(format: format, rows: rows, columns: columns, ggufBlocks: $0.baseAddress!) }
    }

    /// The values of an F32 or F16 tensor (all elements, ne[0] fastest).
    public func floats(_ name: String) throws -> [Float] {
        let info = try tensor(name)
        let count = info.elementCount
        switch info.type {
        case .f32:
            return try withTensorBytes(name) { bytes in
                [Float](unsafeUninitializedCapacity: count) { out, n in
                    for i in 0..<count {
                        out[i] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                    }
                    n = count
                }
            }
        case .f16:
            return try withTensorBytes(name) { bytes in
                [Float](unsafeUninitializedCapacity: count) { out, n in
                    for i in 0..<count {
                        out[i] = QuantFormat.float(fp16: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                    }
                    n = count
                }
            }
        default:
            throw unsupported(info, wanted: "F32 or F16")
        }
    }
}
