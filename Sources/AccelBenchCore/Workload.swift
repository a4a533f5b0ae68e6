/// What a case computes. Each workload declares its shape syntax, its dtypes and the rule that turns a
/// shape into work (FLOPs or bytes), so throughput is always "declared work / time".
public enum Workload: String, CaseIterable, Codable, Sendable {
    /// C = A x B, row-major. Work: 2·M·N·K FLOPs (no credit for fast algorithms).
    case matmul
    /// STREAM copy/scale/add/triad and a read-only stream over arrays of doubles. Work: the STREAM byte
    /// rule (write-allocate traffic not counted).
    case stream
    /// O = softmax(Q·Kᵀ·scale [+ causal mask])·V with grouped-query heads, prefill and decode. Work:
    /// 4·b·h·d FLOPs per unmasked (query, key) pair; decode cases also report K+V bytes read.
    case attention
    /// Quantized GEMV for decode (N = 1...16 tokens): Y = X·Wᵀ with W in q8_0 or q4_0, activations
    /// quantized inside the timed call. Work: 2·M·N·K; also weight bytes read per second.
    case qgemv
    /// Quantized GEMM for prefill (N tokens, typically 32-512), as qgemv.
    case qgemm

    /// A decoder-only transformer (synthetic weights in q8_0 or q4_0): prefill tokens/s (`ppN`) and
    /// generation tokens/s at a context depth (`tgN:dD`), as llama-bench reports them.
    case llm

    /// Tokens up to which a quantized product counts as a GEMV.
    public static let qgemvMaxTokens = 16

    public var summary: String {
        switch self {
        case .matmul: "C = A x B, row-major, shapes MxNxK; throughput in GFLOPS by the 2·M·N·K rule"
        case .stream:
            "STREAM copy/scale/add/triad and read-only stream on fp64 arrays, shapes KERNEL:ELEMENTS or ELEMENTS; GB/s by the STREAM byte rule"
        case .attention:
            "softmax(Q·Kᵀ/√d [+causal])·V, GQA; shapes b1:h32:kvh8:q2048:kv2048:d128:causal or MODEL:prefillN / MODEL:decodeN; dtype = KV cache (kv=f32, kv=f16); GFLOPS by 4·b·h·d per unmasked pair, decode also KV GB/s"
        case .qgemv:
            "quantized GEMV Y = X·Wᵀ (W: MxK in q8_0/q4_0/w8a8, N <= 16 tokens; X quantized in the timed call), shapes MxNxK[:hot|:cold] (both when not given); GFLOPS by 2·M·N·K and weight GB/s"
        case .llm:
            "decoder-only transformer step (RMSNorm, QKV, RoPE, fused attention on a KV cache, SwiGLU, logits), synthetic q8_0/q4_0 weights or a GGUF file's (--weights, model gguf); shapes MODEL:ppN or MODEL:tgN[:dD][:layersN][:vocabN]; tokens/s and implied weight GB/s"
        case .qgemm:
            "quantized GEMM Y = X·Wᵀ (W: MxK in q8_0/q4_0/w8a8, N tokens; X quantized in the timed call), shapes MxNxK; GFLOPS by 2·M·N·K (int8 ops for w8a8) and weight GB/s"
        }
    }

    public var dtypes: [DType] {
        switch self {
        case .matmul: [.fp32, .bf16]
        case .stream: [.fp64]
        case .attention: [.fp32, .fp16]
        case .qgemv, .qgemm: [.q8_0, .q4_0, .w8a8]
        case .llm: [.q4_0, .q8_0]
        }
    }

    public var defaultDType: DType {
        switch self {
        case .matmul: .fp32
        case .stream: .fp64
        case .attention: .fp32
        case .qgemv, .qgemm, .llm: .q4_0
        }
    }

    public var unit: ThroughputUnit {
        switch self {
        case .matmul: .gflops
        case .stream: .gbytesPerSecond
        case .attention, .qgemv, .qgemm: .gflops
        case .llm: .tokensPerSecond
        }
    }

    /// Parses a workload name, listing the valid ones when it is unknown.
    public static func parse(_ text: String) throws -> Workload {
        guard let workload = Workload(rawValue: text.lowercased()) else {
            throw AccelBenchError(
                .unknownWorkload,
                "unknown workload '\(text)'; valid workloads: \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return workload
    }

    /// Parses a shape in this workload's syntax. A STREAM shape without a kernel name expands to all five
    /// kernels.
    public func parseShapes(_ text: String) throws -> [Shape] {
        switch self {
        case .matmul:
            return [try Shape.parseMatmul(text)]
        case .stream:
            let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
            if parts.count == 2 {
                guard let kernel = StreamKernel(rawValue: parts[0].lowercased()) else {
                    throw AccelBenchError(
                        .invalidShape,
                        "stream shape '\(text)': unknown kernel '\(parts[0])'; valid kernels: \(StreamKernel.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                return [.stream(kernel: kernel, elements: try Shape.parseCount(parts[1], context: "stream shape '\(text)'"))]
            }
            let elements = try Shape.parseCount(text, context: "stream shape '\(text)'")
            return StreamKernel.allCases.map { .stream(kernel: $0, elements: elements) }
        case .attention:
            return [.attention(try AttentionShape.parse(text))]
        case .llm:
            return [.llm(try LLMShape.parse(text))]
        case .qgemv, .qgemm:
            let parts = text.lowercased().split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count <= 2 else {
                throw AccelBenchError(.invalidShape, "\(rawValue) shape '\(text)' is not MxNxK[:hot|:cold]")
            }
            guard case let .matmul(m, n, k) = try Shape.parseMatmul(parts[0]) else { return [] }
            if k % 32 != 0 {
                throw AccelBenchError(
                    .invalidShape, "\(rawValue) shape '\(text)': K = \(k) must be a multiple of 32 (the quantization block)")
            }
            if self == .qgemv && n > Workload.qgemvMaxTokens {
                throw AccelBenchError(
                    .invalidShape,
                    "qgemv shape '\(text)': N = \(n) tokens is a GEMM; qgemv takes N <= \(Workload.qgemvMaxTokens) (use --workload qgemm)")
            }
            var residencies = WeightResidency.allCases
            if parts.count == 2 {
                guard let r = WeightResidency(rawValue: parts[1]) else {
                    throw AccelBenchError(
                        .invalidShape, "\(rawValue) shape '\(text)': '\(parts[1])' is not hot or cold")
                }
                residencies = [r]
            } else if self == .qgemm {
                residencies = [.hot]
            }
            if self == .qgemm && residencies == [.cold] {
                throw AccelBenchError(
                    .invalidShape, "qgemm shape '\(text)': a GEMM reuses its weights across tokens; cold is for qgemv")
            }
            return residencies.map { .quantized(m: m, n: n, k: k, residency: $0) }
        }
    }

    /// The declared work of one call.
    public func work(_ shape: Shape, dtype: DType) -> Work {
        switch shape {
        case let .matmul(m, n, k):
            return Work(amount: 2 * Double(m) * Double(n) * Double(k), kind: .flops, rule: "2·M·N·K")
        case let .stream(kernel, elements):
            return Work(
                amount: Double(kernel.bytesPerElement) * Double(elements), kind: .bytes,
                rule: "STREAM: \(kernel.bytesPerElement) B/element (\(kernel.formula))")
        case let .attention(a):
            return Work(
                amount: a.flops, kind: .flops,
                rule: a.causal ? "4·b·h·d per unmasked (query, key) pair (causal: masked pairs not counted)" : "4·b·h·q·kv·d")
        case let .quantized(m, n, k, _):
            return Work(
                amount: 2 * Double(m) * Double(n) * Double(k), kind: .flops,
                rule: dtype == .w8a8 ? "2·M·N·K (int8 operations)" : "2·M·N·K")
        case let .llm(l):
            return Work(
                amount: Double(l.tokens), kind: .tokens,
                rule: l.mode == .pp ? "prompt tokens processed in one batch per call" : "tokens generated one step at a time per call")
        }
    }

    /// Bytes of a quantized weight matrix (M x K) in `dtype`, scales included.
    public static func weightBytes(m: Int, k: Int, dtype: DType) -> Double {
        dtype.storageBytes(elements: Double(m) * Double(k)) + (dtype == .w8a8 ? 4 * Double(m) : 0)
    }

    /// A second measure of the same call, for cases judged by memory traffic as well: decode attention
    /// reads its whole KV cache per call, so it also reports the unique K+V bytes read per second.
    public func secondaryWork(_ shape: Shape, dtype: DType) -> Work? {
        if case let .quantized(m, _, k, residency) = shape {
            return Work(
                amount: Workload.weightBytes(m: m, k: k, dtype: dtype), kind: .bytes,
                rule: "weight bytes read once per call (\(dtype.rawValue), scales included; \(residency.rawValue))")
        }
        guard case let .attention(a) = shape, a.isDecode else { return nil }
        return Work(
            amount: a.kvBytes(elementBytes: dtype.bytes), kind: .bytes,
            rule: "K+V bytes read once per call: 2·b·kvh·kv·d·\(dtype.bytes) B (shared by the \(a.groupSize) query heads of each KV head)")
    }

    /// How the dtype reads in reports: attention's dtype is its KV cache's (`kv=fp16`).
    public func dtypeLabel(_ dtype: DType) -> String {
        self == .attention ? "kv=\(dtype.rawValue)" : dtype.rawValue
    }

    /// Bytes of the buffers a case of this shape allocates (inputs, outputs and the float64 data the
    /// correctness check keeps), for refusing shapes that do not fit in free memory.
    public func bufferBytes(_ shape: Shape, dtype: DType) -> Int {
        switch shape {
        case let .matmul(m, n, k):
            let inputs = (m * k + k * n) * dtype.bytes
            let inputsAsFloat = dtype == .fp32 ? 0 : (m * k + k * n) * 4
            return inputs + inputsAsFloat + m * n * 4
        case let .stream(kernel, elements):
            return kernel.arrays * elements * 8
        case let .attention(a):
            // Q and O in fp32, K and V in the KV type.
            return 2 * a.queryElements * 4 + 2 * a.kvElements * dtype.bytes
        case let .quantized(m, n, k, _):
            // X and Y in fp32, the weights, and the float64 check's dequantized copy of them as fp32.
            return (n * k + n * m) * 4 + Int(Workload.weightBytes(m: m, k: k, dtype: dtype)) + m * k * 4
        case .llm:
            // The model's size depends on its preset; the backend checks it against free memory.
            return 0
        }
    }
}

/// The STREAM kernels. Arrays are fp64; bytes per element follow the STREAM rule.
public enum StreamKernel: String, CaseIterable, Codable, Sendable {
    case copy, scale, add, triad, read

    public var formula: String {
        switch self {
        case .copy: "c = a"
        case .scale: "b = q·c"
        case .add: "c = a + b"
        case .triad: "a = b + q·c"
        case .read: "sum += a (read-only)"
        }
    }

    public var bytesPerElement: Int {
        switch self {
        case .copy, .scale: 16
        case .add, .triad: 24
        case .read: 8
        }
    }

    /// Arrays the kernel touches.
    public var arrays: Int {
        switch self {
        case .copy, .scale: 2
        case .add, .triad: 3
        case .read: 1
        }
    }
}

public enum ThroughputUnit: String, Codable, Sendable {
    case gflops = "GFLOPS"
    case gbytesPerSecond = "GB/s"
    case tokensPerSecond = "tok/s"

    /// The unit a throughput of this kind of work is given in.
    public init(measuring kind: Work.Kind) {
        switch kind {
        case .flops: self = .gflops
        case .bytes: self = .gbytesPerSecond
        case .tokens: self = .tokensPerSecond
        }
    }

    /// Throughput in this unit for `work` done in `seconds`.
    public func value(work: Work, seconds: Double) -> Double {
        self == .tokensPerSecond ? work.amount / seconds : work.amount / seconds / 1e9
    }

    /// The unit of this throughput per watt (work per joule): GFLOPS/W, GB/s per W, tok/J.
    public var perWatt: String {
        switch self {
        case .gflops: "GFLOPS/W"
        case .gbytesPerSecond: "GB/s/W"
        case .tokensPerSecond: "tok/J"
        }
    }
}

/// The declared work of one kernel call and the rule it was counted by.
public struct Work: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case flops, bytes, tokens }
    public var amount: Double
    public var kind: Kind
    public var rule: String

    public init(amount: Double, kind: Kind, rule: String) {
        self.amount = amount
        self.kind = kind
        self.rule = rule
    }
}
