/// Element types of a case. `fp32` and `bf16` are the matmul input types of the foundation suite;
/// `fp64` is the STREAM element type and the reference type.
public enum DType: String, CaseIterable, Codable, Sendable, Comparable {
    case fp64
    case fp32
    case bf16

    public var bytes: Int {
        switch self {
        case .fp64: 8
        case .fp32: 4
        case .bf16: 2
        }
    }

    /// Parses a user's dtype name (case-insensitive; `f32`/`float32` are accepted for `fp32`, and so on).
    public static func parse(_ text: String) throws -> DType {
        let key = text.lowercased()
        let aliases: [String: DType] = [
            "fp64": .fp64, "f64": .fp64, "float64": .fp64, "double": .fp64,
            "fp32": .fp32, "f32": .fp32, "float32": .fp32, "float": .fp32,
            "bf16": .bf16, "bfloat16": .bf16,
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
