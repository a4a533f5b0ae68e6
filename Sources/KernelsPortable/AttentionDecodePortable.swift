// The baseline-target part of the decode attention kernel (AttentionDecodeKernel.swift, shared): the
// horizontal sums of the score vectors, one vector at a time.

/// Lane j of the result is the sum of the 16 lanes of x[j], for j < 16.
@inline(__always)
func decodeTransposeSum16(_ x: UnsafePointer<SIMD16<Float>>) -> SIMD16<Float> {
    var out = SIMD16<Float>()
    for j in 0..<16 { out[j] = attnReduceAdd(x[j]) }
    return out
}

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

/// The packed Q·K path (`decodeQKPacked`) is not used in this module: one partial vector per (row,
/// position) and `decodeTransposeSum16`.
let decodePackedQK = false

/// Result i lane p = Σ_e x[p][4·i + e] (see the AVX-512 module), lane by lane.
@inline(__always)
func decodeReduceGroups4(_ x: UnsafePointer<SIMD16<Float>>) -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
    decodeReduceGroups4Lanes(x)
}

/// 128-bit lane b (0...3) of v in all four lanes.
@inline(__always)
func decodeLane4(_ v: SIMD16<Float>, _ b: Int) -> SIMD16<Float> {
    var o = SIMD16<Float>()
    for j in 0..<16 { o[j] = v[4 &* b &+ j & 3] }
    return o
}
