import AccelBenchCore
import Testing

@testable import AccelBenchKernels

/// Decode attention (AttentionDecodePlan) against the float64 `AttentionReference`, every output
/// element of every row, on every ISA this machine supports, with 1 and 2 workers.
///
/// Error metrics, per element: |o - ref| / (magnitude + tiny), where magnitude = Σ_j p_j·|v_j| is
/// the scale the fp32 accumulation of P·V is measured against (a dropped, doubled or misplaced term
/// moves the result by a sizeable fraction of it), and over the whole output the NMSE
/// Σ (o - ref)² / Σ ref². O is NaN-poisoned before each run: an element left unwritten fails both.
@Suite struct AttentionDecodeTests {
    /// Largest accepted scaled error. fp32 dot products over headDim (<= 256) and the exp polynomials
    /// (relative error ~2e-7) put a few 1e-7 of relative error into each probability; observed: at
    /// most 2e-7 on every ISA, including scores of order 1000 (the large-logit cases).
    static let scaledErrorTolerance = 5e-6
    /// Largest accepted NMSE (observed: at most 2e-13).
    static let nmseTolerance = 1e-10

    /// One problem's inputs in the layout AttentionGeometry documents; owns its buffers.
    final class Problem {
        let geometry: AttentionGeometry
        let q: UnsafeMutablePointer<Float>
        let k: UnsafeMutableRawPointer
        let v: UnsafeMutableRawPointer
        /// K again in the decode kernel's tiles (`AttentionKeyTiles`), the layout the plan reads.
        let kTiles: UnsafeMutableRawPointer
        let o: UnsafeMutablePointer<Float>

        /// Seeded inputs in [-1, 1) (K and V rounded to fp16 when the geometry says so); Q scaled by
        /// `queryScale` (0 gives all-equal logits).
        init(_ geometry: AttentionGeometry, seed: UInt64, queryScale: Float = 1) {
            self.geometry = geometry
            var generator = SeededGenerator(seed: seed)
            q = .allocate(capacity: geometry.queryElements)
            for i in 0..<geometry.queryElements { q[i] = queryScale * generator.nextSignedUnitFloat() }
            let kvCount = geometry.kvElements
            let bytes = kvCount * geometry.kvType.bytes
            k = .allocate(byteCount: bytes, alignment: 64)
            v = .allocate(byteCount: bytes, alignment: 64)
            for buffer in [k, v] {
                for i in 0..<kvCount {
                    let x = generator.nextSignedUnitFloat()
                    switch geometry.kvType {
                    case .fp32: buffer.storeBytes(of: x, toByteOffset: i * 4, as: Float.self)
                    case .fp16: buffer.storeBytes(of: Float16(x).bitPattern, toByteOffset: i * 2, as: UInt16.self)
                    }
                }
            }
            let items = geometry.batch * geometry.kvHeads
            let tileBytes = AttentionKeyTiles.bytes(items: items, kvLength: geometry.kvLength, headDim: geometry.headDim,
                                                    elementBytes: geometry.kvType.bytes)
            kTiles = .allocate(byteCount: tileBytes, alignment: 64)
            o = .allocate(capacity: geometry.queryElements)
            tileKeys()
        }

        /// (Re)builds `kTiles` from the rows in `k`.
        func tileKeys() {
            let g = geometry
            AttentionKeyTiles.pack(rows: k, into: kTiles, items: g.batch * g.kvHeads, kvLength: g.kvLength,
                                   headDim: g.headDim, elementBytes: g.kvType.bytes)
        }

        deinit {
            q.deallocate()
            k.deallocate()
            v.deallocate()
            kTiles.deallocate()
            o.deallocate()
        }

        /// Runs `plan` on NaN-poisoned O and compares every element with the reference.
        func check(_ plan: AttentionDecodePlan) -> (scaledError: Double, nmse: Double) {
            o.initialize(repeating: .nan, count: geometry.queryElements)
            plan.run(q: q, k: kTiles, v: v, o: o)
            let g = geometry, d = g.headDim
            let scores = UnsafeMutablePointer<Double>.allocate(capacity: g.kvLength)
            defer { scores.deallocate() }
            var worst = 0.0, squaredError = 0.0, squaredRef = 0.0
            for b in 0..<g.batch {
                for h in 0..<g.heads {
                    for i in 0..<g.queryLength {
                        let ref = AttentionReference.row(g, q: q, k: k, v: v, batch: b, head: h, row: i, scores: scores)
                        let base = ((b * g.heads + h) * g.queryLength + i) * d
                        for c in 0..<d {
                            let error = abs(Double(o[base + c]) - ref.values[c])
                            // NaN compares false: count an unwritten or non-finite element as infinite.
                            let scaled = error.isFinite ? error / (ref.magnitude[c] + 1e-30) : .infinity
                            worst = max(worst, scaled)
                            squaredError += error.isFinite ? error * error : .infinity
                            squaredRef += ref.values[c] * ref.values[c]
                        }
                    }
                }
            }
            return (worst, squaredError / max(squaredRef, 1e-300))
        }
    }

    struct Case: CustomStringConvertible, Sendable {
        var geometry: AttentionGeometry
        var chunkLength: Int? = nil
        var queryScale: Float = 1
        var description: String {
            "\(geometry) \(geometry.kvType.rawValue)\(chunkLength.map { " chunk \($0)" } ?? "")"
                + (queryScale != 1 ? " qscale \(queryScale)" : "")
        }
    }

    static func geometry(
        batch: Int = 1, heads: Int = 4, kvHeads: Int = 1, q: Int = 1, kv: Int, d: Int = 64,
        causal: Bool = false, fp16: Bool = false, scale: Float? = nil
    ) -> AttentionGeometry {
        AttentionGeometry(batch: batch, heads: heads, kvHeads: kvHeads, queryLength: q, kvLength: kv,
                          headDim: d, causal: causal, kvType: fp16 ? .fp16 : .fp32, scale: scale)
    }

    static let cases: [Case] = [
        // KV length 1, with and without causal, fp32 and fp16.
        Case(geometry: geometry(kv: 1)),
        Case(geometry: geometry(kv: 1, causal: true, fp16: true)),
        // KV lengths that are not a multiple of the block (32), the K tile (16) or the chunk (the
        // plan rounds a chunk length up to whole tiles: 45 -> 48, 7 -> 16, 24 -> 32).
        Case(geometry: geometry(kv: 77), chunkLength: 32),
        Case(geometry: geometry(kv: 100, fp16: true), chunkLength: 45),
        Case(geometry: geometry(kv: 33, causal: true), chunkLength: 7),
        // Head dimensions (register tiles of 4 and 2 chunks and their remainders).
        Case(geometry: geometry(kv: 50, d: 80), chunkLength: 24),
        Case(geometry: geometry(kv: 50, d: 96, fp16: true)),
        Case(geometry: geometry(kv: 50, d: 128), chunkLength: 32),
        Case(geometry: geometry(heads: 8, kvHeads: 2, q: 2, kv: 40, d: 256, fp16: true), chunkLength: 16),
        // All-equal logits (Q = 0): the output is the mean of V.
        Case(geometry: geometry(kv: 70), chunkLength: 32, queryScale: 0),
        // Very large logits (scores of order 1000): only a max-subtracted softmax stays finite.
        Case(geometry: geometry(q: 2, kv: 90, scale: 300), chunkLength: 40),
        Case(geometry: geometry(kv: 90, fp16: true, scale: 300)),
        // Causal decode with 4 new tokens: row 0 sees kv - 3 keys.
        Case(geometry: geometry(q: 4, kv: 45, causal: true)),
        Case(geometry: geometry(q: 4, kv: 45, causal: true, fp16: true), chunkLength: 16),
        // Chunks fully masked for some rows: q = 16 causal, the last chunks are beyond the first rows.
        Case(geometry: geometry(heads: 2, q: 16, kv: 40, causal: true), chunkLength: 8),
        Case(geometry: geometry(heads: 1, q: 16, kv: 16, causal: true), chunkLength: 4),
        // GQA ratios 1, 4, 8 and row counts that are not multiples of the tile (9 = 5 + 4, 12 = 6 + 6).
        Case(geometry: geometry(heads: 3, kvHeads: 3, kv: 64), chunkLength: 32),
        Case(geometry: geometry(heads: 8, kvHeads: 2, kv: 64, fp16: true), chunkLength: 20),
        Case(geometry: geometry(heads: 8, kvHeads: 1, kv: 64), chunkLength: 32),
        Case(geometry: geometry(heads: 3, kvHeads: 1, q: 3, kv: 64, causal: true), chunkLength: 32),
        Case(geometry: geometry(heads: 4, kvHeads: 1, q: 3, kv: 64, fp16: true)),
        Case(geometry: geometry(heads: 8, kvHeads: 1, q: 7, kv: 48, causal: true, fp16: true), chunkLength: 16),
        // 8-row tiles: large logits, d = 80 (a natural-order last V chunk after the fp16 pairs),
        // blocks ending 1-8 and 9-15 positions into a 16-position K tile; 15 rows = tiles of 8 + 7.
        Case(geometry: geometry(heads: 8, kvHeads: 1, kv: 37, d: 80, fp16: true, scale: 300), chunkLength: 35),
        Case(geometry: geometry(heads: 5, kvHeads: 1, q: 3, kv: 61, causal: true), chunkLength: 29),
        // Batch > 1, several KV heads, default chunking.
        Case(geometry: geometry(batch: 2, heads: 8, kvHeads: 2, q: 2, kv: 300, fp16: true)),
        Case(geometry: geometry(batch: 3, heads: 2, kvHeads: 2, kv: 530, d: 80, causal: true)),
    ]

    @Test(arguments: cases)
    func matchesReference(_ testCase: Case) {
        let problem = Problem(testCase.geometry, seed: 0xDEC0DE, queryScale: testCase.queryScale)
        for isa in CPUISA.supportedISAs {
            for threads in [1, 2] {
                let pool = WorkerPool(threadCount: threads)
                let plan = AttentionDecodePlan(geometry: testCase.geometry, isa: isa, pool: pool,
                                               chunkLength: testCase.chunkLength)
                // Twice: the second run reuses the plan's scratch and counters.
                for _ in 0..<2 {
                    let (scaled, nmse) = problem.check(plan)
                    #expect(scaled <= Self.scaledErrorTolerance, "\(isa) \(threads)t \(plan.kernelPath): scaled error \(scaled)")
                    #expect(nmse <= Self.nmseTolerance, "\(isa) \(threads)t \(plan.kernelPath): NMSE \(nmse)")
                }
            }
        }
    }

    /// fp16 K and V are widened by moving exponent bits (exact for every finite value): zeros of both
    /// signs, subnormals (the smallest, the largest, negative), the smallest normal, ±1, the largest
    /// finite value and an ordinary one, in every lane position of the K pairs and V chunks.
    @Test func fp16WideningIsExactForEveryFiniteKind() {
        let specials: [UInt16] = [0x0000, 0x8000, 0x0001, 0x8001, 0x03ff, 0x83ff, 0x0400, 0x3c00, 0xbc00, 0x7bff, 0xfbff, 0x3555, 0x1234]
        // V of zeros and subnormals only (with the smallest normal): the output is of their size, so a
        // subnormal widened wrongly (flushed, or off by a power of two) shows.
        let small: [UInt16] = [0x0000, 0x8000, 0x0001, 0x8001, 0x03ff, 0x83ff, 0x0200, 0x0400, 0x0155]
        let g = Self.geometry(heads: 4, kvHeads: 1, kv: 80, d: 80, fp16: true, scale: 1e-4)
        for (keys, values) in [(specials, specials), (specials, small)] {
            let problem = Problem(g, seed: 7)
            for i in 0..<g.kvElements {
                problem.k.storeBytes(of: keys[i % keys.count], toByteOffset: 2 * i, as: UInt16.self)
                problem.v.storeBytes(of: values[(i * 7 + 3) % values.count], toByteOffset: 2 * i, as: UInt16.self)
            }
            problem.tileKeys()
            for isa in CPUISA.supportedISAs {
                let plan = AttentionDecodePlan(geometry: g, isa: isa, pool: WorkerPool(threadCount: 2), chunkLength: 32)
                let (scaled, nmse) = problem.check(plan)
                #expect(scaled <= Self.scaledErrorTolerance, "\(isa) V \(values.count) kinds: scaled error \(scaled)")
                #expect(nmse <= Self.nmseTolerance, "\(isa) V \(values.count) kinds: NMSE \(nmse)")
            }
        }
    }

    /// The tiled K layout: position p's element d lands where the kernel reads it, the padding of the
    /// last tile is zero, and the tile of a multiple of 16 starts at the row-major offset.
    @Test func keyTilesLayout() {
        let d = 32, kv = 20
        for bytes in [2, 4] {
            let rows = UnsafeMutableRawPointer.allocate(byteCount: kv * d * bytes, alignment: 64)
            let tiles = UnsafeMutableRawPointer.allocate(
                byteCount: AttentionKeyTiles.bytes(items: 1, kvLength: kv, headDim: d, elementBytes: bytes), alignment: 64)
            defer { rows.deallocate(); tiles.deallocate() }
            #expect(AttentionKeyTiles.itemBytes(kvLength: kv, headDim: d, elementBytes: bytes) == 32 * d * bytes)
            for p in 0..<kv {
                for e in 0..<d {
                    let value = UInt32(p * 1000 + e + 1)
                    if bytes == 2 { rows.storeBytes(of: UInt16(value), toByteOffset: (p * d + e) * 2, as: UInt16.self) }
                    else { rows.storeBytes(of: value, toByteOffset: (p * d + e) * 4, as: UInt32.self) }
                }
            }
            AttentionKeyTiles.pack(rows: rows, into: tiles, items: 1, kvLength: kv, headDim: d, elementBytes: bytes)
            for p in 0..<32 {
                let tile = p / 16, lane = p % 16
                for e in 0..<d {
                    // fp32: [tile][d][16]; fp16: [tile][d/2][16][2].
                    let index = bytes == 4 ? (tile * d + e) * 16 + lane : ((tile * d / 2 + e / 2) * 16 + lane) * 2 + e % 2
                    let stored = bytes == 2 ? UInt32(tiles.load(fromByteOffset: index * 2, as: UInt16.self))
                        : tiles.load(fromByteOffset: index * 4, as: UInt32.self)
                    #expect(stored == (p < kv ? UInt32(p * 1000 + e + 1) : 0), "\(bytes)-byte p \(p) e \(e)")
                }
            }
        }
    }

    /// The default chunking splits one token of one head over every worker and keeps whole items
    /// on one worker only when there is a single worker.
    @Test func defaultChunking() {
        let g = Self.geometry(heads: 1, kvHeads: 1, kv: 8192, fp16: true)
        #expect(AttentionDecodePlan.defaultChunkLength(g, workers: 2) < g.kvLength / 2)
        #expect(AttentionDecodePlan.defaultChunkLength(g, workers: 1) == g.kvLength)
        let short = Self.geometry(kv: 100)
        #expect(AttentionDecodePlan.defaultChunkLength(short, workers: 2) == 100)
        let wide = Self.geometry(heads: 32, kvHeads: 8, kv: 8192, fp16: true)
        let length = AttentionDecodePlan.defaultChunkLength(wide, workers: 2)
        #expect(length % AttentionDecodeKernels.blockRows == 0)
        #expect(8 * ((8192 + length - 1) / length) >= 16)
    }

    @Test func unsupportedShapes() {
        #expect(AttentionDecodePlan.unsupportedReason(Self.geometry(kv: 10)) == nil)
        #expect(AttentionDecodePlan.unsupportedReason(Self.geometry(kv: 10, d: 72)) != nil)
        #expect(AttentionDecodePlan.unsupportedReason(Self.geometry(q: 17, kv: 40)) != nil)
        #expect(AttentionDecodePlan.unsupportedReason(Self.geometry(q: 16, kv: 40, d: 256)) == nil)
    }
}
