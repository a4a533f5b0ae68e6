import AccelBenchCore

/// The named suites: which workloads, shapes, dtypes and backends `accelbench run` measures when the
/// user does not say, and how strictly it samples.
public enum Suite: String, CaseIterable, Codable, Sendable {
    /// A few minutes after the build: the ceilings, two fp32 GEMM shapes, one bf16 shape, one attention
    /// prefill (fp32) and one decode (fp16 KV) case.
    case quick
    /// Every shape the GEMM targets are stated for, bf16, the attention model presets and a decode sweep
    /// over the KV length.
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

    /// Decode against a growing KV cache: the curve of KV GB/s against the cache length.
    public static let decodeSweep = ["1k", "2k", "4k", "8k", "16k", "32k"].map { "llama3-8b:decode\($0)" }
    /// Prefill at the model presets, plus the non-causal shape peers publish (h32 d128 q = kv = 2048).
    public static let prefillPresets = [
        "b1:h32:q2048:kv2048:d128", "llama3-8b:prefill2048", "qwen2.5-7b:prefill2048", "llama3.2-1b:prefill2048",
    ]
    /// Tiny attention shapes the float64 reference runs too: ragged tiles, GQA, causal with q < kv.
    public static let tinyAttention = ["b2:h4:kvh2:q33:kv77:d64:causal", "b1:h8:kvh2:q3:kv300:d80:causal"]

    /// Decode GEMVs: a 4096² projection and Llama-3-8B's FFN down projection (4096 x 14336), each hot
    /// (cache-resident) and cold (streamed from DRAM).
    public static let qgemvShapes = ["4096x1x4096", "4096x1x14336"]

    /// llama-bench's pp512 / tg128 on its synthetic test model: Llama-3-8B shapes, 4 layers, 32000 tokens.
    public static let llamaBenchShapes = ["llama3-8b:pp512:layers4:vocab32000", "llama3-8b:tg128:layers4:vocab32000"]

    public static let awkwardShapes = ["1000x1000x1000", "4096x512x4096", "512x4096x4096", "4096x64x4096", "77x4096x333"]

    public var entries: [Entry] {
        switch self {
        case .quick:
            return [
                Entry(workload: .matmul, dtype: .fp32, backends: ["swift-simd", "openblas"], shapes: ["1024x1024x1024", "4096x512x4096"]),
                Entry(workload: .matmul, dtype: .bf16, backends: ["bf16", "openblas"], shapes: ["4096x512x4096"]),
                Entry(workload: .attention, dtype: .fp32, backends: ["swift-simd", "openblas"], shapes: ["llama3-8b:prefill1024"]),
                Entry(workload: .attention, dtype: .fp16, backends: ["swift-simd", "openblas"], shapes: ["llama3-8b:decode8192"]),
                Entry(workload: .qgemv, dtype: .q4_0, backends: ["quant"], shapes: ["4096x1x4096"]),
            ]
        case .standard:
            return [
                Entry(
                    workload: .matmul, dtype: .fp32, backends: ["swift-simd", "openblas"],
                    shapes: ["1024x1024x1024", "2048x2048x2048", "4096x4096x4096"] + Suite.awkwardShapes),
                Entry(workload: .matmul, dtype: .bf16, backends: ["bf16", "openblas"], shapes: ["4096x512x4096", "2048x2048x2048"]),
                Entry(workload: .matmul, dtype: .fp32, backends: ["reference", "swift-simd"], shapes: ["64x64x64"]),
                Entry(workload: .attention, dtype: .fp32, backends: ["swift-simd", "openblas"], shapes: Suite.prefillPresets + ["llama3-8b:decode8192"]),
                Entry(workload: .attention, dtype: .fp16, backends: ["swift-simd", "openblas"], shapes: ["llama3-8b:prefill2048"] + Suite.decodeSweep + ["qwen2.5-7b:decode8192"]),
                Entry(workload: .attention, dtype: .fp32, backends: ["reference", "swift-simd"], shapes: Suite.tinyAttention),
                Entry(workload: .qgemv, dtype: .q4_0, backends: ["quant"], shapes: Suite.qgemvShapes),
                Entry(workload: .qgemv, dtype: .q8_0, backends: ["quant"], shapes: Suite.qgemvShapes),
                Entry(workload: .qgemm, dtype: .q4_0, backends: ["quant"], shapes: ["4096x512x4096"]),
                Entry(workload: .qgemm, dtype: .q8_0, backends: ["quant"], shapes: ["4096x512x4096"]),
                Entry(workload: .qgemv, dtype: .w8a8, backends: ["quant"], shapes: ["4096x1x4096"]),
                Entry(workload: .qgemm, dtype: .w8a8, backends: ["quant"], shapes: ["4096x512x4096"]),
                Entry(workload: .llm, dtype: .q4_0, backends: ["swift-llm"], shapes: Suite.llamaBenchShapes),
                Entry(workload: .llm, dtype: .q8_0, backends: ["swift-llm"], shapes: Suite.llamaBenchShapes),
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
                Entry(
                    workload: .attention, dtype: .fp32, backends: ["swift-simd", "openblas"],
                    shapes: Suite.prefillPresets + ["llama3-8b:prefill4096", "b1:h32:q4096:kv4096:d128", "llama3-8b:decode8192", "llama3-8b:decode8192:q4"]),
                Entry(
                    workload: .attention, dtype: .fp16, backends: ["swift-simd", "openblas"],
                    shapes: ["llama3-8b:prefill2048"] + Suite.decodeSweep
                        + ["qwen2.5-7b:decode8192", "llama3.2-1b:decode32k", "b1:h8:kvh8:decode8192:d128", "llama3-8b:decode8192:q8"]),
                Entry(workload: .attention, dtype: .fp32, backends: ["reference", "swift-simd"], shapes: Suite.tinyAttention),
                Entry(workload: .attention, dtype: .fp16, backends: ["reference", "swift-simd"], shapes: Suite.tinyAttention),
                Entry(workload: .qgemv, dtype: .q4_0, backends: ["quant"], shapes: Suite.qgemvShapes + ["4096x4x4096"]),
                Entry(workload: .qgemv, dtype: .q8_0, backends: ["quant"], shapes: Suite.qgemvShapes + ["4096x4x4096"]),
                Entry(workload: .qgemm, dtype: .q4_0, backends: ["quant"], shapes: ["4096x32x4096", "4096x512x4096", "14336x512x4096"]),
                Entry(workload: .qgemm, dtype: .q8_0, backends: ["quant"], shapes: ["4096x32x4096", "4096x512x4096", "14336x512x4096"]),
                Entry(workload: .qgemv, dtype: .w8a8, backends: ["quant"], shapes: Suite.qgemvShapes),
                Entry(workload: .qgemm, dtype: .w8a8, backends: ["quant"], shapes: ["4096x512x4096", "14336x512x4096"]),
                Entry(workload: .llm, dtype: .q4_0, backends: ["swift-llm"], shapes: Suite.llamaBenchShapes + ["llama3-8b:tg128:d128"]),
                Entry(workload: .llm, dtype: .q8_0, backends: ["swift-llm"], shapes: Suite.llamaBenchShapes),
            ]
        }
    }
}
