// Vector primitives of the attention kernels for AVX2 + FMA + F16C (this module's -target-cpu).
// The intrinsics are imported only where ACCELBENCH_AVX2 is defined, alongside -target-cpu in
// Package.swift (importing them without the CPU flag crashes the compiler).
#if ACCELBENCH_AVX2
import _Builtin_intrinsics.intel
#endif

/// acc + a·b, one fused multiply-add per lane.
@inline(__always)
func attnMulAdd(_ acc: SIMD16<Float>, _ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
    acc.addingProduct(a, b)
}

@inline(__always)
func attnMax(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
    a.replacing(with: b, where: a .< b)
}

@inline(__always)
func attnReduceMax(_ a: SIMD16<Float>) -> Float {
    let h = attnMax8(a.lowHalf, a.highHalf)
    var m = h[0]
    for i in 1..<8 where h[i] > m { m = h[i] }
    return m
}

@inline(__always)
private func attnMax8(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
    a.replacing(with: b, where: a .< b)
}

@inline(__always)
func attnReduceAdd(_ a: SIMD16<Float>) -> Float {
    let h = a.lowHalf + a.highHalf
    let q = h.lowHalf + h.highHalf
    return (q[0] + q[2]) + (q[1] + q[3])
}

/// 16 IEEE half-precision values (bit patterns, unaligned) widened to Float: two vcvtph2ps.
@inline(__always)
func attnLoadHalf(_ p: UnsafeRawPointer) -> SIMD16<Float> {
    #if ACCELBENCH_AVX2
    let lo = _mm256_cvtph_ps(p.loadUnaligned(as: SIMD2<Int64>.self))
    let hi = _mm256_cvtph_ps(p.loadUnaligned(fromByteOffset: 16, as: SIMD2<Int64>.self))
    return SIMD16(lowHalf: lo, highHalf: hi)
    #else
    var v = SIMD16<Float>()
    for i in 0..<16 { v[i] = Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: 2 &* i, as: UInt16.self))) }
    return v
    #endif
}
