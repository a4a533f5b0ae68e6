import AccelBenchCore
import AccelBenchKernels
import Foundation

/// The `llm` workload on our kernels: a decoder-only transformer, one session with a KV cache, prefill
/// and generation timed as llama-bench times them (pp: a prompt in one batch from an empty cache; tg:
/// tokens one step at a time from a context depth). A preset's shape (`llama3-8b:tg128`) runs
/// synthetic, seeded q8_0 / q4_0 weights; the model `gguf` (`gguf:tg128`) runs the weights of the
/// GGUF file the backend was given (`--weights`), in the file's format.
public struct LLMBackend: Backend {
    public let name = "swift-llm"
    public let summary = "decoder-only transformer on our kernels (quantized GEMM/GEMV, fused attention), synthetic weights or a GGUF file (--weights)"
    public let capabilities: [Workload: [DType]] = [.llm: [.q4_0, .q8_0]]
    /// Bytes of free memory the backend may use; nil: ask the OS.
    let availableMemory: @Sendable () -> Int
    /// The model `gguf:` shapes run (nil: no file given).
    public let model: GGUFModel?

    /// Forces the instruction set of the attention kernels and the quantized GEMM path (nil: the best
    /// this CPU runs).
    public let isa: CPUISA?

    public init(availableMemory: @escaping @Sendable () -> Int = LLMBackend.freeMemory, model: GGUFModel? = nil,
                isa: CPUISA? = nil) {
        self.availableMemory = availableMemory
        self.model = model
        self.isa = isa
    }

    /// The llm dtype of a weight format.
    public static func dtype(_ format: QuantFormat) -> DType {
        switch format {
        case .q8_0: .q8_0
        case .q4_0: .q4_0
        }
    }

    /// MemAvailable from /proc/meminfo (Int.max where it cannot be read).
    @Sendable public static func freeMemory() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return Int.max }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            if let kb = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) { return kb * 1024 }
        }
        return Int.max
    }

    /// The model a shape runs: a preset (with its layer and vocabulary overrides) or, for `gguf:`
    /// shapes, the file's (its first `layersN` layers; its vocabulary cannot change).
    func config(_ shape: LLMShape) throws -> ModelConfig {
        if shape.model == LLMShape.fileModel {
            guard let model else {
                throw AccelBenchError(.invalidArgument, "llm shape \(shape) runs the model of a GGUF file; pass it with --weights FILE.gguf")
            }
            if let vocab = shape.vocab {
                throw AccelBenchError(
                    .invalidArgument,
                    "llm shape \(shape): the vocabulary of \(model.file.path) is its own (\(model.config.vocab)), it cannot be \(vocab); drop vocab\(vocab)")
            }
            return try model.config(layers: shape.layers)
        }
        let config = try ModelConfig.named(shape.model).with(layers: shape.layers, vocab: shape.vocab)
        try config.validate()
        return config
    }

    public func unsupportedReason(_ spec: CaseSpec) -> String? {
        guard case let .llm(shape) = spec.shape, spec.dtype == .q4_0 || spec.dtype == .q8_0 else {
            return "swift-llm runs the llm workload in q4_0 and q8_0"
        }
        if let isa, !isa.isSupported || !QuantizedGEMMPlan.Path(isa: isa).isSupported {
            return "this CPU cannot run the \(isa.rawValue) kernels"
        }
        let config: ModelConfig
        do {
            config = try self.config(shape)
        } catch {
            return "\(error)"
        }
        if shape.model == LLMShape.fileModel, let model, LLMBackend.dtype(model.format) != spec.dtype {
            return "the weights of \(model.file.path) are \(model.format.rawValue), not \(spec.dtype.rawValue); run gguf: shapes with --dtype \(model.format.rawValue)"
        }
        let format: QuantFormat = spec.dtype == .q8_0 ? .q8_0 : .q4_0
        // GGUF blocks plus the repacked copy the kernels read, plus the fp32 KV cache.
        let needed = 2 * config.weightBytes(format: format) + config.kvCacheBytes(context: shape.depth + shape.tokens + 8)
        let available = availableMemory()
        if needed > available * 9 / 10 {
            return "\(shape) in \(spec.dtype.rawValue) needs about \(Format.bytes(needed)) (weights, their repacked copy, KV cache), more than the \(Format.bytes(available)) available; use --layers to run fewer layers"
        }
        return nil
    }

    public func prepare(_ spec: CaseSpec, context: CaseContext) throws -> any PreparedCase {
        guard case let .llm(shape) = spec.shape else { throw AccelBenchError(.unsupportedCase, "swift-llm: not an llm shape") }
        let config = try self.config(shape)
        if shape.model == LLMShape.fileModel, let model {
            let weights = try model.weights(layers: config.layers)
            return try LLMCase(shape: shape, weights: weights, pool: context.pool, seed: context.seed, origin: model.origin, isa: isa)
        }
        let format: QuantFormat = spec.dtype == .q8_0 ? .q8_0 : .q4_0
        let weights = try ModelWeights.synthetic(config: config, format: format, seed: context.seed, pool: context.pool)
        return try LLMCase(shape: shape, weights: weights, pool: context.pool, seed: context.seed, origin: "synthetic weights", isa: isa)
    }
}

/// One llm case. `run` is a pp or tg call; the check compares its last logits with the same tokens
/// computed another way through the KV cache (pp: the prompt in two halves; tg: the generated tokens
/// in one batch at the same depth), which catches cache, mask and position errors (a wrong position
/// or mask moves the logits by tens of percent). The two ways differ in fp32 summation order, and the
/// q8_0 re-quantization of every matrix input turns a 1e-7 difference into a whole quantization step
/// for the elements it flips, so they agree only to the q8_0 activation bound (3e-2 relative L2, the
/// bound the model tests hold the step to against float64). The float64 reference of the whole step
/// is in the tests (tiny models): on a full model it would take minutes.
final class LLMCase: PreparedCase {
    let shape: LLMShape
    let session: ModelSession
    let weights: ModelWeights
    let prompt: [Int]
    let generated: [Int]
    let vocab: Int
    /// Where the weights come from ("synthetic weights", "weights of FILE (...)"), for the kernel path.
    let origin: String

    init(shape: LLMShape, weights: ModelWeights, pool: WorkerPool, seed: UInt64, origin: String, isa: CPUISA? = nil) throws {
        self.shape = shape
        self.weights = weights
        self.origin = origin
        vocab = weights.config.vocab
        session = try ModelSession(weights: weights, context: shape.depth + shape.tokens + 8, pool: pool, isa: isa)
        let tokens = ModelBenchmark.tokens(shape.depth + shape.tokens, vocab: vocab, seed: seed)
        prompt = shape.mode == .pp ? Array(tokens.prefix(shape.tokens)) : Array(tokens.prefix(shape.depth))
        generated = shape.mode == .tg ? Array(tokens.suffix(shape.tokens)) : []
        if shape.mode == .pp {
            session.prepare(tokens: shape.tokens)
        } else if shape.depth > 0 {
            try session.step(tokens: prompt)
        }
    }

    var kernelPath: String {
        let c = weights.config
        return "swift-llm \(c.name) \(c.layers) layers, hidden \(c.hidden), vocab \(c.vocab), \(weights.format.rawValue) weights \(Format.bytes(weights.byteCount)) (\(origin)), fp32 KV cache, \(session.gemmPath.rawValue) GEMM, \(session.isa.rawValue) attention, \(session.pool.threadCount) thread(s)"
    }

    /// Weights read per call: every weight once per step (pp: one batched step; tg: one per token).
    var secondaryWork: Work? {
        let steps = shape.mode == .pp ? 1 : shape.tokens
        return Work(
            amount: Double(weights.byteCount) * Double(steps), kind: .bytes,
            rule: "model weight bytes (\(Format.bytes(weights.byteCount))) x \(steps) step(s) per call: implied weight bandwidth")
    }

    /// Decode (tg): single decode steps, each paired with a plain read of every matrix a step streams
    /// (each layer's seven and the output projection, in the layout the GEMM path reads) on the same
    /// workers: the "read-only bandwidth / weight bytes" bound of a decode, measured at the same
    /// moment. The steps walk the call's positions (depth ..< depth + tokens) in order and start over.
    /// The token embedding is left out on both sides (a step reads one row of it), as are the KV cache
    /// and the activations. Prefill is compute-bound: none.
    var pairedReference: PairedReference? {
        guard shape.mode == .tg else { return nil }
        let matrices = weights.layers.flatMap(\.matrices) + [weights.output]
        let read = WeightRead(buffers: matrices.map { $0.weightBuffer(path: session.gemmPath) }, pool: session.pool)
        let matrixBytes = matrices.reduce(0) { $0 + $1.byteCount }
        var position = 0
        return PairedReference(
            label: "one decode step vs a read-only sum (the STREAM read kernel) over every matrix of the model, \(session.pool.threadCount) thread(s)",
            work: Work(amount: Double(read.bytes), kind: .bytes, rule: "bytes of the matrices in the GEMM path's layout"),
            kernelWork: Work(
                amount: Double(matrixBytes), kind: .bytes,
                rule: "matrix weight bytes (\(Format.bytes(matrixBytes)), token embedding excluded) per decode step"),
            kernel: { [self] in
                do {
                    if position == 0 { try session.truncate(to: shape.depth) }
                    try session.step(tokens: [generated[position]])
                } catch {
                    session.logits.update(repeating: .nan, count: vocab)
                }
                position = (position + 1) % generated.count
            },
            run: read.run)
    }

    func poisonOutputs() { session.logits.update(repeating: .nan, count: vocab) }

    func run() {
        do {
            switch shape.mode {
            case .pp:
                session.reset()
                try session.step(tokens: prompt)
            case .tg:
                try session.truncate(to: shape.depth)
                for token in generated { try session.step(tokens: [token]) }
            }
        } catch {
            // A failed step leaves NaN logits, which the check reports.
            session.logits.update(repeating: .nan, count: vocab)
        }
    }

    func check() -> CorrectnessCheck {
        let got = Array(UnsafeBufferPointer(start: session.logits, count: vocab))
        let nonFinite = got.filter { !$0.isFinite }.count
        var relativeError = Double.infinity
        do {
            switch shape.mode {
            case .pp:
                session.reset()
                let half = max(1, prompt.count / 2)
                try session.step(tokens: Array(prompt.prefix(half)))
                if half < prompt.count { try session.step(tokens: Array(prompt.dropFirst(half))) }
            case .tg:
                try session.truncate(to: shape.depth)
                try session.step(tokens: generated)
            }
            let other = UnsafeBufferPointer(start: session.logits, count: vocab)
            var difference = 0.0, norm = 0.0
            for i in 0..<vocab {
                difference += Double(got[i] - other[i]) * Double(got[i] - other[i])
                norm += Double(other[i]) * Double(other[i])
            }
            relativeError = norm > 0 ? (difference / norm).squareRoot() : difference.squareRoot()
        } catch {
            relativeError = .infinity
        }
        // Leave the logits of the timed call in place for a second check.
        for i in 0..<vocab { session.logits[i] = got[i] }
        return CorrectnessCheck(
            metric: "logits_rel_l2_vs_other_cache_path", value: relativeError,
            toleranceName: "KV-cache consistency within q8_0 activation rounding, 3e-2 (float64 reference in tests)", tolerance: 3e-2,
            elementsChecked: vocab, nonFinite: nonFinite)
    }
}
