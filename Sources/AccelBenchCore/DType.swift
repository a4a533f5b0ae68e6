/// Element types of a case. `fp32` and `bf16` are matmul input types; `fp64` is the STREAM element type
/// and the reference type; for attention the dtype is the KV cache's (`fp32` or `fp16`; Q and O are fp32),
/// written `kv=f16` on the command line.
public enum DType: String, CaseIterable, Codable, Sendable, Comparable {
    case fp64
    case fp32
    case bf16
    case fp16
    /// GGUF Q8_0 weights: blocks of 32 int8 + one fp16 scale (34 bytes per 32 weights).
    case q8_0
    /// GGUF Q4_0 weights: blocks of 32 4-bit values (offset 8) + one fp16 scale (18 bytes per 32).
    case q4_0
    /// int8 weights with a per-output-channel fp32 scale, times int8 activations with a per-token scale
    /// (symmetric absmax); the integer dot is exact.
    case w8a8

    public var bytes: Int {
        switch self {
        case .fp64: 8
        case .fp32: 4
        case .bf16, .fp16: 2
        case .q8_0, .q4_0, .w8a8: 1
        }
    }

    /// Parses a user's dtype name (case-insensitive; `f32`/`float32` are accepted for `fp32`, and so on).
    public static func parse(_ text: String) throws -> DType {
        var key = text.lowercased()
        // Attention names the KV cache's type: `kv=f16`.
        if key.hasPrefix("kv=") { key.removeFirst(3) }
        let aliases: [String: DType] = [
            "fp64": .fp64, "f64": .fp64, "float64": .fp64, "double": .fp64,
            "fp32": .fp32, "f32": .fp32, "float32": .fp32, "float": .fp32,
            "bf16": .bf16, "bfloat16": .bf16,
            "fp16": .fp16, "f16": .fp16, "float16": .fp16, "half": .fp16,
            "q8_0": .q8_0, "q4_0": .q4_0, "w8a8": .w8a8, "int8": .w8a8,
        ]
        guard let dtype = aliases[key] else {
            throw AccelBenchError(
                .invalidDType,
                "unknown dtype '\(text)'; valid dtypes: \(DType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return dtype
    }

    /// Storage of `elements` values in this type, bytes (block formats include their scales).
    public func storageBytes(elements: Double) -> Double {
        switch self {
        case .q8_0: elements * 34 / 32
        case .q4_0: elements * 18 / 32
        default: elements * Double(bytes)
        }
    }

    public static func < (lhs: DType, rhs: DType) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
