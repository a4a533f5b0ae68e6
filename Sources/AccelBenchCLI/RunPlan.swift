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

        public init() {}
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
        if workloads.isEmpty {
            // The backends' workloads when backends were named, else the suite's.
            workloads = chosenBackends.flatMap { $0.capabilities.keys.sorted { $0.rawValue < $1.rawValue } }
            if workloads.isEmpty { workloads = selection.suite.entries.map(\.workload) }
        }
        workloads = RunPlan.unique(workloads)
        if selection.workloads.isEmpty && !selection.shapes.isEmpty {
            // Shapes without a workload: the workloads whose shape syntax takes them (1024x1024x1024 is a
            // matmul, llama3-8b:decode8192 an attention shape).
            let fitting = workloads.filter { w in selection.shapes.allSatisfy { (try? w.parseShapes($0)) != nil } }
            if fitting.isEmpty, let first = workloads.first {
                for shape in selection.shapes { _ = try first.parseShapes(shape) }
            }
            workloads = fitting
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
