import AccelBenchCore
import AccelBenchKernels

extension AttentionGeometry {
    /// The kernels' view of a case's shape and KV dtype.
    init(_ shape: AttentionShape, dtype: DType) {
        self.init(
            batch: shape.batch, heads: shape.heads, kvHeads: shape.kvHeads, queryLength: shape.queryLength,
            kvLength: shape.kvLength, headDim: shape.headDim, causal: shape.causal, kvType: dtype == .fp16 ? .fp16 : .fp32)
    }
}

/// The buffers of one attention case: seeded random Q (fp32, values in [-4, 4) so the softmax is far
/// from uniform), K and V (in [-1, 1), stored as fp32 or as fp16 bit patterns), and the output O.
final class AttentionBuffers {
    let geometry: AttentionGeometry
    let q: AlignedBuffer<Float>
    let k: AlignedBuffer<UInt8>
    let v: AlignedBuffer<UInt8>
    let o: AlignedBuffer<Float>
    let checker: AttentionCheck

    init(geometry g: AttentionGeometry, seed: UInt64, checkSamples: Int) {
        geometry = g
        q = AlignedBuffer(count: g.queryElements)
        o = AlignedBuffer(count: g.queryElements)
        k = AlignedBuffer(count: g.kvElements * g.kvType.bytes)
        v = AlignedBuffer(count: g.kvElements * g.kvType.bytes)
        var rng = SeededGenerator(seed: seed)
        rng.fill(q.pointer, count: g.queryElements)
        for i in 0..<g.queryElements { q[i] *= 4 }
        for buffer in [k, v] {
            let raw = UnsafeMutableRawPointer(buffer.pointer)
            switch g.kvType {
            case .fp32:
                rng.fill(raw.assumingMemoryBound(to: Float.self), count: g.kvElements)
            case .fp16:
                let halves = raw.assumingMemoryBound(to: UInt16.self)
                for i in 0..<g.kvElements { halves[i] = Float16(rng.nextSignedUnitFloat()).bitPattern }
            }
        }
        checker = AttentionCheck(geometry: g, sampleElements: checkSamples, seed: seed)
        o.pointer.update(repeating: 0, count: g.queryElements)
    }

    var kRaw: UnsafeRawPointer { UnsafeRawPointer(k.pointer) }
    var vRaw: UnsafeRawPointer { UnsafeRawPointer(v.pointer) }

    func poison() { o.pointer.update(repeating: .nan, count: geometry.queryElements) }

    func check() -> CorrectnessCheck {
        checker.check(q: q.pointer, k: kRaw, v: vRaw, o: o.pointer)
    }
}

/// Correctness of an attention output against the float64 reference, on sampled output rows.
///
/// Every element of O is scanned for NaN/Inf (O is poisoned before each run). Rows are sampled (the
/// first and last query rows of the first and last heads always, since masks and tiles go wrong at
/// edges, then random ones) up to about `sampleElements` elements, and each sampled row is computed
/// in float64 from the same inputs.
///
/// Error measure `max_rel_err`: |o - ref| / Σ_j p_j·|v_j| per element (the size of the P·V sum, so
/// elements near zero are judged fairly). Tolerance `fp32 attention 8·u·(√d·(1+L) + √kv)`, u = 2^-24:
/// the logits carry fp32 rounding proportional to √d times their magnitude L = max Σ|q·k|·scale (which
/// the exponent turns into relative error of p), and the P·V and normalizer sums carry about u·√kv.
/// NMSE (Σ(o-ref)²/Σref²) is reported too, held to the same bound squared, scaled by Σ(Σp|v|)²/Σref²
/// (outputs are sums of signed terms and can be much smaller than the terms).
struct AttentionCheck {
    let geometry: AttentionGeometry
    /// (batch, head, row) triples to compare.
    let rows: [(Int, Int, Int)]

    init(geometry g: AttentionGeometry, sampleElements: Int, seed: UInt64) {
        geometry = g
        let wanted = max(8, sampleElements / g.headDim)
        let all = g.batch * g.heads * g.queryLength
        var picked: [(Int, Int, Int)] = []
        if all <= wanted {
            for b in 0..<g.batch { for h in 0..<g.heads { for i in 0..<g.queryLength { picked.append((b, h, i)) } } }
        } else {
            let lastB = g.batch - 1, lastH = g.heads - 1, lastI = g.queryLength - 1
            picked = [(0, 0, 0), (0, 0, lastI), (lastB, lastH, 0), (lastB, lastH, lastI), (0, lastH / 2, lastI / 2)]
            var rng = SeededGenerator(seed: seed ^ 0xA77E)
            while picked.count < wanted {
                let index = Int(rng.next() % UInt64(all))
                picked.append((index / (g.heads * g.queryLength), index / g.queryLength % g.heads, index % g.queryLength))
            }
        }
        rows = picked
    }

    func tolerance(logitMagnitude: Double) -> (name: String, value: Double) {
        let u = 0x1p-24
        let bound = 8 * u * (Double(geometry.headDim).squareRoot() * (1 + logitMagnitude) + Double(geometry.kvLength).squareRoot())
        return ("fp32 attention 8·u·(√d·(1+L)+√kv), L = \(String(format: "%.3g", logitMagnitude))", bound)
    }

    func check(q: UnsafePointer<Float>, k: UnsafeRawPointer, v: UnsafeRawPointer, o: UnsafePointer<Float>) -> CorrectnessCheck {
        let g = geometry, d = g.headDim
        var nonFinite = 0
        for i in 0..<g.queryElements where !o[i].isFinite { nonFinite += 1 }
        let scores = UnsafeMutablePointer<Double>.allocate(capacity: g.kvLength)
        defer { scores.deallocate() }
        var worst = 0.0, squaredError = 0.0, squaredReference = 0.0, squaredMagnitude = 0.0, logitMagnitude = 0.0
        for (b, h, i) in rows {
            let reference = AttentionReference.row(g, q: q, k: k, v: v, batch: b, head: h, row: i, scores: scores)
            logitMagnitude = max(logitMagnitude, reference.logitMagnitude)
            let base = ((b * g.heads + h) * g.queryLength + i) * d
            for c in 0..<d {
                let got = Double(o[base + c])
                guard got.isFinite else { continue }
                let error = abs(got - reference.values[c])
                worst = max(worst, error / max(reference.magnitude[c], .leastNormalMagnitude))
                squaredError += error * error
                squaredReference += reference.values[c] * reference.values[c]
                squaredMagnitude += reference.magnitude[c] * reference.magnitude[c]
            }
        }
        let tolerance = tolerance(logitMagnitude: logitMagnitude)
        let nmse = squaredReference > 0 ? squaredError / squaredReference : squaredError
        let nmseTolerance = tolerance.value * tolerance.value * (squaredReference > 0 ? max(1, squaredMagnitude / squaredReference) : 1)
        return CorrectnessCheck(
            metric: "max_rel_err", value: worst, toleranceName: tolerance.name, tolerance: tolerance.value,
            elementsChecked: g.queryElements, nonFinite: nonFinite, nmse: nmse, nmseTolerance: nmseTolerance)
    }
}
