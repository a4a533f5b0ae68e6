// The baseline-target part of the decode attention kernel (AttentionDecodeKernel.swift, shared): the
// horizontal sums of the score vectors, one vector at a time.

/// 2^x through the shared e^x (`attnExp`, clamped: exactly 0 below about -127, -inf included).
@inline(__always)
func decodeExp2(_ x: SIMD16<Float>) -> SIMD16<Float> {
    attnExp(x * SIMD16<Float>(repeating: 0.693_147_180_559_945_3))
}

/// `v` with the lanes i >= `from` replaced by `fill` (`from` may be below 0 or above 16).
@inline(__always)
func decodeMaskLanes(_ v: SIMD16<Float>, from: Int, with fill: Float) -> SIMD16<Float> {
    var out = v
    for i in min(max(from, 0), 16)..<16 { out[i] = fill }
    return out
}
