import AccelBenchCore
import Testing
@testable import AccelBenchCPU

/// A short stopping rule: these tests check behaviour, not speed.
let quickRule = StoppingRule(minSamples: 3, minSeconds: 0, maxNoise: 1, timeoutSeconds: 0.2, warmupSeconds: 0, minSampleSeconds: 0)

func runCase(_ spec: CaseSpec, _ backend: any Backend) -> CaseResult {
    CaseRunner(measurer: Measurer(rule: quickRule)).run(spec, on: backend, pool: WorkerPool(threadCount: spec.threads))
}

@Suite struct BackendTests {
    static let matmulShapes: [Shape] = [
        .matmul(m: 1, n: 1, k: 1), .matmul(m: 7, n: 13, k: 5), .matmul(m: 65, n: 33, k: 129), .matmul(m: 77, n: 96, k: 33),
    ]

    @Test(arguments: [1, 2])
    func everyMatmulBackendIsCorrect(threads: Int) {
        let backends: [any Backend] = [SwiftSIMDBackend(), BF16Backend(), OpenBLASBackend(idleAfterPhaseSeconds: 0), ReferenceBackend()]
        for backend in backends {
            for dtype in backend.capabilities[.matmul] ?? [] {
                for shape in BackendTests.matmulShapes {
                    let spec = CaseSpec(workload: .matmul, backend: backend.name, dtype: dtype, shape: shape, threads: threads)
                    let result = runCase(spec, backend)
                    if backend.unsupportedReason(spec) != nil {
                        #expect(result.status == .skipped, "\(spec)")
                        #expect(result.reason?.isEmpty == false)
                        continue
                    }
                    #expect(result.status == .passed, "\(spec): \(result.reason ?? "")")
                    #expect(result.correctness?.passed == true)
                    #expect((result.throughput?.median ?? 0) > 0)
                    #expect(result.kernelPath?.isEmpty == false)
                }
            }
        }
    }

    @Test(arguments: [1, 2])
    func streamKernelsAreCorrect(threads: Int) {
        for kernel in StreamKernel.allCases {
            for elements in [1, 7, 1000] {
                let spec = CaseSpec(workload: .stream, backend: "c", dtype: .fp64, shape: .stream(kernel: kernel, elements: elements), threads: threads)
                let result = runCase(spec, StreamBackend())
                #expect(result.status == .passed, "\(spec): \(result.reason ?? "")")
                #expect(result.unit == .gbytesPerSecond)
            }
        }
    }

    @Test func referenceRefusesLargeShapes() {
        let spec = CaseSpec(workload: .matmul, backend: "reference", dtype: .fp32, shape: .matmul(m: 4096, n: 4096, k: 4096), threads: 1)
        let result = runCase(spec, ReferenceBackend())
        #expect(result.status == .skipped)
        #expect(result.reason?.contains("tiny") == true)
    }

    @Test func backendsRefuseOtherWorkloads() {
        let spec = CaseSpec(workload: .stream, backend: "openblas", dtype: .fp64, shape: .stream(kernel: .copy, elements: 8), threads: 1)
        #expect(OpenBLASBackend().unsupportedReason(spec) != nil)
        #expect(SwiftSIMDBackend().unsupportedReason(spec) != nil)
        #expect(throws: AccelBenchError.self) { try CPUBackends.named("cublas", in: CPUBackends.all()) }
    }
}

@Suite struct MatmulCheckTests {
    @Test func catchesWrongAndUnwrittenOutputs() {
        let buffers = MatmulBuffers(m: 9, n: 11, k: 70, seed: 1, checkSamples: 1000)
        // Correct output from the float64 definition.
        for i in 0..<9 {
            for j in 0..<11 {
                var s = 0.0
                for p in 0..<70 { s += Double(buffers.a[i * 70 + p]) * Double(buffers.b[p * 11 + j]) }
                buffers.c[i * 11 + j] = Float(s)
            }
        }
        #expect(buffers.check().passed)
        // One dropped product in one element.
        let saved = buffers.c[4 * 11 + 5]
        buffers.c[4 * 11 + 5] -= buffers.a[4 * 70 + 3] * buffers.b[3 * 11 + 5]
        #expect(!buffers.check().passed)
        buffers.c[4 * 11 + 5] = saved
        // An unwritten (poisoned) element.
        buffers.c[8 * 11 + 10] = .nan
        let check = buffers.check()
        #expect(!check.passed && check.nonFinite == 1)
        #expect(check.explanation.contains("NaN"))
        buffers.poison()
        #expect(buffers.check().nonFinite == 99)
    }

    @Test func toleranceGrowsWithK() {
        #expect(MatmulCheck.tolerance(k: 4096).value > MatmulCheck.tolerance(k: 64).value)
        // A dropped product (about 1/K of the magnitude) stays above the tolerance.
        for k in [16, 1024, 4096, 16384] {
            #expect(1.0 / Double(k) >= MatmulCheck.tolerance(k: k).value * 2)
        }
    }

    @Test func bf16RoundingIsNearestEven() {
        #expect(BFloat16.bits(1.0) == 0x3F80)
        #expect(BFloat16.bits(Float(bitPattern: 0x3F80_8000)) == 0x3F80)  // tie, even stays
        #expect(BFloat16.bits(Float(bitPattern: 0x3F81_8000)) == 0x3F82)  // tie, odd rounds up
        #expect(BFloat16.bits(Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        #expect(BFloat16.float(BFloat16.bits(.nan)).isNaN)
    }
}

@Suite struct CeilingsTests {
    func figure(_ id: String, _ value: Double, threads: Int) -> Figure {
        Figure(id: id, label: id, value: value, unit: "x", method: "m", threads: threads)
    }

    @Test func peaksFollowThreadsAndDtype() {
        let cpu = CPUIdentity(vendor: "AuthenticAMD", family: 0x19, model: 17, brand: "AMD EPYC", features: ["avx512f", "avx2", "fma"])
        let c = Ceilings(
            cpu: cpu, cores: 4, clock: figure("clock.ghz", 3.5, threads: 1), fmaPath: "avx512",
            fp32SingleCore: figure("fp32.fma.gflops.1t", 100, threads: 1), fp32AllCores: figure("fp32.fma.gflops.all", 380, threads: 4),
            fp32FlopsPerCycleMeasured: 28.6, fp32FlopsPerCycleNominal: 32, nominalRule: "r", fp32NominalPeakGFLOPS: 448,
            bf16SingleCore: nil, bf16AllCores: nil,
            memory: [figure("memory.read.gbps.1t", 20, threads: 1), figure("memory.read.gbps.all", 60, threads: 4)],
            streamElements: 1 << 20)
        func spec(_ w: Workload, _ d: DType, _ t: Int) -> CaseSpec {
            CaseSpec(workload: w, backend: "x", dtype: d, shape: .matmul(m: 1, n: 1, k: 1), threads: t)
        }
        #expect(c.peak(for: spec(.matmul, .fp32, 1))?.value == 100)
        #expect(c.peak(for: spec(.matmul, .fp32, 4))?.value == 380)
        #expect(c.peak(for: spec(.matmul, .fp32, 2))?.value == 200)
        #expect(c.peak(for: spec(.matmul, .bf16, 1)) == nil)
        #expect(c.peak(for: spec(.stream, .fp64, 4))?.value == 60)
        #expect(c.peak(for: spec(.stream, .fp64, 4))?.unit == .gbytesPerSecond)
        // An all-core compute figure disturbed by another process is not used as the ceiling.
        var disturbed = c
        disturbed.fp32AllCores.value = 150
        #expect(disturbed.peak(for: spec(.matmul, .fp32, 4))?.value == 400)
        #expect(Ceilings.scalingWarnings(cores: 4, pairs: [(disturbed.fp32SingleCore, disturbed.fp32AllCores)]).count == 1)
        #expect(Ceilings.scalingWarnings(cores: 4, pairs: [(c.fp32SingleCore, c.fp32AllCores)]).isEmpty)
    }

    @Test func nominalFlopsPerCycleFromTheISA() {
        var cpu = CPUIdentity(vendor: "AuthenticAMD", family: 0x19, model: 17, brand: "", features: ["avx2", "fma", "avx512f"])
        #expect(cpu.nominalFP32FlopsPerCycle.flops == 32)
        cpu.vendor = "GenuineIntel"
        cpu.family = 6
        #expect(cpu.nominalFP32FlopsPerCycle.flops == 64)
        cpu.features = ["avx2", "fma"]
        #expect(cpu.nominalFP32FlopsPerCycle.flops == 32)
        cpu.features = ["sse2"]
        #expect(cpu.nominalFP32FlopsPerCycle.flops == 8)
        #expect(CPUIdentity.reportedMHz(cpuinfo: "processor\t: 0\ncpu MHz\t\t: 2596.000\n") == 2596)
    }

    @Test func streamArraysAreFourTimesTheCache() {
        let elements = CeilingsProbe.streamElements(lastLevelCacheBytes: 32 << 20)
        #expect(elements * 8 >= 4 * (32 << 20))
        #expect(CeilingsProbe.streamElements(lastLevelCacheBytes: 0) >= 1 << 20)
    }

    @Test func detectsThisCPU() {
        let cpu = CPUIdentity.detect()
        #if arch(x86_64)
        #expect(!cpu.vendor.isEmpty)
        #expect(cpu.has("sse2"))
        #endif
    }
}

@Suite struct SuiteTests {
    @Test func everySuiteShapeParses() throws {
        for suite in Suite.allCases {
            for entry in suite.entries {
                for shape in entry.shapes { _ = try entry.workload.parseShapes(shape) }
                #expect(entry.workload.dtypes.contains(entry.dtype))
            }
        }
        let standard = Suite.standard.entries.flatMap(\.shapes)
        for shape in Suite.awkwardShapes + ["1024x1024x1024", "2048x2048x2048", "4096x4096x4096"] {
            #expect(standard.contains(shape))
        }
    }
}

@Suite struct StreamRotationTests {
    @Test func smallArraysRotateThroughCopiesLargerThanTheCache() throws {
        let spec = CaseSpec(workload: .stream, backend: "c", dtype: .fp64, shape: .stream(kernel: .triad, elements: 1000), threads: 2)
        let pool = WorkerPool(threadCount: 2)
        let prepared = try StreamBackend().prepare(spec, context: CaseContext(pool: pool, seed: 3, lastLevelCacheBytes: 1 << 20))
        // 4 MiB / (3 arrays x 8000 bytes) = 175 copies.
        #expect(prepared.kernelPath.contains("rotating 175 copies"))
        for _ in 0..<200 {
            prepared.poisonOutputs()
            prepared.run()
            #expect(prepared.check().passed)
        }
        let result = CaseRunner(measurer: Measurer(rule: quickRule), lastLevelCacheBytes: 1 << 20).run(spec, on: StreamBackend(), pool: pool)
        #expect(result.status == .passed)
    }
}
