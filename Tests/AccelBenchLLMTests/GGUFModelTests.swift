import AccelBenchCore
import AccelBenchKernels
import Foundation
import Testing

@testable import AccelBenchLLM

/// Loading a model from a GGUF file (`GGUFModel`, `ModelWeights.load(gguf:)`): tiny models written
/// with `GGUFWriter.addModel` from weights built in memory must load to the same bytes and give the
/// same logits bit for bit (same kernels, same inputs), and match the float64 reference; broken files
/// must fail with messages that name the file and the tensor.
@Suite struct GGUFModelTests {
    static let tiny = ModelConfig(
        name: "tiny", hidden: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 128, vocab: 100,
        ropeTheta: 10_000, rmsEps: 1e-5, ropeStyle: .interleaved)
    static let tokens = [3, 17, 42, 5, 99, 0, 73]

    static func tempPath(_ tag: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("accelbench-model-\(tag)-\(UUID().uuidString).gguf").path
    }

    static func cleanup(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

    static func caught(_ body: () throws -> Void) -> AccelBenchError? {
        do {
            try body()
            Issue.record("expected an error")
            return nil
        } catch let e as AccelBenchError {
            return e
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    /// Seeded values in [-scale, scale).
    static func values(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var g = SeededGenerator(seed: seed)
        return (0..<count).map { _ in scale * g.nextSignedUnitFloat() }
    }

    /// `base` with Q/K/V biases (qwen2), RoPE frequency factors, or the output tied to the embedding.
    static func variant(
        _ base: ModelWeights, biases: Bool = false, ropeFactors: Bool = false, tied: Bool = false
    ) throws -> ModelWeights {
        let c = base.config
        let layers = base.layers.enumerated().map { i, l in
            var l = l
            if biases {
                l.qBias = values(c.queryWidth, seed: 100 + UInt64(i), scale: 0.5)
                l.kBias = values(c.kvWidth, seed: 200 + UInt64(i), scale: 0.5)
                l.vBias = values(c.kvWidth, seed: 300 + UInt64(i), scale: 0.5)
            }
            return l
        }
        let e = base.tokenEmbedding
        let output = tied ? QuantizedMatrix(format: e.format, rows: e.rows, columns: e.columns, ggufBlocks: e.blocks) : base.output
        // Llama 3's factors: 1 for high frequencies, up to 8 for the lowest.
        let factors = ropeFactors ? (0..<(c.headDim / 2)).map { Float(1 + 7 * $0 / max(1, c.headDim / 2 - 1)) } : nil
        return try ModelWeights(
            config: c, format: base.format, layers: layers, outputNorm: base.outputNorm, output: output,
            tokenEmbedding: e, ropeFrequencyFactors: factors)
    }

    /// Writes `weights` to a temporary file and returns its path.
    static func write(_ weights: ModelWeights, tied: Bool = false, _ edit: (inout GGUFWriter) throws -> Void = { _ in }) throws -> String {
        var w = try GGUFWriter()
        try w.addModel(weights, tiedOutput: tied)
        try edit(&w)
        let path = tempPath(weights.config.name)
        try w.write(to: path)
        return path
    }

    /// Every logit vector of `tokens` run one prefill then decode steps.
    static func logits(_ weights: ModelWeights, pool: WorkerPool) throws -> [[Float]] {
        let session = try ModelSession(weights: weights, context: 16, pool: pool)
        var out = [try session.prefill(tokens: Array(tokens.prefix(4)))]
        for t in tokens.dropFirst(4) { out.append(try session.decode(token: t)) }
        return out
    }

    static func sameBytes(_ a: QuantizedMatrix, _ b: QuantizedMatrix) -> Bool {
        a.format == b.format && a.rows == b.rows && a.columns == b.columns && memcmp(a.blocks, b.blocks, a.byteCount) == 0
    }

    // MARK: Round trips

    @Test(arguments: [QuantFormat.q8_0, .q4_0], ["llama", "qwen2+bias", "llama+tied+ropefreqs"])
    func loadsWhatWasWritten(format: QuantFormat, kind: String) throws {
        var config = GGUFModelTests.tiny
        config.ropeStyle = kind.hasPrefix("qwen2") ? .neox : .interleaved
        let pool = WorkerPool(threadCount: 2)
        let base = try ModelWeights.synthetic(config: config, format: format, seed: 7, pool: pool)
        let tied = kind.contains("tied")
        let original = try GGUFModelTests.variant(base, biases: kind.contains("bias"), ropeFactors: kind.contains("ropefreqs"), tied: tied)
        let path = try GGUFModelTests.write(original, tied: tied)
        defer { GGUFModelTests.cleanup(path) }

        let model = try GGUFModel(path: path)
        #expect(model.file.architecture == (kind.hasPrefix("qwen2") ? "qwen2" : "llama"))
        #expect(model.format == format && model.tiedOutput == tied && model.ignoredTensors.isEmpty)
        var expected = config
        expected.name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        expected.rmsEps = Double(Float(config.rmsEps))  // stored as f32, as llama.cpp does
        #expect(model.config == expected)

        let loaded = try ModelWeights.load(gguf: model.file)
        #expect(loaded.byteCount == original.byteCount)
        #expect(loaded.ropeFrequencyFactors == original.ropeFrequencyFactors)
        #expect(memcmp(loaded.tokenEmbedding.blocks, original.tokenEmbedding.blocks, original.tokenEmbedding.byteCount) == 0)
        #expect(GGUFModelTests.sameBytes(loaded.output, original.output))
        #expect(loaded.outputNorm == original.outputNorm)
        for (a, b) in zip(loaded.layers, original.layers) {
            for (x, y) in zip([a.wq, a.wk, a.wv, a.wo, a.wGate, a.wUp, a.wDown], [b.wq, b.wk, b.wv, b.wo, b.wGate, b.wUp, b.wDown]) {
                #expect(GGUFModelTests.sameBytes(x, y))
            }
            #expect(a.attentionNorm == b.attentionNorm && a.ffnNorm == b.ffnNorm)
            #expect(a.qBias == b.qBias && a.kBias == b.kBias && a.vBias == b.vBias)
        }

        // Same weights, same kernels: the same logits, bit for bit.
        let got = try GGUFModelTests.logits(loaded, pool: pool)
        #expect(got == (try GGUFModelTests.logits(original, pool: pool)), "\(format.rawValue) \(kind)")

        // And the float64 pass that rounds matrix inputs to q8_0 as the kernels do (ModelTests'
        // mirror bound: fp32 rounding only), which checks the biases and RoPE factors in the step.
        let reference = ModelReference(weights: loaded).forward(tokens: GGUFModelTests.tokens, quantizeActivations: true)
        for (i, logits) in got.enumerated() {
            let e = ModelTests.relativeL2(logits, reference.logits[3 + i])
            #expect(e <= ModelTests.mirrorTolerance, "\(format.rawValue) \(kind) position \(3 + i): \(e)")
        }
        // The extras matter (so the checks above would see them missing).
        if kind != "llama" {
            let plain = try GGUFModelTests.logits(base, pool: pool)
            #expect(ModelTests.relativeL2(got.last!, plain.last!) > 10 * ModelTests.mirrorTolerance)
        }
    }

    @Test func firstLayersAndF16Norms() throws {
        let pool = WorkerPool(threadCount: 1)
        let weights = try ModelWeights.synthetic(config: GGUFModelTests.tiny, format: .q8_0, seed: 3, pool: pool)
        var w = try GGUFWriter()
        try w.addModel(weights)
        // Norms in F16, as some converters write them.
        let norm = weights.layers[0].attentionNorm
        var f16 = try GGUFWriter()
        for t in w.tensors {
            if t.name == "blk.0.attn_norm.weight" {
                try f16.addF16(t.name, dims: t.dims, values: norm)
            } else {
                try f16.addTensor(t.name, dims: t.dims, type: t.type, bytes: t.bytes)
            }
        }
        for key in w.metadataKeys { f16.set(key, w.metadata[key]!) }
        let path = GGUFModelTests.tempPath("f16")
        defer { GGUFModelTests.cleanup(path) }
        try f16.write(to: path)

        let model = try GGUFModel(path: path)
        let one = try model.weights(layers: 1)
        #expect(one.config.layers == 1 && one.layers.count == 1 && one.config.vocab == 100)
        #expect(GGUFModelTests.sameBytes(one.layers[0].wDown, weights.layers[0].wDown))
        #expect(one.layers[0].attentionNorm == norm.map { QuantFormat.float(fp16: QuantFormat.fp16($0)) })
        let e = GGUFModelTests.caught { _ = try model.weights(layers: 3) }
        #expect(e?.message == "\(path): the model has 2 layers, so it cannot run 3; ask for 1 to 2 (--layers or the shape's layersN)")
    }

    @Test func unusedTensorsAreListed() throws {
        let pool = WorkerPool(threadCount: 1)
        let weights = try ModelWeights.synthetic(config: GGUFModelTests.tiny, format: .q4_0, seed: 5, pool: pool)
        let path = try GGUFModelTests.write(weights) { w in
            try w.addF32("blk.0.attn_output.bias", dims: [64], values: GGUFModelTests.values(64, seed: 1))
            try w.addF32("blk.1.attn_output.bias", dims: [64], values: GGUFModelTests.values(64, seed: 2))
        }
        defer { GGUFModelTests.cleanup(path) }
        let model = try GGUFModel(path: path)
        #expect(model.ignoredTensors == ["blk.*.attn_output.bias"])
        #expect(model.origin == "weights of \(path) (llama, ignored: blk.*.attn_output.bias)")
    }

    // MARK: The backend

    @Test func backendRunsGGUFShapes() throws {
        let weights = try ModelWeights.synthetic(config: GGUFModelTests.tiny, format: .q4_0, seed: 2, pool: WorkerPool(threadCount: 1))
        let path = try GGUFModelTests.write(weights)
        defer { GGUFModelTests.cleanup(path) }
        let backend = LLMBackend(model: try GGUFModel(path: path))
        let rule = StoppingRule(minSamples: 2, minSeconds: 0, maxNoise: 1, timeoutSeconds: 0.2, warmupSeconds: 0, minSampleSeconds: 0)
        for text in ["gguf:pp6", "gguf:tg3:d4:layers1"] {
            let spec = CaseSpec(workload: .llm, backend: "swift-llm", dtype: .q4_0, shape: .llm(try LLMShape.parse(text)), threads: 2)
            let result = CaseRunner(measurer: Measurer(rule: rule)).run(spec, on: backend, pool: WorkerPool(threadCount: 2))
            #expect(result.status == .passed, "\(text): \(result.reason ?? "")")
            #expect(result.kernelPath?.contains("weights of \(path) (llama)") == true, "\(result.kernelPath ?? "")")
            #expect(result.kernelPath?.contains(text.hasSuffix("layers1") ? "1 layers" : "2 layers") == true)
        }
        func reason(_ text: String, _ dtype: DType, _ backend: LLMBackend) throws -> String? {
            backend.unsupportedReason(CaseSpec(workload: .llm, backend: "swift-llm", dtype: dtype, shape: .llm(try LLMShape.parse(text)), threads: 1))
        }
        #expect(try reason("gguf:tg1", .q8_0, backend)?.contains("are q4_0, not q8_0") == true)
        #expect(try reason("gguf:tg1:vocab50", .q4_0, backend)?.contains("drop vocab50") == true)
        #expect(try reason("gguf:tg1:layers3", .q4_0, backend)?.contains("cannot run 3") == true)
        #expect(try reason("gguf:tg1", .q4_0, LLMBackend())?.contains("--weights FILE.gguf") == true)
        // Presets still run synthetic weights.
        #expect(try reason("llama3.2-1b:tg1:layers1:vocab97", .q8_0, backend) == nil)
    }

    // MARK: Broken files

    /// The tiny q4_0 model written with `edit` applied to its tensor list (name, dims, type, bytes).
    static func brokenModel(
        config: ModelConfig = tiny, format: QuantFormat = .q4_0,
        metadata: [String: GGUFValue] = [:],
        _ edit: (inout [(name: String, dims: [Int], type: GGMLType, bytes: [UInt8])]) -> Void
    ) throws -> String {
        let weights = try ModelWeights.synthetic(config: config, format: format, seed: 9, pool: WorkerPool(threadCount: 1))
        var w = try GGUFWriter()
        try w.addModel(weights)
        var tensors = w.tensors
        edit(&tensors)
        var out = try GGUFWriter()
        for key in w.metadataKeys { out.set(key, metadata[key] ?? w.metadata[key]!) }
        for (key, value) in metadata where w.metadata[key] == nil { out.set(key, value) }
        for t in tensors { try out.addTensor(t.name, dims: t.dims, type: t.type, bytes: t.bytes) }
        let path = tempPath("broken")
        try out.write(to: path)
        return path
    }

    @Test func truncatedFile() throws {
        let path = try GGUFModelTests.brokenModel { _ in }
        defer { GGUFModelTests.cleanup(path) }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: path))
        let e = GGUFModelTests.caught { _ = try GGUFModel(path: path) }
        #expect(e?.code == .invalidArgument)
        #expect(e?.message.hasPrefix("\(path): tensor 'output.weight'") == true, "\(e?.message ?? "")")
        #expect(e?.message.contains("ends past the end of the file") == true)
        #expect(e?.message.contains("download or convert it again") == true)
    }

    @Test func wrongTensorShape() throws {
        let path = try GGUFModelTests.brokenModel { tensors in
            let i = tensors.firstIndex { $0.name == "blk.1.attn_k.weight" }!
            // 48 rows instead of kvWidth 32.
            tensors[i] = (tensors[i].name, [64, 48], .q4_0, QuantFormat.q4_0.quantize(GGUFModelTests.values(48 * 64, seed: 4)))
        }
        defer { GGUFModelTests.cleanup(path) }
        let e = GGUFModelTests.caught { _ = try GGUFModel(path: path) }
        #expect(e?.code == .invalidShape)
        #expect(
            e?.message == "\(path): tensor 'blk.1.attn_k.weight' has shape [64, 48], expected [64, 32] (ne0 first) for the file's hyperparameters"
                + " (hidden 64, 4 heads, 2 KV heads, head dim 16, FFN 128, vocab 100); the tensors do not match the metadata:"
                + " the file is corrupt or was converted wrongly (convert it again with a current llama.cpp)")
    }

    @Test func unsupportedTensorTypes() throws {
        // K-quants need rows of 256: a model with hidden 256.
        let wide = ModelConfig(name: "wide", hidden: 256, layers: 1, heads: 4, kvHeads: 2, ffn: 256, vocab: 100, ropeTheta: 10_000, rmsEps: 1e-5)
        func kQuant(_ name: String, _ type: GGMLType) throws -> (String, AccelBenchError?) {
            let path = try GGUFModelTests.brokenModel(config: wide) { tensors in
                let i = tensors.firstIndex { $0.name == name }!
                let dims = tensors[i].dims
                tensors[i] = (name, dims, type, [UInt8](repeating: 0, count: type.byteCount(dims: dims)!))
            }
            defer { GGUFModelTests.cleanup(path) }
            return (path, GGUFModelTests.caught { _ = try GGUFModel(path: path) })
        }
        // The output in Q6_K, as llama.cpp's Q4_0 quantization leaves it.
        let (p1, e1) = try kQuant("output.weight", .q6_K)
        #expect(e1?.code == .invalidArgument)
        #expect(
            e1?.message == "\(p1): tensor 'output.weight' has type Q6_K (14), but the model's matrices are Q4_0 (the type of blk.0.attn_q.weight);"
                + " accelbench runs every matrix (token_embd and output included) in one format; re-quantize the model with llama-quantize --pure"
                + " (from its F16/BF16 GGUF) to q8_0 or q4_0, or pass --output-tensor-type and --token-embedding-type with the same type")
        // A K-quant model.
        let (p2, e2) = try kQuant("blk.0.attn_q.weight", .q5_K)
        #expect(e2?.message.hasPrefix("\(p2): tensor 'blk.0.attn_q.weight' has type Q5_K (13); accelbench runs models whose matrices are all Q8_0 or all Q4_0;") == true)
        // Readable but mixed: one Q8_0 matrix in a Q4_0 model.
        let p3 = try GGUFModelTests.brokenModel { tensors in
            let i = tensors.firstIndex { $0.name == "blk.1.ffn_up.weight" }!
            tensors[i].type = .q8_0
            tensors[i].bytes = QuantFormat.q8_0.quantize(GGUFModelTests.values(128 * 64, seed: 5))
        }
        defer { GGUFModelTests.cleanup(p3) }
        #expect(GGUFModelTests.caught { _ = try GGUFModel(path: p3) }?.message.contains("tensor 'blk.1.ffn_up.weight' has type Q8_0 (8), but the model's matrices are Q4_0") == true)
        // A norm that is not F32 / F16.
        let p4 = try GGUFModelTests.brokenModel { tensors in
            let i = tensors.firstIndex { $0.name == "output_norm.weight" }!
            tensors[i] = (tensors[i].name, [64], .q8_0, QuantFormat.q8_0.quantize(GGUFModelTests.values(64, seed: 6)))
        }
        defer { GGUFModelTests.cleanup(p4) }
        #expect(GGUFModelTests.caught { _ = try GGUFModel(path: p4) }?.message.contains("tensor 'output_norm.weight' has type Q8_0 (8); accelbench reads norm weights") == true)
    }

    @Test func missingTensor() throws {
        let path = try GGUFModelTests.brokenModel { $0.removeAll { $0.name == "blk.1.ffn_up.weight" } }
        defer { GGUFModelTests.cleanup(path) }
        let e = GGUFModelTests.caught { _ = try GGUFModel(path: path) }
        #expect(e?.code == .invalidArgument)
        #expect(e?.message.hasPrefix("\(path): no tensor named 'blk.1.ffn_up.weight'; it has 'token_embd.weight',") == true, "\(e?.message ?? "")")
    }

    @Test func unsupportedModels() throws {
        let gemma = try GGUFModelTests.brokenModel(metadata: ["general.architecture": .string("gemma2")]) { _ in }
        defer { GGUFModelTests.cleanup(gemma) }
        #expect(
            GGUFModelTests.caught { _ = try GGUFModel(path: gemma) }?.message
                == "\(gemma): architecture 'gemma2' (general.architecture) is not supported; accelbench runs llama and qwen2 models"
                + " (pre-norm RMSNorm, grouped-query attention with RoPE, SwiGLU); pass a llama or qwen2 GGUF file")
        let moe = try GGUFModelTests.brokenModel(metadata: ["llama.expert_count": .uint32(8)]) { _ in }
        defer { GGUFModelTests.cleanup(moe) }
        #expect(GGUFModelTests.caught { _ = try GGUFModel(path: moe) }?.message.contains("mixture-of-experts") == true)
        let partial = try GGUFModelTests.brokenModel(metadata: ["llama.rope.dimension_count": .uint32(8)]) { _ in }
        defer { GGUFModelTests.cleanup(partial) }
        #expect(GGUFModelTests.caught { _ = try GGUFModel(path: partial) }?.message.contains("llama.rope.dimension_count is 8, not embedding_length / head_count = 16") == true)
    }
}
