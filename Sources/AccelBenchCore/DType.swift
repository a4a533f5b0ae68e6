/// Element types of a case. `fp32` and `bf16` are matmul input types; `fp64` is the STREAM element type
/// and the reference type; for attention the dtype is the KV cache's (`fp32` or `fp16`; Q and O are fp32),
/// written `kv=f16` on the command line.
public enum DType: String, CaseIterable, Codable, Sendable, Comparable {
    case fp64
    case fp32
    case bf16
    case fp16

    public var bytes: Int {
        switch self {
        case .fp64: 8
        case .fp32: 4
        case .bf16, .fp16: 2
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
        ]
        guard let dtype = aliases[key] else {
            throw AccelBenchError(
                .invalidDType,
                "unknown dtype '\(text)'; valid dtypes: \(DType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return dtype
    }

    public static func < (lhs: DType, rhs: DType) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
