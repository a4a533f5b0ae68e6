// The AVX-512 part of the decode attention kernel (AttentionDecodeKernel.swift, shared): base-2
// exponential and lane masking. The intrinsics are imported only where ACCELBENCH_AVX512 is
// defined, alongside -target-cpu in Package.swift (importing them without it crashes the compiler).
#if ACCELBENCH_AVX512
import _Builtin_intrinsics.intel
#endif

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
