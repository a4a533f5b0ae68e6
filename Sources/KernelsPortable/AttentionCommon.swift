// AttentionCommon.swift: vector math shared by the attention kernels of every kernel module.
//
// There is one copy of this file, in Sources/KernelsPortable; Sources/KernelsAVX2 and
// Sources/KernelsAVX512 hold symbolic links to it (as with SGEMMDriver.swift), so each module compiles
// it with its own target CPU. It relies on the module's AttentionPrimitives.swift for
// `attnMulAdd` (acc + a·b, fused where the module's CPU has FMA).

/// exp(x) on 16 lanes, relative error about 2e-7 (Cephes expf polynomial after the reduction
/// x = n·ln2 + r, |r| <= ln2/2). Inputs are clamped to [-88, 88]: below about -87.7 the result is
/// exactly 0 (the true value is under 1.2e-38), so masked scores of -inf come out as 0 and large
/// negative logits never produce NaN.
@inline(__always)
func attnExp(_ input: SIMD16<Float>) -> SIMD16<Float> {
    typealias V = SIMD16<Float>
    var x = input.replacing(with: V(repeating: -88), where: input .< V(repeating: -88))
    x = x.replacing(with: V(repeating: 88), where: x .> V(repeating: 88))
    // n = round(x / ln2), by adding 1.5·2^23 so the rounding happens in the float unit.
    let magic = V(repeating: 12_582_912)
    let t = attnMulAdd(magic, x, V(repeating: 1.442_695_040_888_963_4))
    let n = t - magic
    // r = x - n·ln2, with ln2 split into a part exact in 9 bits and a correction.
    var r = attnMulAdd(x, n, V(repeating: -0.693_359_375))
    r = attnMulAdd(r, n, V(repeating: 2.121_944_400_546_905_8e-4))
    var p = V(repeating: 1.987_569_150_0e-4)
    p = attnMulAdd(V(repeating: 1.398_199_950_7e-3), p, r)
    p = attnMulAdd(V(repeating: 8.333_451_907_3e-3), p, r)
    p = attnMulAdd(V(repeating: 4.166_579_589_4e-2), p, r)
    p = attnMulAdd(V(repeating: 1.666_666_545_9e-1), p, r)
    p = attnMulAdd(V(repeating: 5.000_000_120_1e-1), p, r)
    let r2 = r * r
    p = attnMulAdd(r + V(repeating: 1), p, r2)
    // 2^n from the integer in t's low mantissa bits: bits(t) = 0x4B40_0000 + n for |n| < 2^22.
    let bits = unsafeBitCast(t, to: SIMD16<UInt32>.self)
    let scale = (bits &+ SIMD16<UInt32>(repeating: 127 &- 0x4B40_0000)) &<< 23
    return p * unsafeBitCast(scale, to: V.self)
}
