import AccelBenchCPU
import AccelBenchCore
import AccelBenchKernels
import AccelBenchLLM
import AccelBenchProfiles
import AccelBenchTopology
import ArgumentParser

/// `--profile-path` and `--projection-efficiency`, shared by `run` and `coverage`.
struct ProfileOptions: ParsableArguments {
    @Option(
        name: .customLong("profile-path"),
        help: ArgumentHelp("A directory of chip profiles (*.json, see accelbench profiles), repeatable; a profile with a bundled id replaces it.", valueName: "dir"))
    var profilePath: [String] = []

    @Option(
        name: .customLong("projection-efficiency"),
        help: ArgumentHelp("profile:NAME backends: the fraction of the compute peak and of the bandwidth a projection assumes (default 0.7,0.8).", valueName: "compute[,bandwidth]"))
    var projectionEfficiency: String?

    func efficiency() throws -> ProjectionEfficiency {
        try projectionEfficiency.map(ProjectionEfficiency.parse) ?? .standard
    }

    /// The projection backends among `names` (`profile:<id>`); other names are left to the CPU list.
    /// With `announce`, says on stderr which user profiles replaced bundled ones.
    func backends(named names: [String], announce: Bool = false) throws -> [any Backend] {
        let wanted = names.filter { $0.lowercased().hasPrefix(ProfileBackend.prefix) }
        guard !wanted.isEmpty else { return [] }
        let catalog = try ProfileCatalog.load(userDirectories: profilePath)
        if announce { for note in catalog.notes { printError("note: \(note)") } }
        let efficiency = try efficiency()
        return try wanted.map { name in
            let profile = try catalog.named(String(name.dropFirst(ProfileBackend.prefix.count)))
            return ProfileBackend(profile: profile, efficiency: efficiency, modelCost: ProfileOptions.modelCost)
        }
    }

    /// An llm preset's weight bytes per token step (the token embedding is a row lookup, not read
    /// whole) and FLOPs per token (2 per matrix weight). Files (`gguf`) are not projected.
    @Sendable static func modelCost(_ shape: LLMShape, _ dtype: DType) -> ProfileBackend.ModelCost? {
        guard let preset = try? ModelConfig.named(shape.model) else { return nil }
        let config = preset.with(layers: shape.layers, vocab: shape.vocab)
        let format: QuantFormat = dtype == .q8_0 ? .q8_0 : .q4_0
        let embedding = config.vocab * format.rowBytes(columns: config.hidden)
        let matrixWeights = config.layers * config.layerMatrixParameters + config.vocab * config.hidden
        return ProfileBackend.ModelCost(
            weightBytes: Double(config.weightBytes(format: format) - embedding), flopsPerToken: 2 * Double(matrixWeights))
    }
}

extension ChipProfile {
    /// This machine's CPU profile from its topology and measured ceilings (all cores).
    static func derived(from ceilings: Ceilings, topology: Topology) -> ChipProfile {
        let cores = ceilings.cores
        func peak(_ workload: Workload, _ dtype: DType, _ shape: Shape, _ unit: ThroughputUnit) -> Double? {
            ceilings.peak(for: CaseSpec(workload: workload, backend: "", dtype: dtype, shape: shape, threads: cores), unit: unit)?.value
        }
        let matmul = Shape.matmul(m: 1, n: 1, k: 1)
        return ChipProfile.derivedCPU(
            brand: ceilings.cpu.brand, vendor: topology.cpuVendor ?? ceilings.cpu.vendor, cores: cores,
            fp32GFLOPS: peak(.matmul, .fp32, matmul, .gflops), bf16GFLOPS: ceilings.bf16SingleCore == nil ? nil : peak(.matmul, .bf16, matmul, .gflops),
            int8GOPS: peak(.qgemv, .w8a8, .quantized(m: 1, n: 1, k: 32, residency: .hot), .gflops),
            readGBps: peak(.stream, .fp64, .stream(kernel: .read, elements: 1), .gbytesPerSecond),
            memoryGB: topology.memoryBytes > 0 ? Double(topology.memoryBytes) / 1e9 : nil)
    }
}

extension Peak {
    /// The same ceiling, naming the profile it belongs to.
    func naming(profile id: String) -> Peak {
        Peak(value: value, unit: unit, label: "\(label) (profile \(id))")
    }
}
