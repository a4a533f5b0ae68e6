// Vector primitives of the attention kernels for AVX-512 (this module's -target-cpu). The intrinsics
// are imported only where the compile flag that enables them is set (importing them without it
// crashes the compiler): ACCELBENCH_AVX512 is defined alongside -target-cpu in Package.swift.
#if ACCELBENCH_AVX512
import _Builtin_intrinsics.intel
#endif

/// acc + a·b, one fused multiply-add per lane.
@inline(__always)
func attnMulAdd(_ acc: SIMD16<Float>, _ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
    acc.addingProduct(a, b)
}

@inline(__always)
func attnMax(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
    #if ACCELBENCH_AVX512
    _mm512_max_ps(a, b)
    #else
    a.replacing(with: b, where: a .< b)
    #endif
}

@inline(__always)
func attnReduceMax(_ a: SIMD16<Float>) -> Float {
    #if ACCELBENCH_AVX512
    _mm512_reduce_max_ps(a)
    #else
    a.max()
    #endif
}

@inline(__always)
func attnReduceAdd(_ a: SIMD16<Float>) -> Float {
    #if ACCELBENCH_AVX512
    _mm512_reduce_add_ps(a)
    #else
    let h = a.lowHalf + a.highHalf
    let q = h.lowHalf + h.highHalf
    return (q[0] + q[2]) + (q[1] + q[3])
    #endif
}

/// 16 IEEE half-precision values (bit patterns, unaligned) widened to Float: one vcvtph2ps.
@inline(__always)
func attnLoadHalf(_ p: UnsafeRawPointer) -> SIMD16<Float> {
    #if ACCELBENCH_AVX512
    _mm512_cvtph_ps(p.loadUnaligned(as: SIMD4<Int64>.self))
    #else
    var v = SIMD16<Float>()
    for i in 0..<16 { v[i] = Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: 2 &* i, as: UInt16.self))) }
    return v
    #endif
}
