/// SplitMix64: a small, fast, seedable generator, so every run of a case sees the same inputs.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform Float in [-1, 1), from the top 24 bits.
    @inline(__always)
    public mutating func nextSignedUnitFloat() -> Float {
        Float(Int32(truncatingIfNeeded: next() >> 40) - (1 << 23)) * (1.0 / Float(1 << 23))
    }

    /// Fills `count` floats with uniform values in [-1, 1).
    public mutating func fill(_ buffer: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { buffer[i] = nextSignedUnitFloat() }
    }

    /// Fills `count` doubles with uniform values in [-1, 1).
    public mutating func fill(_ buffer: UnsafeMutablePointer<Double>, count: Int) {
        for i in 0..<count { buffer[i] = Double(Int64(bitPattern: next()) >> 11) * (1.0 / Double(1 << 52)) }
    }
}
