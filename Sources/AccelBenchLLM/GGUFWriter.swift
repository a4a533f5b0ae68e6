import AccelBenchCore
import AccelBenchKernels
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of an encoded GGUF file and where its parts lie (tests use the positions to corrupt
/// a file at a chosen spot).
public struct GGUFEncoding: Sendable {
    public var bytes: [UInt8]
    /// End of the 24-byte header = start of the metadata.
    public var headerEnd: Int
    /// End of the metadata = start of the tensor infos.
    public var metadataEnd: Int
    /// File offset of each tensor info (in the order added).
    public var tensorInfoStarts: [Int]
    /// File offset of each tensor info's u64 data-offset field.
    public var tensorOffsetFields: [Int]
    /// End of the tensor infos (before the alignment padding).
    public var tensorInfoEnd: Int
    /// Start of the data section.
    public var dataOffset: Int
}

/// Builds a GGUF v3 file: metadata in the order set, tensors in the order added, each tensor's data at
/// a multiple of `alignment` from the start of the data section (zero padding).
public struct GGUFWriter: Sendable {
    public let alignment: Int
    public private(set) var metadataKeys: [String] = []
    public private(set) var metadata: [String: GGUFValue] = [:]
    public private(set) var tensors: [(name: String, dims: [Int], type: GGMLType, bytes: [UInt8])] = []

    /// `alignment` (a power of two) is written as `general.alignment` (u32) when it is not 32.
    public init(alignment: Int = GGUF.defaultAlignment) throws {
        guard alignment > 0, alignment & (alignment - 1) == 0, alignment <= 1 << 30 else {
            throw AccelBenchError(.invalidArgument, "GGUFWriter: alignment \(alignment) is not a power of two; use 32 (the GGUF default) or another power of two")
        }
        self.alignment = alignment
        if alignment != GGUF.defaultAlignment { set("general.alignment", .uint32(UInt32(alignment))) }
    }

    /// Sets (or replaces) metadata key `key`.
    public mutating func set(_ key: String, _ value: GGUFValue) {
        if metadata.updateValue(value, forKey: key) == nil { metadataKeys.append(key) }
    }

    /// Adds a tensor from its raw bytes (`dims` in GGUF order: ne[0], the contiguous dimension,
    /// first; a weight matrix of `rows x columns` is `[columns, rows]`). Any type ggml defines is
    /// accepted (tests write types accelbench does not read).
    public mutating func addTensor(_ name: String, dims: [Int], type: GGMLType, bytes: [UInt8]) throws {
        guard !tensors.contains(where: { $0.name == name }) else {
            throw AccelBenchError(.invalidArgument, "GGUFWriter: tensor '\(name)' was added twice")
        }
        guard dims.count <= GGUF.maxDimensions else {
            throw AccelBenchError(.invalidShape, "GGUFWriter: tensor '\(name)' has \(dims.count) dimensions; GGUF allows at most \(GGUF.maxDimensions)")
        }
        guard let expected = type.byteCount(dims: dims) else {
            throw AccelBenchError(
                .invalidShape,
                "GGUFWriter: tensor '\(name)' of type \(type) cannot have shape \(dims) (unknown type, negative dimension, or ne[0] not a whole number of blocks)")
        }
        guard bytes.count == expected else {
            throw AccelBenchError(.invalidShape, "GGUFWriter: tensor '\(name)' (\(type.name), shape \(dims)) needs \(expected) bytes, got \(bytes.count)")
        }
        tensors.append((name, dims, type, bytes))
    }

    /// Adds an F32 tensor.
    public mutating func addF32(_ name: String, dims: [Int], values: [Float]) throws {
        try addTensor(name, dims: dims, type: .f32, bytes: GGUFWriter.f32Bytes(values))
    }

    /// Adds an F16 tensor (values rounded to binary16, nearest even).
    public mutating func addF16(_ name: String, dims: [Int], values: [Float]) throws {
        try addTensor(name, dims: dims, type: .f16, bytes: GGUFWriter.f16Bytes(values))
    }

    /// Adds a `rows x columns` Q8_0 / Q4_0 weight (GGUF shape [columns, rows]) quantized from
    /// row-major `values`.
    public mutating func addQuantized(_ name: String, format: QuantFormat, rows: Int, columns: Int, values: [Float]) throws {
        guard values.count == rows * columns, columns % QuantFormat.blockElements == 0 else {
            throw AccelBenchError(.invalidShape, "GGUFWriter: tensor '\(name)': \(values.count) values for \(rows) x \(columns) (columns must be a multiple of 32)")
        }
        try addTensor(name, dims: [columns, rows], type: GGMLType(format), bytes: format.quantize(values))
    }

    /// Adds the GGUF blocks of `matrix` (GGUF shape [columns, rows]).
    public mutating func addMatrix(_ name: String, _ matrix: QuantizedMatrix) throws {
        let bytes = [UInt8](UnsafeRawBufferPointer(start: matrix.blocks, count: matrix.byteCount))
        try addTensor(name, dims: [matrix.columns, matrix.rows], type: GGMLType(matrix.format), bytes: bytes)
    }

    public static func f32Bytes(_ values: [Float]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        return out
    }

    public static func f16Bytes(_ values: [Float]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 2)
        for v in values { withUnsafeBytes(of: QuantFormat.fp16(v).littleEndian) { out.append(contentsOf: $0) } }
        return out
    }

    // MARK: Encoding

    private struct Sink {
        var bytes: [UInt8] = []
        mutating func int<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
        mutating func string(_ s: String) {
            int(UInt64(s.utf8.count))
            bytes.append(contentsOf: s.utf8)
        }
        mutating func pad(to alignment: Int) {
            let n = (alignment - bytes.count % alignment) % alignment
            bytes.append(contentsOf: repeatElement(0, count: n))
        }
        mutating func value(_ v: GGUFValue, key: String) throws {
            switch v {
            case .uint8(let x): int(x)
            case .int8(let x): int(x)
            case .uint16(let x): int(x)
            case .int16(let x): int(x)
            case .uint32(let x): int(x)
            case .int32(let x): int(x)
            case .uint64(let x): int(x)
            case .int64(let x): int(x)
            case .float32(let x): int(x.bitPattern)
            case .float64(let x): int(x.bitPattern)
            case .bool(let x): int(UInt8(x ? 1 : 0))
            case .string(let s): string(s)
            case .array(let type, let elements):
                int(type.rawValue)
                int(UInt64(elements.count))
                for e in elements {
                    guard e.type == type else {
                        throw AccelBenchError(.invalidArgument, "GGUFWriter: metadata '\(key)' is an array of \(type) holding a \(e.type) element (\(e))")
                    }
                    try value(e, key: key)
                }
            }
        }
    }

    /// The file's bytes and layout.
    public func encoded() throws -> GGUFEncoding {
        if let a = metadata["general.alignment"], a != .uint32(UInt32(alignment)) {
            throw AccelBenchError(.invalidArgument, "GGUFWriter: general.alignment is set to \(a) but the writer aligns to \(alignment); pass the alignment to init instead")
        }
        var s = Sink()
        s.int(GGUF.magic)
        s.int(GGUF.writerVersion)
        s.int(UInt64(tensors.count))
        s.int(UInt64(metadataKeys.count))
        let headerEnd = s.bytes.count
        for key in metadataKeys {
            let v = metadata[key]!
            s.string(key)
            s.int(v.type.rawValue)
            try s.value(v, key: key)
        }
        let metadataEnd = s.bytes.count
        var infoStarts: [Int] = []
        var offsetFields: [Int] = []
        var offset = 0
        for t in tensors {
            infoStarts.append(s.bytes.count)
            s.string(t.name)
            s.int(UInt32(t.dims.count))
            for d in t.dims { s.int(UInt64(d)) }
            s.int(t.type.rawValue)
            offsetFields.append(s.bytes.count)
            s.int(UInt64(offset))
            offset += (t.bytes.count + alignment - 1) / alignment * alignment
        }
        let tensorInfoEnd = s.bytes.count
        s.pad(to: alignment)
        let dataOffset = s.bytes.count
        s.bytes.reserveCapacity(dataOffset + offset)
        for t in tensors {
            s.bytes.append(contentsOf: t.bytes)
            s.pad(to: alignment)
        }
        return GGUFEncoding(
            bytes: s.bytes, headerEnd: headerEnd, metadataEnd: metadataEnd, tensorInfoStarts: infoStarts,
            tensorOffsetFields: offsetFields, tensorInfoEnd: tensorInfoEnd, dataOffset: dataOffset)
    }

    /// Writes the file atomically: the bytes go to a temporary file in the same directory, which is
    /// then renamed over `path` (a reader never sees a partial file).
    public func write(to path: String) throws {
        try GGUFWriter.writeAtomically(try encoded().bytes, to: path)
    }

    /// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let temp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try Data(bytes).write(to: temp)
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw AccelBenchError(.io, "\(path): cannot write the model file (\(error.localizedDescription)); check that the directory exists and is writable")
        }
        guard rename(temp.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temp)
            throw AccelBenchError(.io, "\(path): cannot move the written file into place (\(reason))")
        }
    }
}
