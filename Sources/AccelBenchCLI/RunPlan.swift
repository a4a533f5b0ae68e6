import AccelBenchCore
import AccelBenchCPU

/// Turns the user's selection (or a suite) into the list of cases to run. Pure: no measuring.
public struct RunPlan: Sendable {
    public var cases: [CaseSpec]

    public struct Selection: Sendable {
        public var suite: Suite = .quick
        public var workloads: [String] = []
        public var backends: [String] = []
        public var shapes: [String] = []
        public var dtypes: [String] = []
        public var threads: [Int] = []
        /// llm: layers and vocabulary overriding every model's preset.
        public var layers: Int?
        public var vocab: Int?
        /// llm: the `--weights` file's model, when one is given.
        public var weightsFile: WeightsFile?

        public init() {}
    }

    /// What the plan needs to know of a `--weights` file. With one, every llm case runs the file's
    /// model (shapes `gguf:ppN`, `gguf:tgN[:dD][:layersN]`; a suite's llm shapes are rewritten so, their
    /// layer and vocabulary overrides dropped) in the file's dtype, and the workload defaults to llm.
    public struct WeightsFile: Sendable {
        public var path: String
        /// The format of its matrices (q8_0 or q4_0).
        public var dtype: DType
        /// Its layer count: the most `--layers` / `layersN` may ask for.
        public var layers: Int

        public init(path: String, dtype: DType, layers: Int) {
            self.path = path
            self.dtype = dtype
            self.layers = layers
        }
    }

    /// - Parameters:
    ///   - cores: the machine's physical cores: the default thread counts are 1 and all of them.
    ///   - streamElements: the default STREAM array length for this machine.
    public init(_ selection: Selection, backends available: [any Backend], cores: Int, streamElements: Int) throws {
        for t in selection.threads where t < 1 {
            throw AccelBenchError(.invalidThreads, "--threads must be >= 1, got \(t)")
        }
        let threads = selection.threads.isEmpty ? Array(Set([1, max(1, cores)])).sorted() : RunPlan.unique(selection.threads)
        let chosenBackends = try selection.backends.map { try CPUBackends.named($0, in: available) }
        let chosenDTypes = try selection.dtypes.map(DType.parse)
        var workloads = try selection.workloads.map(Workload.parse)
        if selection.weightsFile != nil {
            if workloads.isEmpty && chosenBackends.isEmpty { workloads = [.llm] }
            if selection.vocab != nil {
                throw AccelBenchError(.invalidArgument, "--vocab cannot be used with --weights: the vocabulary is the file's")
            }
        }
        if workloads.isEmpty {
            // The backends' workloads when backends were named, else the suite's.
            workloads = chosenBackends.flatMap { $0.capabilities.keys.sorted { $0.rawValue < $1.rawValue } }
            if workloads.isEmpty { workloads = selection.suite.entries.map(\.workload) }
        }
        workloads = RunPlan.unique(workloads)
        if selection.workloads.isEmpty && !selection.shapes.isEmpty {
            // Shapes without a workload: the workloads whose shape syntax takes them (1024x1024x1024 is a
            // matmul, llama3-8b:decode8192 an attention shape).
            func fits(_ w: Workload) -> Bool { selection.shapes.allSatisfy { (try? w.parseShapes($0)) != nil } }
            var fitting = workloads.filter(fits)
            if fitting.isEmpty && chosenBackends.isEmpty {
                // Shapes of a workload the suite does not run (llama3-8b:tg128 beside the quick suite).
                fitting = Workload.allCases.filter(fits)
            }
            if fitting.isEmpty, let first = workloads.first {
                for shape in selection.shapes { _ = try first.parseShapes(shape) }
            }
            workloads = fitting
        }
        if let file = selection.weightsFile, !workloads.contains(.llm) {
            throw AccelBenchError(.invalidArgument, "--weights \(file.path) is for the llm workload, which the selection does not run; add --workload llm")
        }

        var cases: [CaseSpec] = []
        for workload in workloads {
            let suiteEntries = selection.suite.entries.filter { $0.workload == workload }
            var dtypes = chosenDTypes.filter(workload.dtypes.contains)
            if !chosenDTypes.isEmpty && dtypes.isEmpty {
                throw AccelBenchError(
                    .invalidDType,
                    "workload \(workload.rawValue) has no dtype among \(chosenDTypes.map(\.rawValue).joined(separator: ", ")); its dtypes: \(workload.dtypes.map(\.rawValue).joined(separator: ", "))"
                )
            }
            if workload == .llm, let file = selection.weightsFile {
                // The file's format is the dtype.
                if !dtypes.isEmpty && !dtypes.contains(file.dtype) {
                    throw AccelBenchError(
                        .invalidDType,
                        "--weights \(file.path) holds \(file.dtype.rawValue) weights, so llm runs in \(file.dtype.rawValue), not \(dtypes.map(\.rawValue).joined(separator: ", ")); drop --dtype or pass \(file.dtype.rawValue)")
                }
                dtypes = [file.dtype]
            }
            if dtypes.isEmpty {
                dtypes = RunPlan.unique(suiteEntries.map(\.dtype))
                if dtypes.isEmpty { dtypes = [workload.defaultDType] }
            }
            for dtype in dtypes {
                // Each suite entry is a group of shapes x backends; the user's shapes or backends
                // replace the entry's. Without an entry: one default shape on every backend but the
                // reference.
                var groups = suiteEntries.filter { $0.dtype == dtype }.map { (shapes: $0.shapes, backends: $0.backends) }
                if groups.isEmpty {
                    groups = [(
                        shapes: [RunPlan.defaultShape(workload, streamElements: streamElements)],
                        backends: available.filter { $0.capabilities[workload]?.contains(dtype) == true && $0.name != "reference" }.map(\.name)
                    )]
                }
                for group in groups {
                    let shapes = try (selection.shapes.isEmpty ? group.shapes : selection.shapes).flatMap { try workload.parseShapes($0) }
                    let backendNames = chosenBackends.isEmpty
                        ? group.backends
                        : chosenBackends.filter { $0.capabilities[workload]?.contains(dtype) == true }.map(\.name)
                    for shape in shapes {
                        for t in threads {
                            // Case order as listed: our kernels first, libraries after (their phase ends
                            // with an idle wait).
                            for backend in backendNames {
                                cases.append(CaseSpec(workload: workload, backend: backend, dtype: dtype, shape: shape, threads: t))
                            }
                        }
                    }
                }
            }
        }
        if let file = selection.weightsFile {
            cases = try cases.map { spec in
                guard case var .llm(l) = spec.shape else { return spec }
                if selection.shapes.isEmpty {
                    // A suite's or the default shape: the file's model, whole.
                    (l.model, l.layers, l.vocab) = (LLMShape.fileModel, nil, nil)
                } else if l.model != LLMShape.fileModel {
                    var fixed = l
                    (fixed.model, fixed.vocab) = (LLMShape.fileModel, nil)
                    throw AccelBenchError(
                        .invalidShape,
                        "llm shape \(l): with --weights, llm shapes run the file's model: write \(fixed) (a preset's synthetic weights run without --weights)")
                }
                if let vocab = l.vocab {
                    throw AccelBenchError(.invalidShape, "llm shape \(l): the vocabulary of --weights \(file.path) is the file's; drop vocab\(vocab)")
                }
                if let layers = selection.layers ?? l.layers, layers > file.layers {
                    throw AccelBenchError(
                        .invalidArgument,
                        "--weights \(file.path) has \(file.layers) layers, so it cannot run \(layers); ask for 1 to \(file.layers) (--layers or the shape's layersN)")
                }
                var changed = spec
                changed.shape = .llm(l)
                return changed
            }
        } else if let gguf = cases.first(where: { if case let .llm(l) = $0.shape { l.model == LLMShape.fileModel } else { false } }) {
            throw AccelBenchError(.invalidArgument, "llm shape \(gguf.shape) runs the model of a GGUF file; pass it with --weights FILE.gguf")
        }
        if selection.layers != nil || selection.vocab != nil {
            cases = cases.map { spec in
                guard case var .llm(l) = spec.shape else { return spec }
                l.layers = selection.layers ?? l.layers
                l.vocab = selection.vocab ?? l.vocab
                var changed = spec
                changed.shape = .llm(l)
                return changed
            }
        }
        // A projection has no threads: one case per shape, at 1.
        let projecting = Set(chosenBackends.filter { $0 is any ProjectingBackend }.map(\.name))
        if !projecting.isEmpty {
            cases = cases.map { spec in
                var one = spec
                if projecting.contains(spec.backend) { one.threads = 1 }
                return one
            }
        }
        cases = RunPlan.unique(cases)
        for backend in chosenBackends where !cases.contains(where: { $0.backend == backend.name }) {
            let offers = backend.capabilities.sorted { $0.key.rawValue < $1.key.rawValue }
                .map { "\($0.key.rawValue) (\($0.value.map(\.rawValue).joined(separator: ", ")))" }.joined(separator: "; ")
            throw AccelBenchError(
                .unsupportedCase,
                "backend \(backend.name) implements none of the selected workloads/dtypes; it implements: \(offers)")
        }
        guard !cases.isEmpty else {
            throw AccelBenchError(.invalidArgument, "the selection contains no case to run")
        }
        self.cases = cases
    }

    /// Refuses cases whose buffers exceed the memory available now, naming what they need.
    public func checkMemory(availableBytes: Int) throws {
        for spec in cases {
            let needed = spec.workload.bufferBytes(spec.shape, dtype: spec.dtype)
            if needed > availableBytes {
                throw AccelBenchError(
                    .insufficientMemory,
                    "\(spec.workload.rawValue) \(spec.dtype.rawValue) \(spec.shape) needs \(Format.bytes(needed)) of buffers, but only \(Format.bytes(availableBytes)) of memory is available; choose a smaller shape"
                )
            }
        }
    }

    /// The shape a workload runs at when neither the suite nor the user names one.
    static func defaultShape(_ workload: Workload, streamElements: Int) -> String {
        switch workload {
        case .matmul: "1024x1024x1024"
        case .stream: "\(streamElements)"
        case .attention: "llama3-8b:prefill2048"
        case .qgemv: "4096x1x4096"
        case .qgemm: "4096x512x4096"
        case .llm: "llama3-8b:tg128:layers4:vocab32000"
        }
    }

    static func unique<T: Hashable>(_ values: [T]) -> [T] {
        var seen = Set<T>()
        return values.filter { seen.insert($0).inserted }
    }
}
