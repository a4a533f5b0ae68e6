import Foundation

/// Float64 attention, the yardstick every attention implementation is checked against.
///
/// Inputs are read in the layout `AttentionGeometry` documents (K and V as fp32 or fp16 bit
/// patterns, widened exactly to Double). One output row at a time, so a check can sample rows of a
/// large problem without materializing anything of size queryLength x kvLength.
public enum AttentionReference {
    /// Output row O[b][h][i][0..<d] in float64, plus the row's error scale Σ_j p_j·|v_j| per column
    /// (the magnitude the fp32 accumulation of P·V is measured against).
    public struct Row: Sendable {
        public var values: [Double]
        public var magnitude: [Double]
        /// max over visible keys of Σ_c |q_c·k_c|·scale: the size of the logits' fp32 rounding error
        /// scales with it.
        public var logitMagnitude: Double
    }

    /// Reads element `index` of K or V.
    @inline(__always)
    public static func kvElement(_ base: UnsafeRawPointer, _ index: Int, _ type: AttentionGeometry.KVType) -> Double {
        switch type {
        case .fp32: Double(base.load(fromByteOffset: index * 4, as: Float.self))
        case .fp16: Double(Float(Float16(bitPattern: base.load(fromByteOffset: index * 2, as: UInt16.self))))
        }
    }

    /// O[batch][head][row][:] of `geometry` computed in float64. `scores` is scratch of at least
    /// kvLength Doubles (pass one per thread to avoid reallocating).
    public static func row(
        _ geometry: AttentionGeometry, q: UnsafePointer<Float>, k: UnsafeRawPointer, v: UnsafeRawPointer,
        batch b: Int, head h: Int, row i: Int, scores: UnsafeMutablePointer<Double>
    ) -> Row {
        let d = geometry.headDim
        let kvh = h / geometry.groupSize
        let qBase = ((b * geometry.heads + h) * geometry.queryLength + i) * d
        let kvBase = (b * geometry.kvHeads + kvh) * geometry.kvLength * d
        let visible = geometry.visibleKV(row: i)
        let scale = Double(geometry.scale)
        var maxScore = -Double.infinity
        var logitMagnitude = 0.0
        for j in 0..<visible {
            var dot = 0.0, absolute = 0.0
            let kRow = kvBase + j * d
            for c in 0..<d {
                let product = Double(q[qBase + c]) * kvElement(k, kRow + c, geometry.kvType)
                dot += product
                absolute += abs(product)
            }
            let s = dot * scale
            scores[j] = s
            maxScore = max(maxScore, s)
            logitMagnitude = max(logitMagnitude, absolute * abs(scale))
        }
        var sum = 0.0
        for j in 0..<visible {
            let p = Foundation.exp(scores[j] - maxScore)
            scores[j] = p
            sum += p
        }
        var values = [Double](repeating: 0, count: d)
        var magnitude = [Double](repeating: 0, count: d)
        for j in 0..<visible {
            let p = scores[j] / sum
            let vRow = kvBase + j * d
            for c in 0..<d {
                let x = kvElement(v, vRow + c, geometry.kvType)
                values[c] += p * x
                magnitude[c] += p * abs(x)
            }
        }
        return Row(values: values, magnitude: magnitude, logitMagnitude: logitMagnitude)
    }
}
