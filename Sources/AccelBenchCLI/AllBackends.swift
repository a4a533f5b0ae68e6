import AccelBenchCPU
import AccelBenchCore
import AccelBenchKernels
import AccelBenchLLM

/// Every backend the command line offers: the CPU backends and the llm engine (which runs `gguf:`
/// shapes on `model`, the `--weights` file's).
enum AllBackends {
    static func list(isa: CPUISA? = nil, model: GGUFModel? = nil) -> [any Backend] {
        CPUBackends.all(isa: isa) + [LLMBackend(model: model, isa: isa)]
    }
}
