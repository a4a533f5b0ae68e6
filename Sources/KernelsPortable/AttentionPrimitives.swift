// Vector primitives of the attention kernels for the baseline target (SSE2 on x86-64, NEON on
// arm64). No fused multiply-add here: on baseline x86-64 `addingProduct` becomes a library call per
// lane, so multiply and add stay separate.

/// acc + a·b (not fused).
@inline(__always)
func attnMulAdd(_ acc: SIMD16<Float>, _ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
    acc + a * b
}

@inline(__always)
func attnMax(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
    a.replacing(with: b, where: a .< b)
}

@inline(__always)
func attnReduceMax(_ a: SIMD16<Float>) -> Float {
    var m = a[0]
    for i in 1..<16 where a[i] > m { m = a[i] }
    return m
}

@inline(__always)
func attnReduceAdd(_ a: SIMD16<Float>) -> Float {
    let h = a.lowHalf + a.highHalf
    let q = h.lowHalf + h.highHalf
    return (q[0] + q[2]) + (q[1] + q[3])
}

/// 16 IEEE half-precision values (bit patterns, unaligned) widened to Float.
@inline(__always)
func attnLoadHalf(_ p: UnsafeRawPointer) -> SIMD16<Float> {
    var v = SIMD16<Float>()
    for i in 0..<16 { v[i] = Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: 2 &* i, as: UInt16.self))) }
    return v
}
