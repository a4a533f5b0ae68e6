import AccelBenchCPU
import AccelBenchCore
import AccelBenchKernels
import AccelBenchLLM

/// Every backend the command line offers: the CPU backends and the llm engine.
enum AllBackends {
    static func list(isa: CPUISA? = nil) -> [any Backend] {
        CPUBackends.all(isa: isa) + [LLMBackend()]
    }
}
