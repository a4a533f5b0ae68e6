import AccelBenchCore
import AccelBenchKernels

/// The backends built into accelbench for this machine's CPU.
public enum CPUBackends {
    /// - Parameter isa: forces the instruction-set path of our own kernels (nil: the best this CPU has).
    public static func all(isa: CPUISA? = nil) -> [any Backend] {
        [SwiftSIMDBackend(isa: isa), BF16Backend(), QuantBackend(path: isa.map(QuantizedGEMMPlan.Path.init(isa:))), OpenBLASBackend(), ReferenceBackend(), StreamBackend()]
    }

    /// Looks a backend up by name, listing the valid names when it is unknown.
    public static func named(_ name: String, in backends: [any Backend]) throws -> any Backend {
        guard let backend = backends.first(where: { $0.name == name.lowercased() }) else {
            throw AccelBenchError(
                .unknownBackend,
                "unknown backend '\(name)'; valid backends: \(backends.map(\.name).joined(separator: ", "))")
        }
        return backend
    }
}
