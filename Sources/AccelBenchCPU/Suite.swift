import AccelBenchCore

/// The named suites: which workloads, shapes, dtypes and backends `accelbench run` measures when the
/// user does not say, and how strictly it samples.
public enum Suite: String, CaseIterable, Codable, Sendable {
    /// Under two minutes after the build: the ceilings, two fp32 GEMM shapes and one bf16 shape.
    case quick
    /// Every shape the GEMM targets are stated for, bf16, and the STREAM kernels.
    case standard
    /// As standard, with stricter sampling and larger shapes.
    case full

    public struct Entry: Sendable, Equatable {
        public var workload: Workload
        public var dtype: DType
        public var backends: [String]
        public var shapes: [String]
    }

    public var rule: StoppingRule {
        switch self {
        case .quick: .quick
        case .standard: .standard
        case .full: .full
        }
    }

    public static let awkwardShapes = ["1000x1000x1000", "4096x512x4096", "512x4096x4096", "4096x64x4096", "77x4096x333"]

    public var entries: [Entry] {
        switch self {
        case .quick:
            return [
                Entry(workload: .matmul, dtype: .fp32, backends: ["swift-simd", "openblas"], shapes: ["1024x1024x1024", "4096x512x4096"]),
                Entry(workload: .matmul, dtype: .bf16, backends: ["bf16", "openblas"], shapes: ["4096x512x4096"]),
            ]
        case .standard:
            return [
                Entry(
                    workload: .matmul, dtype: .fp32, backends: ["swift-simd", "openblas"],
                    shapes: ["1024x1024x1024", "2048x2048x2048", "4096x4096x4096"] + Suite.awkwardShapes),
                Entry(workload: .matmul, dtype: .bf16, backends: ["bf16", "openblas"], shapes: ["4096x512x4096", "2048x2048x2048"]),
                Entry(workload: .matmul, dtype: .fp32, backends: ["reference", "swift-simd"], shapes: ["64x64x64"]),
            ]
        case .full:
            return [
                Entry(
                    workload: .matmul, dtype: .fp32, backends: ["swift-simd", "openblas"],
                    shapes: ["256x256x256", "512x512x512", "1024x1024x1024", "2048x2048x2048", "4096x4096x4096", "8192x8192x2048"]
                        + Suite.awkwardShapes),
                Entry(
                    workload: .matmul, dtype: .bf16, backends: ["bf16", "openblas"],
                    shapes: ["1024x1024x1024", "4096x512x4096", "2048x2048x2048", "4096x4096x4096"]),
                Entry(workload: .matmul, dtype: .fp32, backends: ["reference", "swift-simd"], shapes: ["64x64x64", "127x65x33"]),
            ]
        }
    }
}
