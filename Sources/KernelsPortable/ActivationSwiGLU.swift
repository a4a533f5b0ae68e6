// ActivationSwiGLU.swift: the SwiGLU activation of a transformer MLP, 16 lanes at a time with the
// module's `attnExp`. One copy, in Sources/KernelsPortable; the other kernel modules hold symbolic
// links to it, so each compiles it for its own CPU.

/// gate[i] = silu(gate[i]) · up[i], silu(g) = g / (1 + e^-g).
public enum ActivationSwiGLU {
    /// Over `range` of `gate` and `up`. `attnExp` clamps its input to [-88, 88], so a very negative g
    /// gives g / (1 + e^88), a value below 1e-36 in magnitude, and no lane produces NaN or infinity
    /// for finite inputs.
    public static func apply(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, range: Range<Int>) {
        typealias V = SIMD16<Float>
        let one = V(repeating: 1)
        var i = range.lowerBound
        while i &+ 16 <= range.upperBound {
            let g = UnsafeRawPointer(gate + i).loadUnaligned(as: V.self)
            let u = UnsafeRawPointer(up + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(gate + i).storeBytes(of: g / (one + attnExp(-g)) * u, as: V.self)
            i &+= 16
        }
        if i < range.upperBound {
            var g = V(), u = V()
            for j in i..<range.upperBound {
                g[j &- i] = gate[j]
                u[j &- i] = up[j]
            }
            let s = g / (one + attnExp(-g)) * u
            for j in i..<range.upperBound { gate[j] = s[j &- i] }
        }
    }
}
