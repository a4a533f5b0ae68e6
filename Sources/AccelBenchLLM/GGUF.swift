import AccelBenchCore
import AccelBenchKernels

// GGUF (ggml's model file format, versions 2 and 3): the shared vocabulary of the reader
// (GGUFFile.swift) and the writer (GGUFWriter.swift).
//
// Layout (little-endian): "GGUF" magic, u32 version, u64 tensor count, u64 metadata count; the
// metadata key/value pairs; the tensor infos (name, u32 n_dims, u64 ne[n_dims] with ne[0] the
// contiguous dimension, u32 ggml type, u64 offset relative to the data section); zero padding up to
// the next multiple of `general.alignment` (default 32); the data section.

/// Constants of the format.
public enum GGUF {
    /// "GGUF" read as a little-endian u32.
    public static let magic: UInt32 = 0x4655_4747
    /// The versions this reader accepts (v1 used 32-bit counts and is long obsolete).
    public static let supportedVersions: ClosedRange<UInt32> = 2...3
    /// The version the writer emits.
    public static let writerVersion: UInt32 = 3
    /// The alignment of the data section and of every tensor when `general.alignment` is absent.
    public static let defaultAlignment = 32
    /// ggml's GGML_MAX_DIMS.
    public static let maxDimensions = 4
    /// Deepest nesting of metadata arrays the reader follows (real files use 1).
    public static let maxArrayDepth = 8
}

/// The type tag of a metadata value (gguf_type).
public enum GGUFValueType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// Smallest encoding of one value of this type (used to reject absurd array counts).
    var minimumEncodedBytes: Int {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64, .string: 8
        case .array: 12
        }
    }

    public var description: String {
        switch self {
        case .uint8: "u8"
        case .int8: "i8"
        case .uint16: "u16"
        case .int16: "i16"
        case .uint32: "u32"
        case .int32: "i32"
        case .float32: "f32"
        case .bool: "bool"
        case .string: "string"
        case .array: "array"
        case .uint64: "u64"
        case .int64: "i64"
        case .float64: "f64"
        }
    }
}

/// A metadata value. Arrays carry their element type so an empty array keeps it; the elements of an
/// `.array(.array, ...)` are themselves `.array` values (each with its own element type).
public indirect enum GGUFValue: Sendable, Equatable, CustomStringConvertible {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    case array(GGUFValueType, [GGUFValue])
    case uint64(UInt64)
    case int64(Int64)
    case float64(Double)

    public var type: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .float32: .float32
        case .bool: .bool
        case .string: .string
        case .array: .array
        case .uint64: .uint64
        case .int64: .int64
        case .float64: .float64
        }
    }

    /// The value as an Int when it is an integer of any width that fits (nil otherwise).
    public var intValue: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(exactly: v)
        default: nil
        }
    }

    /// The value as a Double when it is a float or an integer (nil otherwise).
    public var doubleValue: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        case .uint64(let v): Double(v)
        case .int64(let v): Double(v)
        default: intValue.map(Double.init)
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The elements when the value is an array.
    public var arrayValue: [GGUFValue]? {
        if case .array(_, let elements) = self { return elements }
        return nil
    }

    public var description: String {
        switch self {
        case .uint8(let v): "\(v)"
        case .int8(let v): "\(v)"
        case .uint16(let v): "\(v)"
        case .int16(let v): "\(v)"
        case .uint32(let v): "\(v)"
        case .int32(let v): "\(v)"
        case .float32(let v): "\(v)"
        case .bool(let v): "\(v)"
        case .string(let s): "\"\(s)\""
        case .array(let t, let e):
            e.count <= 8
                ? "[\(e.map(\.description).joined(separator: ", "))]"
                : "[\(t) x \(e.count)]"
        case .uint64(let v): "\(v)"
        case .int64(let v): "\(v)"
        case .float64(let v): "\(v)"
        }
    }
}

/// A ggml tensor type id. Any id can be represented (files carry types accelbench does not read);
/// `blockLayout` knows the storage of every type ggml defines so that the table can be bounds-checked.
public struct GGMLType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let f32 = GGMLType(rawValue: 0)
    public static let f16 = GGMLType(rawValue: 1)
    public static let q4_0 = GGMLType(rawValue: 2)
    public static let q8_0 = GGMLType(rawValue: 8)
    public static let q5_K = GGMLType(rawValue: 13)
    public static let q6_K = GGMLType(rawValue: 14)
    public static let bf16 = GGMLType(rawValue: 30)

    /// The four types accelbench loads.
    public static let readable: [GGMLType] = [.f32, .f16, .q8_0, .q4_0]

    /// ggml's name, elements per block, bytes per block (ggml.c type_traits).
    private static let table: [UInt32: (name: String, elements: Int, bytes: Int)] = [
        0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20),
        6: ("Q5_0", 32, 22), 7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 36),
        10: ("Q2_K", 256, 84), 11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144), 13: ("Q5_K", 256, 176),
        14: ("Q6_K", 256, 210), 15: ("Q8_K", 256, 292), 16: ("IQ2_XXS", 256, 66), 17: ("IQ2_XS", 256, 74),
        18: ("IQ3_XXS", 256, 98), 19: ("IQ1_S", 256, 50), 20: ("IQ4_NL", 32, 18), 21: ("IQ3_S", 256, 110),
        22: ("IQ2_S", 256, 82), 23: ("IQ4_XS", 256, 136), 24: ("I8", 1, 1), 25: ("I16", 1, 2),
        26: ("I32", 1, 4), 27: ("I64", 1, 8), 28: ("F64", 1, 8), 29: ("IQ1_M", 256, 56),
        30: ("BF16", 1, 2), 34: ("TQ1_0", 256, 54), 35: ("TQ2_0", 256, 66), 39: ("MXFP4", 32, 17),
    ]

    /// ggml's name ("Q8_0"), or "type N" for an id ggml does not define (as far as accelbench knows).
    public var name: String { GGMLType.table[rawValue]?.name ?? "type \(rawValue)" }

    /// Elements per block and bytes per block; nil for an unknown id.
    public var blockLayout: (elements: Int, bytes: Int)? {
        GGMLType.table[rawValue].map { ($0.elements, $0.bytes) }
    }

    /// Whether accelbench can load tensors of this type.
    public var isReadable: Bool { GGMLType.readable.contains(self) }

    /// The kernel format of a Q8_0 / Q4_0 tensor.
    public var quantFormat: QuantFormat? {
        switch self {
        case .q8_0: .q8_0
        case .q4_0: .q4_0
        default: nil
        }
    }

    public init(_ format: QuantFormat) {
        switch format {
        case .q8_0: self = .q8_0
        case .q4_0: self = .q4_0
        }
    }

    /// "Q5_K (13)".
    public var description: String { "\(name) (\(rawValue))" }

    /// Bytes of a tensor with `dims` (ne order) of this type; nil when the type is unknown, a
    /// dimension is negative, ne[0] is not a whole number of blocks, or the size overflows.
    public func byteCount(dims: [Int]) -> Int? {
        guard let (elements, bytes) = blockLayout, dims.allSatisfy({ $0 >= 0 }) else { return nil }
        var count = 1
        for d in dims {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            if o { return nil }
            count = p
        }
        if let first = dims.first, first % elements != 0 { return nil }
        let (b, o) = (count / elements).multipliedReportingOverflow(by: bytes)
        return o ? nil : b
    }
}

/// One entry of the tensor table.
public struct GGUFTensorInfo: Sendable, Equatable, CustomStringConvertible {
    public let name: String
    /// ne[0], ne[1], ...: ne[0] is the contiguous dimension (a weight matrix is [columns, rows]).
    public let dims: [Int]
    public let type: GGMLType
    /// Offset of the data relative to the start of the data section.
    public let offset: Int
    /// Bytes of the data.
    public let byteCount: Int

    public init(name: String, dims: [Int], type: GGMLType, offset: Int, byteCount: Int) {
        self.name = name
        self.dims = dims
        self.type = type
        self.offset = offset
        self.byteCount = byteCount
    }

    /// Product of the dimensions.
    public var elementCount: Int { dims.reduce(1, *) }

    /// "blk.0.attn_q.weight Q8_0 [4096, 4096]".
    public var description: String { "\(name) \(type.name) [\(dims.map(String.init).joined(separator: ", "))]" }
}

/// Llama-family hyperparameters (llama, mistral, qwen2, ...: the keys under the architecture name).
public struct GGUFLlamaHyperparameters: Sendable, Equatable {
    public var architecture: String
    public var embeddingLength: Int
    public var blockCount: Int
    public var headCount: Int
    /// `attention.head_count_kv`, or `headCount` when absent (no grouped-query attention).
    public var headCountKV: Int
    public var feedForwardLength: Int
    public var contextLength: Int
    /// `rope.freq_base`, or 10000 when absent (llama.cpp's default).
    public var ropeFreqBase: Double
    public var rmsNormEpsilon: Double
    public var vocabularySize: Int

    public init(
        architecture: String, embeddingLength: Int, blockCount: Int, headCount: Int, headCountKV: Int,
        feedForwardLength: Int, contextLength: Int, ropeFreqBase: Double, rmsNormEpsilon: Double,
        vocabularySize: Int
    ) {
        self.architecture = architecture
        self.embeddingLength = embeddingLength
        self.blockCount = blockCount
        self.headCount = headCount
        self.headCountKV = headCountKV
        self.feedForwardLength = feedForwardLength
        self.contextLength = contextLength
        self.ropeFreqBase = ropeFreqBase
        self.rmsNormEpsilon = rmsNormEpsilon
        self.vocabularySize = vocabularySize
    }

    /// embeddingLength / headCount.
    public var headDim: Int { embeddingLength / headCount }
}
