import CKernels

/// The instruction-set level a CPU kernel module is compiled for. Each level's module may execute any
/// instruction its `-target-cpu` enables (the compiler picks them, not only the kernel's SIMD code), so
/// a level counts as supported only when the CPU (and the OS, for vector state) has every feature that
/// target enables which code generation can emit on its own.
public enum CPUISA: String, Sendable, CaseIterable {
    /// `-target-cpu skylake-avx512`: AVX-512 F/CD/BW/DQ/VL plus everything `avx2` needs, and PREFETCHW.
    case avx512
    /// `-target-cpu haswell`: AVX2, FMA, F16C, BMI1, BMI2, LZCNT, MOVBE, POPCNT.
    case avx2
    /// The baseline target (SSE2 on x86-64, NEON on arm64): runs anywhere.
    case portable

    /// Feature bits (CKERNELS_FEAT_*) the module for this level needs.
    public var requiredFeatures: UInt32 {
        let haswell: UInt32 = UInt32(CKERNELS_FEAT_AVX) | UInt32(CKERNELS_FEAT_AVX2) | UInt32(CKERNELS_FEAT_FMA)
            | UInt32(CKERNELS_FEAT_F16C) | UInt32(CKERNELS_FEAT_BMI1) | UInt32(CKERNELS_FEAT_BMI2)
            | UInt32(CKERNELS_FEAT_LZCNT) | UInt32(CKERNELS_FEAT_MOVBE) | UInt32(CKERNELS_FEAT_POPCNT)
        switch self {
        case .avx512:
            let avx512: UInt32 = UInt32(CKERNELS_FEAT_AVX512F) | UInt32(CKERNELS_FEAT_AVX512CD)
                | UInt32(CKERNELS_FEAT_AVX512BW) | UInt32(CKERNELS_FEAT_AVX512DQ) | UInt32(CKERNELS_FEAT_AVX512VL)
                | UInt32(CKERNELS_FEAT_PRFCHW)
            return haswell | avx512
        case .avx2:
            return haswell
        case .portable:
            return 0
        }
    }

    /// Whether a CPU with `features` (a `ckernels_cpu_features()` bit set) can run this level.
    public func isSupported(features: UInt32) -> Bool {
        #if arch(x86_64)
        return features & requiredFeatures == requiredFeatures
        #else
        // The avx512 and avx2 modules are x86-64 code; elsewhere only the portable one exists.
        return self == .portable
        #endif
    }

    /// Whether this machine can run this level.
    public var isSupported: Bool { isSupported(features: ckernels_cpu_features()) }

    /// The best level this machine supports.
    public static func detect() -> CPUISA {
        let features = ckernels_cpu_features()
        return allCases.first { $0.isSupported(features: features) } ?? .portable
    }

    /// Every level this machine supports, best first (always ends with `.portable`).
    public static var supportedISAs: [CPUISA] {
        let features = ckernels_cpu_features()
        return allCases.filter { $0.isSupported(features: features) }
    }
}
