// The AVX2 part of the decode attention kernel (AttentionDecodeKernel.swift, shared): the horizontal
// sums of the score vectors. The intrinsics are imported only where ACCELBENCH_AVX2 is defined,
// alongside -target-cpu in Package.swift (importing them without it crashes the compiler).
#if ACCELBENCH_AVX2
import _Builtin_intrinsics.intel
#endif

/// Lane j of the result is the sum of the 16 lanes of x[j], for j < 16: each vector's two 256-bit
/// halves are added, then two 8 x 8 transpose-add trees (in-lane unpacks, then one 128-bit exchange).
@inline(__always)
func decodeTransposeSum16(_ x: UnsafePointer<SIMD16<Float>>) -> SIMD16<Float> {
    #if ACCELBENCH_AVX2
    typealias H = SIMD8<Float>
    @inline(__always) func fold(_ j: Int) -> H { x[j].lowHalf + x[j].highHalf }
    @inline(__always) func pairs(_ a: H, _ b: H) -> H {
        _mm256_unpacklo_ps(a, b) + _mm256_unpackhi_ps(a, b)
    }
    @inline(__always) func quads(_ a: H, _ b: H) -> H {
        let ad = unsafeBitCast(a, to: SIMD4<Double>.self), bd = unsafeBitCast(b, to: SIMD4<Double>.self)
        return unsafeBitCast(_mm256_unpacklo_pd(ad, bd), to: H.self) + unsafeBitCast(_mm256_unpackhi_pd(ad, bd), to: H.self)
    }
    @inline(__always) func lanes(_ a: H, _ b: H) -> H {
        H(lowHalf: a.lowHalf, highHalf: b.lowHalf) + H(lowHalf: a.highHalf, highHalf: b.highHalf)
    }
    @inline(__always) func eight(_ j: Int) -> H {
        lanes(quads(pairs(fold(j), fold(j &+ 1)), pairs(fold(j &+ 2), fold(j &+ 3))),
              quads(pairs(fold(j &+ 4), fold(j &+ 5)), pairs(fold(j &+ 6), fold(j &+ 7))))
    }
    return SIMD16(lowHalf: eight(0), highHalf: eight(8))
    #else
    var out = SIMD16<Float>()
    for j in 0..<16 { out[j] = attnReduceAdd(x[j]) }
    return out
    #endif
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
