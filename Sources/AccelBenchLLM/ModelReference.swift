import AccelBenchKernels
import Foundation

/// The float64 forward pass the model step is checked against (tiny configs only): the same
/// architecture on the dequantized weights, with every activation in float64 (no q8_0 activation
/// quantization, no fp32 rounding), the whole sequence at once.
public struct ModelReference: Sendable {
    public struct Layer: Sendable {
        public var attentionNorm, ffnNorm: [Double]
        /// Row-major, rows = outputs.
        public var wq, wk, wv, wo, wGate, wUp, wDown: [Double]
        /// Q/K/V projection biases, nil when the model has none.
        public var qBias, kBias, vBias: [Double]?
    }

    /// What a forward pass of a sequence gives.
    public struct Result: Sendable {
        /// Logits of every position, `[position][vocab]`.
        public var logits: [[Double]]
        /// K after RoPE, `[layer][kvHead][position][headDim]` flattened per layer as
        /// `(kvHead · positions + position) · headDim + i`.
        public var keys: [[Double]]
        /// V, same layout as `keys`.
        public var values: [[Double]]
    }

    public let config: ModelConfig
    public let layers: [Layer]
    public let outputNorm: [Double]
    public let output: [Double]
    public let tokenEmbedding: [Double]
    /// `ModelWeights.ropeFrequencyFactors` (nil: all 1).
    public let ropeFrequencyFactors: [Double]?

    /// Dequantizes `weights` to float64.
    public init(weights: ModelWeights) {
        config = weights.config
        func m(_ q: QuantizedMatrix) -> [Double] { q.dequantized().map(Double.init) }
        layers = weights.layers.map { l in
            Layer(attentionNorm: l.attentionNorm.map(Double.init), ffnNorm: l.ffnNorm.map(Double.init),
                  wq: m(l.wq), wk: m(l.wk), wv: m(l.wv), wo: m(l.wo), wGate: m(l.wGate), wUp: m(l.wUp), wDown: m(l.wDown),
                  qBias: l.qBias?.map(Double.init), kBias: l.kBias?.map(Double.init), vBias: l.vBias?.map(Double.init))
        }
        outputNorm = weights.outputNorm.map(Double.init)
        output = m(weights.output)
        let e = weights.tokenEmbedding
        var table = [Float](repeating: 0, count: e.rows * e.columns)
        table.withUnsafeMutableBufferPointer { b in
            for r in 0..<e.rows { e.dequantizeRow(r, into: b.baseAddress! + r * e.columns) }
        }
        tokenEmbedding = table.map(Double.init)
        ropeFrequencyFactors = weights.ropeFrequencyFactors?.map(Double.init)
    }

    /// y[rows] = W (rows x columns) · x[columns].
    static func matvec(_ w: [Double], _ x: [Double], rows: Int) -> [Double] {
        let columns = x.count
        return (0..<rows).map { r in
            var s = 0.0
            for c in 0..<columns { s += w[r * columns + c] * x[c] }
            return s
        }
    }

    /// `x` rounded to fp32, quantized to q8_0 with ggml's rule and dequantized.
    static func q8RoundTrip(_ x: [Double]) -> [Double] {
        QuantFormat.q8_0.dequantize(QuantFormat.q8_0.quantize(x.map { Float($0) })).map(Double.init)
    }

    static func rmsNorm(_ x: [Double], _ w: [Double], eps: Double) -> [Double] {
        let ms = x.reduce(0) { $0 + $1 * $1 } / Double(x.count)
        let scale = 1 / (ms + eps).squareRoot()
        return zip(x, w).map { $0 * scale * $1 }
    }

    /// RoPE of one head at position `pos` in `style` (pair i's frequency divided by `factors[i]`).
    static func rope(_ x: ArraySlice<Double>, pos: Int, theta: Double, style: ModelConfig.RopeStyle, factors: [Double]? = nil) -> [Double] {
        let v = Array(x), d = v.count, half = d / 2
        var out = v
        for i in 0..<half {
            let angle = Double(pos) * Foundation.pow(theta, -2 * Double(i) / Double(d)) / (factors?[i] ?? 1)
            let (c, s) = (Foundation.cos(angle), Foundation.sin(angle))
            let (ia, ib) = style == .interleaved ? (2 * i, 2 * i + 1) : (i, i + half)
            out[ia] = v[ia] * c - v[ib] * s
            out[ib] = v[ia] * s + v[ib] * c
        }
        return out
    }

    /// The forward pass of `tokens` from position 0.
    ///
    /// - Parameter quantizeActivations: when true, every matrix input (and only those) is rounded to
    ///   q8_0 and back first, as `QuantizedGEMMPlan` does to its activations: the result then differs
    ///   from the model step by fp32 rounding only (plus the rare element whose q8_0 rounding that
    ///   flips), a much tighter check than the plain float64 pass.
    public func forward(tokens: [Int], quantizeActivations: Bool = false) -> Result {
        let c = config
        func matvec(_ w: [Double], _ x: [Double], rows: Int) -> [Double] {
            ModelReference.matvec(w, quantizeActivations ? ModelReference.q8RoundTrip(x) : x, rows: rows)
        }
        func biased(_ y: [Double], _ bias: [Double]?) -> [Double] { bias.map { zip(y, $0).map { $0 + $1 } } ?? y }
        let (h, d, n) = (c.hidden, c.headDim, tokens.count)
        var xs: [[Double]] = tokens.map { Array(tokenEmbedding[($0 * h)..<(($0 + 1) * h)]) }
        var keys: [[Double]] = [], values: [[Double]] = []
        for l in layers {
            var qs: [[Double]] = [], ks: [[Double]] = [], vs: [[Double]] = []
            for (pos, x) in xs.enumerated() {
                let xn = ModelReference.rmsNorm(x, l.attentionNorm, eps: c.rmsEps)
                let q = biased(matvec(l.wq, xn, rows: c.queryWidth), l.qBias)
                let k = biased(matvec(l.wk, xn, rows: c.kvWidth), l.kBias)
                let f = ropeFrequencyFactors
                qs.append((0..<c.heads).flatMap { ModelReference.rope(q[($0 * d)..<(($0 + 1) * d)], pos: pos, theta: c.ropeTheta, style: c.ropeStyle, factors: f) })
                ks.append((0..<c.kvHeads).flatMap { ModelReference.rope(k[($0 * d)..<(($0 + 1) * d)], pos: pos, theta: c.ropeTheta, style: c.ropeStyle, factors: f) })
                vs.append(biased(matvec(l.wv, xn, rows: c.kvWidth), l.vBias))
            }
            var layerK = [Double](repeating: 0, count: c.kvHeads * n * d), layerV = layerK
            for g in 0..<c.kvHeads {
                for p in 0..<n {
                    for i in 0..<d {
                        layerK[(g * n + p) * d + i] = ks[p][g * d + i]
                        layerV[(g * n + p) * d + i] = vs[p][g * d + i]
                    }
                }
            }
            keys.append(layerK)
            values.append(layerV)
            let scale = 1 / Double(d).squareRoot()
            for pos in 0..<n {
                var o = [Double](repeating: 0, count: c.queryWidth)
                for head in 0..<c.heads {
                    let g = head / c.groupSize
                    var scores = (0...pos).map { j in
                        (0..<d).reduce(0.0) { $0 + qs[pos][head * d + $1] * ks[j][g * d + $1] } * scale
                    }
                    let m = scores.max()!
                    scores = scores.map { Foundation.exp($0 - m) }
                    let sum = scores.reduce(0, +)
                    for j in 0...pos {
                        for i in 0..<d { o[head * d + i] += scores[j] / sum * vs[j][g * d + i] }
                    }
                }
                let attn = matvec(l.wo, o, rows: h)
                var x = zip(xs[pos], attn).map { $0 + $1 }
                let xn = ModelReference.rmsNorm(x, l.ffnNorm, eps: c.rmsEps)
                let gate = matvec(l.wGate, xn, rows: c.ffn)
                let up = matvec(l.wUp, xn, rows: c.ffn)
                let act = zip(gate, up).map { $0 / (1 + Foundation.exp(-$0)) * $1 }
                x = zip(x, matvec(l.wDown, act, rows: h)).map { $0 + $1 }
                xs[pos] = x
            }
        }
        let logits = xs.map { matvec(output, ModelReference.rmsNorm($0, outputNorm, eps: c.rmsEps), rows: c.vocab) }
        return Result(logits: logits, keys: keys, values: values)
    }
}
