import AccelBenchCore
import Testing

@testable import AccelBenchKernels

/// fp32 GEMM against the Float64 reference. Tolerance: `ReferenceGEMM.errorBound(k:)` on the scaled
/// error `|c - ref| / (2^-24 * sum_p |a_ip b_pj|)` (see ReferenceGEMM): k + 2, the worst case of any
/// fp32 summation order; a wrong, missing or doubled term is off by about 2^24 / k, and an element
/// left unwritten stays NaN (C is poisoned before every call) and fails the comparison.
@Suite struct SGEMMTests {
    struct Shape: CustomStringConvertible {
        var m: Int, n: Int, k: Int
        /// Extra columns beyond the matrix in each row (leading dimension = columns + pad).
        var padA = 0, padB = 0, padC = 0
        var description: String { "\(m)x\(n)x\(k) pads \(padA)/\(padB)/\(padC)" }
    }

    /// Matrices stored inside larger buffers: each operand starts at a non-zero offset and its rows
    /// are `pad` floats longer than the matrix, so the kernels see a sub-block. The C buffer's floats
    /// outside the block hold a sentinel that must survive.
    struct Problem {
        let shape: Shape
        let lda: Int, ldb: Int, ldc: Int
        var aBuffer: [Float], bBuffer: [Float], cBuffer: [Float]
        static let offset = 3
        static let sentinel: Float = 12345.5

        init(_ shape: Shape, seed: UInt64) {
            self.shape = shape
            lda = shape.k + shape.padA
            ldb = shape.n + shape.padB
            ldc = shape.n + shape.padC
            var g = SeededGenerator(seed: seed)
            aBuffer = (0..<(Problem.offset + shape.m * lda + 1)).map { _ in Float.random(in: -1...1, using: &g) }
            bBuffer = (0..<(Problem.offset + shape.k * ldb + 1)).map { _ in Float.random(in: -1...1, using: &g) }
            cBuffer = [Float](repeating: Problem.sentinel, count: Problem.offset + shape.m * ldc + 1)
            for i in 0..<shape.m {
                for j in 0..<shape.n { cBuffer[Problem.offset + i * ldc + j] = .nan }
            }
        }

        /// Runs `body(a, b, c)` on the block pointers, then returns the largest scaled error and
        /// whether every float outside the C block still holds the sentinel.
        mutating func check(
            _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void
        ) -> (error: Double, outsideIntact: Bool) {
            let (m, n, k) = (shape.m, shape.n, shape.k)
            let (lda, ldb, ldc) = (self.lda, self.ldb, self.ldc)
            var error = 0.0
            aBuffer.withUnsafeBufferPointer { a in
                bBuffer.withUnsafeBufferPointer { b in
                    cBuffer.withUnsafeMutableBufferPointer { c in
                        let ap = a.baseAddress! + Problem.offset
                        let bp = b.baseAddress! + Problem.offset
                        let cp = c.baseAddress! + Problem.offset
                        body(ap, bp, cp)
                        error = ReferenceGEMM.maxScaledError(
                            m: m, n: n, k: k, a: ap, lda: lda, b: bp, ldb: ldb, c: cp, ldc: ldc)
                    }
                }
            }
            var intact = true
            for index in cBuffer.indices {
                let local = index - Problem.offset
                let inside = local >= 0 && local / ldc < m && local % ldc < n
                if !inside && cBuffer[index] != Problem.sentinel { intact = false }
            }
            return (error, intact)
        }
    }

    /// Edge shapes for one ISA's tile (mr x nr) and blocking (kc, mc).
    static func edgeShapes(_ isa: CPUISA) -> [Shape] {
        let (mr, nr) = SGEMMKernels.tile(isa: isa)
        let (kc, mc, _) = SGEMMKernels.blocking(isa: isa)
        return [
            Shape(m: 1, n: 1, k: 1),
            Shape(m: 1, n: 1, k: 0),  // k = 0: C is zeroed
            Shape(m: mr - 1, n: nr - 1, k: 3),
            Shape(m: mr, n: nr, k: 5),
            Shape(m: mr + 1, n: nr + 1, k: 7),
            Shape(m: 2 * mr + 1, n: 2 * nr + 3, k: 1),
            Shape(m: 2 * mr, n: 3 * nr, k: 17),  // full tiles only, odd K
            Shape(m: mr + 2, n: nr + 5, k: kc + 3),  // two depth blocks (kc + 3 splits evenly)
            Shape(m: 3, n: 2 * nr + 1, k: 2 * kc + 1),  // three depth blocks, m < mr
            Shape(m: mc + mr + 1, n: nr - 7, k: 9),  // two row blocks; n < nr: A read in place
            // B packed a chunk of panels at a time, several chunks (one row block: a reused buffer;
            // two row blocks: packed once, reused by the second).
            Shape(m: 2 * mr + 1, n: max(5 * nr + 3, 403), k: kc),
            Shape(m: mc + 1, n: max(2 * nr + 1, 403), k: kc - 1),
            Shape(m: 4 * mr + 5, n: nr, k: 21),  // one panel wide: A read in place, ragged last rows
            Shape(m: mr, n: 3 * nr + 9, k: 13),  // one panel tall: B read in place, ragged last panel
            Shape(m: mr - 1, n: 2 * nr, k: 13),  // fewer rows than a panel: a ragged A panel
            Shape(m: 5, n: 7, k: 11, padA: 3, padB: 5, padC: 9),
            Shape(m: 2 * mr + 3, n: 2 * nr + 1, k: 19, padA: 1, padB: 17, padC: 33),
            Shape(m: mr, n: nr, k: 9, padA: 16, padB: 16, padC: 16),
            // Small versions of the benchmark's awkward shapes (77x4096x333, 4096x64x4096, 1000^3).
            Shape(m: 77, n: 3 * nr + 10, k: 33),
            Shape(m: 40, n: 64, k: 50),
            Shape(m: 37, n: 41, k: 43),
        ]
    }

    @Test(arguments: CPUISA.supportedISAs)
    func singleThreadedKernelMatchesReference(isa: CPUISA) {
        for (index, shape) in SGEMMTests.edgeShapes(isa).enumerated() {
            var problem = Problem(shape, seed: UInt64(index + 1))
            let workspace = UnsafeMutablePointer<Float>.allocate(
                capacity: max(1, SGEMMKernels.workspaceFloats(isa: isa, m: shape.m, n: shape.n, k: shape.k)))
            defer { workspace.deallocate() }
            let (lda, ldb, ldc) = (problem.lda, problem.ldb, problem.ldc)
            let result = problem.check { a, b, c in
                SGEMMKernels.sgemm(
                    isa: isa, m: shape.m, n: shape.n, k: shape.k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
                    workspace: workspace)
            }
            #expect(result.error <= ReferenceGEMM.errorBound(k: shape.k), "\(isa) \(shape): error \(result.error)")
            #expect(result.outsideIntact, "\(isa) \(shape): wrote outside the C block")
        }
    }

    @Test(arguments: CPUISA.supportedISAs)
    func misalignedWorkspaceIsCorrect(isa: CPUISA) {
        let shape = Shape(m: 13, n: 70, k: 21)
        var problem = Problem(shape, seed: 99)
        let floats = SGEMMKernels.workspaceFloats(isa: isa, m: shape.m, n: shape.n, k: shape.k)
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: floats + 1)
        defer { buffer.deallocate() }
        let (lda, ldb, ldc) = (problem.lda, problem.ldb, problem.ldc)
        let result = problem.check { a, b, c in
            SGEMMKernels.sgemm(
                isa: isa, m: shape.m, n: shape.n, k: shape.k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
                workspace: buffer + 1)
        }
        #expect(result.error <= ReferenceGEMM.errorBound(k: shape.k))
    }

    @Test(arguments: CPUISA.supportedISAs)
    func planWithTwoWorkersMatchesReference(isa: CPUISA) {
        let pool = WorkerPool(threadCount: 2)
        let (mr, nr) = SGEMMKernels.tile(isa: isa)
        let shapes = [
            Shape(m: 50, n: 3 * nr + 5, k: 40),
            Shape(m: 3, n: 5 * nr + 1, k: 10),  // one panel tall
            Shape(m: 8 * mr + 1, n: 10, k: 30),  // one panel wide
            Shape(m: 1, n: 1, k: 4),  // one worker has nothing to do
            Shape(m: 2 * mr + 1, n: 2 * nr + 1, k: 9, padA: 2, padB: 3, padC: 4),
        ]
        for (index, shape) in shapes.enumerated() {
            for split in [nil] + SGEMMPlan.Split.allCases.map(Optional.some) {
                let plan = SGEMMPlan(m: shape.m, n: shape.n, k: shape.k, isa: isa, pool: pool, split: split)
                var problem = Problem(shape, seed: UInt64(100 + index))
                let (lda, ldb, ldc) = (problem.lda, problem.ldb, problem.ldc)
                // Twice: the second call reuses the workspaces and must overwrite C again.
                for _ in 0..<2 {
                    let result = problem.check { a, b, c in
                        plan.run(a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
                    }
                    #expect(
                        result.error <= ReferenceGEMM.errorBound(k: shape.k),
                        "\(isa) \(shape) split \(plan.split): error \(result.error)")
                    #expect(result.outsideIntact)
                    for i in 0..<shape.m {
                        for j in 0..<shape.n { problem.cBuffer[Problem.offset + i * ldc + j] = .nan }
                    }
                }
            }
        }
    }

    @Test func slicesCoverCInWholePanels() {
        for isa in CPUISA.allCases {
            let (mr, nr) = SGEMMKernels.tile(isa: isa)
            for (m, n) in [(1, 1), (77, 4096), (4096, 64), (1000, 1000), (5, 3)] {
                for split in SGEMMPlan.Split.allCases {
                    let slices = SGEMMPlan.slices(m: m, n: n, isa: isa, workers: 2, split: split)
                    #expect(slices.count == 2)
                    let covered = slices.reduce(0) { $0 + $1.rows.count * $1.columns.count }
                    #expect(covered == m * n)
                    for slice in slices where !slice.isEmpty {
                        #expect(slice.rows.lowerBound % mr == 0 && slice.columns.lowerBound % nr == 0)
                    }
                }
            }
        }
    }

    @Test func splitChoiceFollowsTheShape() {
        // One panel wide: only a row split gives both workers work.
        #expect(SGEMMPlan.cheaperSplit(m: 4096, n: 64, k: 4096, isa: .avx512, workers: 2) == .rows)
        // Few rows, many columns: a column split.
        #expect(SGEMMPlan.cheaperSplit(m: 77, n: 4096, k: 333, isa: .avx512, workers: 2) == .columns)
        #expect(SGEMMPlan.cheaperSplit(m: 4096, n: 512, k: 4096, isa: .avx512, workers: 2) == .rows)
        #expect(SGEMMPlan.cheaperSplit(m: 512, n: 4096, k: 4096, isa: .avx512, workers: 2) == .columns)
        #expect(SGEMMPlan.cheaperSplit(m: 1024, n: 1024, k: 1024, isa: .avx512, workers: 2) == .columns)
    }

    @Test func isaDetectionIsConsistent() {
        let supported = CPUISA.supportedISAs
        #expect(supported.first == CPUISA.detect())
        #expect(supported.last == .portable)
        #expect(CPUISA.portable.isSupported(features: 0))
        #if arch(x86_64)
        #expect(!CPUISA.avx2.isSupported(features: CPUISA.avx2.requiredFeatures & ~(UInt32(1) << 2)))
        #expect(CPUISA.avx2.isSupported(features: CPUISA.avx512.requiredFeatures))
        #expect(!CPUISA.avx512.isSupported(features: CPUISA.avx2.requiredFeatures))
        #endif
    }

    @Test func referenceErrorMeasure() {
        // Exact product: zero error; a perturbed element: the measure scales with the perturbation.
        let a: [Float] = [1, 2, 3, 4]  // 2 x 2
        let b: [Float] = [5, 6, 7, 8]
        var c: [Float] = [19, 22, 43, 50]
        #expect(ReferenceGEMM.maxScaledError(m: 2, n: 2, k: 2, a: a, lda: 2, b: b, ldb: 2, c: c, ldc: 2) == 0)
        c[3] = 50 + 50 * 0x1p-20
        let error = ReferenceGEMM.maxScaledError(m: 2, n: 2, k: 2, a: a, lda: 2, b: b, ldb: 2, c: c, ldc: 2)
        #expect(error > 10 && error < 20)
        c[0] = .nan
        #expect(ReferenceGEMM.maxScaledError(m: 2, n: 2, k: 2, a: a, lda: 2, b: b, ldb: 2, c: c, ldc: 2).isNaN)
    }
}
