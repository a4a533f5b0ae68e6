/// The problem size of a case, as the user writes it on the command line.
///
/// Each workload has its own syntax: matmul uses `MxNxK` (C = A x B with A: MxK, B: KxN), STREAM uses
/// `KERNEL:ELEMENTS` with an optional binary suffix (`triad:16M` = 16 x 2^20 doubles per array),
/// attention the tokens of `AttentionShape` (`b1:h32:kvh8:q2048:kv2048:d128:causal`).
public enum Shape: Hashable, Codable, Sendable, CustomStringConvertible {
    case matmul(m: Int, n: Int, k: Int)
    case stream(kernel: StreamKernel, elements: Int)
    case attention(AttentionShape)
    /// Quantized matrix product Y (N x M) = X (N x K) · Wᵀ, W quantized M x K (M outputs, N tokens,
    /// K inputs), with the weights cache-resident (`hot`) or streamed from memory (`cold`).
    case quantized(m: Int, n: Int, k: Int, residency: WeightResidency)
    /// One model step (`LLMShape`): prefill or generation, tokens per second.
    case llm(LLMShape)

    public var description: String {
        switch self {
        case let .matmul(m, n, k): "\(m)x\(n)x\(k)"
        case let .stream(kernel, elements): "\(kernel.rawValue):\(Shape.formatCount(elements))"
        case let .attention(shape): shape.description
        case let .quantized(m, n, k, residency): "\(m)x\(n)x\(k):\(residency.rawValue)"
        case let .llm(shape): shape.description
        }
    }

    /// Parses `MxNxK`: three positive integers separated by `x`.
    public static func parseMatmul(_ text: String) throws -> Shape {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw AccelBenchError(
                .invalidShape,
                "matmul shape '\(text)' is not MxNxK (three sizes separated by 'x', e.g. 1024x1024x1024)")
        }
        var dims: [Int] = []
        for (name, part) in zip(["M", "N", "K"], parts) {
            guard let value = Int(part) else {
                throw AccelBenchError(.invalidShape, "matmul shape '\(text)': \(name) = '\(part)' is not an integer")
            }
            guard value > 0 else {
                throw AccelBenchError(.invalidShape, "matmul shape '\(text)': \(name) must be >= 1, got \(value)")
            }
            dims.append(value)
        }
        return .matmul(m: dims[0], n: dims[1], k: dims[2])
    }

    /// Parses an element count: an integer with an optional K/M/G suffix (powers of 2).
    public static func parseCount(_ text: String, context: String) throws -> Int {
        var digits = Substring(text)
        var scale = 1
        if let last = digits.last, let power = ["k": 10, "m": 20, "g": 30][last.lowercased()] {
            scale = 1 << power
            digits = digits.dropLast()
        }
        guard let value = Int(digits), value > 0, value <= Int.max / scale else {
            throw AccelBenchError(
                .invalidShape,
                "\(context): '\(text)' is not a positive element count (e.g. 16777216 or 16M = 16 x 2^20 elements)")
        }
        return value * scale
    }

    public static func formatCount(_ value: Int) -> String {
        for (suffix, power) in [("G", 30), ("M", 20), ("K", 10)] where value >= 1 << power && value % (1 << power) == 0 {
            return "\(value >> power)\(suffix)"
        }
        return "\(value)"
    }
}

/// Where a memory-bound case's weights live while it is timed.
public enum WeightResidency: String, Codable, Sendable, CaseIterable {
    /// The same weights every call: after the first they come from the caches (when they fit).
    case hot
    /// Calls rotate through enough copies of the weights to exceed the last-level cache 4x, so every
    /// call streams its weights from DRAM.
    case cold
}
