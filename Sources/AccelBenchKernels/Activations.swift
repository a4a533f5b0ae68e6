import KernelsAVX2
import KernelsAVX512
import KernelsPortable

/// Elementwise activations of an LLM step with the chosen ISA's vector code.
public enum Activation {
    /// gate[i] = silu(gate[i]) · up[i] for i in `range` (see `KernelsPortable.ActivationSwiGLU`).
    public static func swiGLU(isa: CPUISA, gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, range: Range<Int>) {
        switch isa {
        case .avx512: KernelsAVX512.ActivationSwiGLU.apply(gate: gate, up: up, range: range)
        case .avx2: KernelsAVX2.ActivationSwiGLU.apply(gate: gate, up: up, range: range)
        case .portable: KernelsPortable.ActivationSwiGLU.apply(gate: gate, up: up, range: range)
        }
    }
}
