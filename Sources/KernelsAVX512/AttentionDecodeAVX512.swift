// The AVX-512 part of the decode attention kernel (AttentionDecodeKernel.swift, shared): the
// horizontal sums of the score vectors. The intrinsics are imported only where ACCELBENCH_AVX512 is
// defined, alongside -target-cpu in Package.swift (importing them without it crashes the compiler).
#if ACCELBENCH_AVX512
import _Builtin_intrinsics.intel
#endif

/// Lane j of the result is the sum of the 16 lanes of x[j], for j < 16: a transpose-add tree of
/// 15 adds and 30 shuffles for 16 sums, the first two levels in-lane (vunpck{l,h}ps, vunpck{l,h}pd),
/// the last two across 128-bit lanes (vpermt2ps), with the results in natural order.
@inline(__always)
func decodeTransposeSum16(_ x: UnsafePointer<SIMD16<Float>>) -> SIMD16<Float> {
    #if ACCELBENCH_AVX512
    typealias V = SIMD16<Float>
    // Level 1, (x0, x1) -> per 128-bit lane [x0 x1 x0 x1] partial sums.
    @inline(__always) func pairs(_ a: V, _ b: V) -> V {
        _mm512_unpacklo_ps(a, b) + _mm512_unpackhi_ps(a, b)
    }
    // Level 2, two level-1 vectors (x0 x1), (x2 x3) -> per 128-bit lane [x0 x1 x2 x3] partial sums.
    @inline(__always) func quads(_ a: V, _ b: V) -> V {
        let ad = unsafeBitCast(a, to: SIMD8<Double>.self), bd = unsafeBitCast(b, to: SIMD8<Double>.self)
        return unsafeBitCast(_mm512_unpacklo_pd(ad, bd), to: V.self) + unsafeBitCast(_mm512_unpackhi_pd(ad, bd), to: V.self)
    }
    // Levels 3 and 4: 128-bit lanes (a0 a1 a2 a3), (b0 b1 b2 b3) -> (a0+a1, a2+a3, b0+b1, b2+b3).
    let even = unsafeBitCast(SIMD16<Int32>(0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27), to: SIMD8<Int64>.self)
    let odd = unsafeBitCast(SIMD16<Int32>(4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31), to: SIMD8<Int64>.self)
    @inline(__always) func lanes(_ a: V, _ b: V) -> V {
        _mm512_permutex2var_ps(a, even, b) + _mm512_permutex2var_ps(a, odd, b)
    }
    let q0 = quads(pairs(x[0], x[1]), pairs(x[2], x[3]))
    let q1 = quads(pairs(x[4], x[5]), pairs(x[6], x[7]))
    let q2 = quads(pairs(x[8], x[9]), pairs(x[10], x[11]))
    let q3 = quads(pairs(x[12], x[13]), pairs(x[14], x[15]))
    return lanes(lanes(q0, q1), lanes(q2, q3))
    #else
    var out = SIMD16<Float>()
    for j in 0..<16 { out[j] = attnReduceAdd(x[j]) }
    return out
    #endif
}

/// 2^x: x = n + r with n = floor(x), 2^r by a degree-5 polynomial on [0, 1) (relative error 1.7e-7
/// in fp32), times 2^n by vscalefps. Inputs below -126 (-inf included) are clamped to -126, so the
/// result is never NaN and at most 2^-126 there; the caller zeroes masked lanes itself.
@inline(__always)
func decodeExp2(_ x: SIMD16<Float>) -> SIMD16<Float> {
    typealias V = SIMD16<Float>
    #if ACCELBENCH_AVX512
    let clamped = _mm512_max_ps(x, V(repeating: -126))
    let n = _mm512_floor_ps(clamped)
    let r = clamped - n
    var p = V(repeating: 1.877_576_461_993_157_9e-3)
    p = attnMulAdd(V(repeating: 8.989_341_557_025_91e-3), p, r)
    p = attnMulAdd(V(repeating: 5.582_631_751_894_951e-2), p, r)
    p = attnMulAdd(V(repeating: 0.240_153_625_607_490_54), p, r)
    p = attnMulAdd(V(repeating: 0.693_153_083_324_432_4), p, r)
    p = attnMulAdd(V(repeating: 0.999_999_940_395_355_2), p, r)
    return _mm512_scalef_ps(p, n)
    #else
    return attnExp(x * V(repeating: 0.693_147_180_559_945_3))
    #endif
}

/// `v` with the lanes i >= `from` replaced by `fill` (`from` may be below 0 or above 16): one masked
/// blend.
@inline(__always)
func decodeMaskLanes(_ v: SIMD16<Float>, from: Int, with fill: Float) -> SIMD16<Float> {
    let first = min(max(from, 0), 16)
    #if ACCELBENCH_AVX512
    let keep = UInt16(truncatingIfNeeded: (1 &<< first) &- 1)
    return _mm512_mask_blend_ps(~keep, v, SIMD16<Float>(repeating: fill))
    #else
    var out = v
    for i in first..<16 { out[i] = fill }
    return out
    #endif
}

/// Whether decodeBlock computes the scores of 8-row tiles with `decodeQKPacked` (4 query rows x 4
/// head-dimension elements per vector, each 128-bit piece of a widened K chunk broadcast by vpermps)
/// rather than one 16-lane partial vector per (row, position) and a 16-way transpose-add.
let decodePackedQK = true

/// The scores of 4 rows and 16 positions from the packed partial vectors x[0..<16] (x[p] lane 4·i + e:
/// row i, position p, partial e): result i lane p = Σ_e x[p][4·i + e]. Two transpose-add levels
/// (in-lane unpacks) leave, per 128-bit lane i, the 4 sums of row i for 4 positions; a 4 x 4 transpose
/// of 128-bit lanes (vpermt2ps) puts each row in one vector. 24 + 8 shuffles, 12 adds.
@inline(__always)
func decodeReduceGroups4(_ x: UnsafePointer<SIMD16<Float>>) -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
    #if ACCELBENCH_AVX512
    typealias V = SIMD16<Float>
    @inline(__always) func pairs(_ a: V, _ b: V) -> V {
        _mm512_unpacklo_ps(a, b) + _mm512_unpackhi_ps(a, b)
    }
    @inline(__always) func quads(_ a: V, _ b: V) -> V {
        let ad = unsafeBitCast(a, to: SIMD8<Double>.self), bd = unsafeBitCast(b, to: SIMD8<Double>.self)
        return unsafeBitCast(_mm512_unpacklo_pd(ad, bd), to: V.self) + unsafeBitCast(_mm512_unpackhi_pd(ad, bd), to: V.self)
    }
    // Lane i of q_b holds row i's sums for positions 4b..4b+3.
    let q0 = quads(pairs(x[0], x[1]), pairs(x[2], x[3]))
    let q1 = quads(pairs(x[4], x[5]), pairs(x[6], x[7]))
    let q2 = quads(pairs(x[8], x[9]), pairs(x[10], x[11]))
    let q3 = quads(pairs(x[12], x[13]), pairs(x[14], x[15]))
    // u0 = (q0.0 q0.1 q1.0 q1.1), u1 = (q0.2 q0.3 q1.2 q1.3), likewise u2, u3 from q2, q3.
    let lo = unsafeBitCast(SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23), to: SIMD8<Int64>.self)
    let hi = unsafeBitCast(SIMD16<Int32>(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31), to: SIMD8<Int64>.self)
    // row 0 = (u0.0 u0.2 u2.0 u2.2), row 1 = (u0.1 u0.3 u2.1 u2.3).
    let even = unsafeBitCast(SIMD16<Int32>(0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27), to: SIMD8<Int64>.self)
    let odd = unsafeBitCast(SIMD16<Int32>(4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31), to: SIMD8<Int64>.self)
    let u0 = _mm512_permutex2var_ps(q0, lo, q1), u1 = _mm512_permutex2var_ps(q0, hi, q1)
    let u2 = _mm512_permutex2var_ps(q2, lo, q3), u3 = _mm512_permutex2var_ps(q2, hi, q3)
    return (_mm512_permutex2var_ps(u0, even, u2), _mm512_permutex2var_ps(u0, odd, u2),
            _mm512_permutex2var_ps(u1, even, u3), _mm512_permutex2var_ps(u1, odd, u3))
    #else
    return decodeReduceGroups4Lanes(x)
    #endif
}

/// 128-bit lane b (0...3) of v in all four lanes: one vpermps.
@inline(__always)
func decodeLane4(_ v: SIMD16<Float>, _ b: Int) -> SIMD16<Float> {
    #if ACCELBENCH_AVX512
    let i = Int32(4 &* b)
    let idx = SIMD16<Int32>(i, i + 1, i + 2, i + 3, i, i + 1, i + 2, i + 3, i, i + 1, i + 2, i + 3, i, i + 1, i + 2, i + 3)
    return _mm512_permutexvar_ps(unsafeBitCast(idx, to: SIMD8<Int64>.self), v)
    #else
    var o = SIMD16<Float>()
    for j in 0..<16 { o[j] = v[4 &* b &+ j & 3] }
    return o
    #endif
}
