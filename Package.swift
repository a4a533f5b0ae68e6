// swift-tools-version: 6.0
import PackageDescription

// The CPU kernels are compiled once per instruction-set level; the dispatcher in AccelBenchKernels
// picks one at run time (cpuid), so the binary never executes an instruction the CPU lacks.
// A default SwiftPM release build targets baseline x86-64 (SSE2), which turns SIMD FMAs into
// per-lane library calls: the CPU target must be set per kernel module.
#if arch(x86_64)
let avx512Flags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "skylake-avx512"]), .define("ACCELBENCH_AVX512")]
let avx2Flags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"]), .define("ACCELBENCH_AVX2")]
#else
// Elsewhere these modules are never entered (CPUISA reports only `portable`); build them for the host.
let avx512Flags: [SwiftSetting] = []
let avx2Flags: [SwiftSetting] = []
#endif

let package = Package(
    name: "accelbench",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "accelbench", targets: ["accelbench"]),
        // A stand-in for libnvidia-ml.so.1 that the power tests load with dlopen (not shipped).
        .library(name: "nvidia-ml-stub", type: .dynamic, targets: ["NVMLStub"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Public modules
        .target(name: "AccelBenchCore"),
        .target(name: "AccelBenchTopology", dependencies: ["CHwloc", "AccelBenchCore"]),
        .target(
            name: "AccelBenchKernels",
            dependencies: ["AccelBenchCore", "KernelsAVX512", "KernelsAVX2", "KernelsPortable", "CKernels"]),
        .target(
            name: "AccelBenchCPU",
            dependencies: ["AccelBenchCore", "AccelBenchKernels", "AccelBenchTopology", "COpenBLAS", "CKernels"]),
        .target(name: "AccelBenchLLM", dependencies: ["AccelBenchCore", "AccelBenchKernels"]),
        .target(name: "AccelBenchPower", dependencies: ["AccelBenchCore"]),
        .target(
            name: "AccelBenchCLI",
            dependencies: [
                "AccelBenchCore", "AccelBenchTopology", "AccelBenchCPU", "AccelBenchLLM", "AccelBenchPower",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "accelbench", dependencies: ["AccelBenchCLI"]),

        // Implementation: per-ISA Swift kernel modules (no dependencies, raw pointers in and out)
        .target(name: "KernelsAVX512", swiftSettings: avx512Flags),
        .target(name: "KernelsAVX2", swiftSettings: avx2Flags),
        .target(name: "KernelsPortable"),
        // C kernels: bf16 (vdpbf16ps cannot be expressed in Swift), STREAM, clock and FMA probes
        .target(
            name: "CKernels", path: "kernels/cpu",
            cSettings: [.unsafeFlags(["-O3"])]),

        // System libraries through pkg-config
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHwloc", pkgConfig: "hwloc", providers: [.apt(["libhwloc-dev"])]),

        // Test support: the NVML stub behind the "nvidia-ml-stub" product (Tests/Stubs/nvml/nvml_stub.c)
        .target(name: "NVMLStub", path: "Tests/Stubs/nvml"),

        // Tests
        .testTarget(name: "AccelBenchCoreTests", dependencies: ["AccelBenchCore"]),
        .testTarget(name: "AccelBenchTopologyTests", dependencies: ["AccelBenchTopology"], resources: [.copy("Fixtures")]),
        .testTarget(name: "AccelBenchKernelsTests", dependencies: ["AccelBenchKernels", "AccelBenchCore", "CKernels"]),
        .testTarget(name: "AccelBenchCPUTests", dependencies: ["AccelBenchCPU", "AccelBenchCore"]),
        .testTarget(name: "AccelBenchLLMTests", dependencies: ["AccelBenchLLM", "AccelBenchKernels", "AccelBenchCore"]),
        .testTarget(name: "AccelBenchPowerTests", dependencies: ["AccelBenchPower", "AccelBenchCore"]),
        .testTarget(name: "AccelBenchCLITests", dependencies: ["AccelBenchCLI", "AccelBenchCore", "AccelBenchLLM"]),
    ]
)
