import AccelBenchCore
import AccelBenchKernels
import AccelBenchLLM
import ArgumentParser
import Foundation

/// `accelbench model-write` (hidden): writes a GGUF file of synthetic weights for a preset shape,
/// with the metadata llama.cpp needs to load it (a dummy SPM vocabulary), so that accelbench and
/// llama.cpp can be measured on the same file (bench/llm.sh).
struct ModelWriteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model-write",
        abstract: "Write a GGUF file of synthetic weights (with a dummy llama vocabulary) for a model preset.",
        shouldDisplay: false)

    @Option(name: .customLong("model"), help: "Model preset (llama3-8b, qwen2.5-7b, llama3.2-1b).")
    var model: String = "llama3-8b"

    @Option(name: .customLong("layers"), help: "Number of layers (default: the preset's).")
    var layers: Int?

    @Option(name: .customLong("vocab"), help: "Vocabulary size (default: the preset's).")
    var vocab: Int?

    @Option(name: .customLong("dtype"), help: "Weight format: q4_0 or q8_0.")
    var dtype: String = "q4_0"

    @Option(name: .customLong("seed"), help: "Seed of the synthetic weights.")
    var seed: UInt64 = 1

    @Option(name: .customLong("context"), help: "context_length written to the metadata.")
    var context: Int = 4096

    @Option(name: .customLong("threads"), help: "Threads generating and quantizing the weights.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: .customLong("output"), help: "Path of the GGUF file to write.")
    var output: String

    func validate() throws {
        if let layers, layers < 1 { throw ValidationError("--layers must be >= 1") }
        if let vocab, vocab < 4 { throw ValidationError("--vocab must be >= 4 (<unk>, <s>, </s> and one more)") }
        if threads < 1 { throw ValidationError("--threads must be >= 1") }
        if context < 1 { throw ValidationError("--context must be >= 1") }
        if QuantFormat(rawValue: dtype.lowercased()) == nil { throw ValidationError("--dtype must be q4_0 or q8_0, got \(dtype)") }
    }

    func run() throws {
        let config = try ModelConfig.named(model).with(layers: layers, vocab: vocab)
        let format = QuantFormat(rawValue: dtype.lowercased())!
        let pool = WorkerPool(threadCount: threads)
        let weights = try ModelWeights.synthetic(config: config, format: format, seed: seed, pool: pool)
        var writer = try GGUFWriter()
        try writer.addModel(weights, contextLength: context)
        let arch: String
        if case .string(let a)? = writer.metadata["general.architecture"] { arch = a } else { arch = "llama" }
        // What addModel leaves out and llama.cpp wants.
        writer.set("general.file_type", .uint32(format == .q8_0 ? 7 : 2))  // LLAMA_FTYPE_MOSTLY_Q8_0 / Q4_0
        writer.set("\(arch).rope.dimension_count", .uint32(UInt32(config.headDim)))
        writer.set("\(arch).vocab_size", .uint32(UInt32(config.vocab)))
        ModelWriteCommand.addDummyVocabulary(&writer, size: config.vocab)
        try writer.write(to: output)
        let bytes = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
        print("wrote \(output): \(config), \(format.rawValue), \(String(format: "%.1f", Double(bytes) / 1e6)) MB")
    }

    /// A SentencePiece-style ("llama") vocabulary: <unk>, <s>, </s>, then tok00003...; BOS 1, EOS 2.
    static func addDummyVocabulary(_ writer: inout GGUFWriter, size: Int) {
        var tokens: [GGUFValue] = [.string("<unk>"), .string("<s>"), .string("</s>")]
        tokens.reserveCapacity(size)
        let width = max(5, String(size - 1).count)
        for i in 3..<size {
            let digits = String(i)
            tokens.append(.string("tok" + String(repeating: "0", count: max(0, width - digits.count)) + digits))
        }
        let scores = (0..<size).map { GGUFValue.float32($0 < 3 ? 0 : -Float($0)) }
        // 2 = unknown, 3 = control, 1 = normal
        let types = (0..<size).map { GGUFValue.int32($0 == 0 ? 2 : ($0 < 3 ? 3 : 1)) }
        writer.set("tokenizer.ggml.model", .string("llama"))
        writer.set("tokenizer.ggml.tokens", .array(.string, tokens))
        writer.set("tokenizer.ggml.scores", .array(.float32, scores))
        writer.set("tokenizer.ggml.token_type", .array(.int32, types))
        writer.set("tokenizer.ggml.bos_token_id", .uint32(1))
        writer.set("tokenizer.ggml.eos_token_id", .uint32(2))
        writer.set("tokenizer.ggml.unknown_token_id", .uint32(0))
        writer.set("tokenizer.ggml.add_bos_token", .bool(false))
    }
}
