// AttentionSoftmax.swift: a vectorized, numerically safe softmax over rows of scores, for the unfused
// (materialized scores) attention composition. One copy, in Sources/KernelsPortable; the other kernel
// modules hold symbolic links to it.

/// Row softmax of a materialized score matrix, in place.
public enum AttentionRowSoftmax {
    /// For each row r < rows: p_j = exp(s_j - max) / Σ exp(s_j - max) over the first `visible(r)` entries
    /// of the row (row stride `ld`); entries at or after `visible(r)` are masked and set to 0.
    /// The maximum is subtracted first, so no exponent overflows for any finite scores.
    public static func apply(
        _ scores: UnsafeMutablePointer<Float>, rows: Int, columns: Int, ld: Int, visible: (Int) -> Int
    ) {
        typealias V = SIMD16<Float>
        for r in 0..<rows {
            let row = scores + r &* ld
            let n = min(max(visible(r), 0), columns)
            let full = n & ~15
            var m = V(repeating: -.infinity)
            var j = 0
            while j < full {
                m = attnMax(m, UnsafeRawPointer(row + j).loadUnaligned(as: V.self))
                j &+= 16
            }
            var rowMax = attnReduceMax(m)
            for t in full..<n where row[t] > rowMax { rowMax = row[t] }
            let shift = V(repeating: rowMax)
            var sum = V()
            j = 0
            while j < full {
                let p = attnExp(UnsafeRawPointer(row + j).loadUnaligned(as: V.self) - shift)
                UnsafeMutableRawPointer(row + j).storeBytes(of: p, as: V.self)
                sum += p
                j &+= 16
            }
            var total = attnReduceAdd(sum)
            if full < n {
                var tail = V(repeating: -.infinity)
                for t in full..<n { tail[t &- full] = row[t] }
                let p = attnExp(tail - shift)
                for t in full..<n { row[t] = p[t &- full] }
                total += attnReduceAdd(p)
            }
            let inverse = V(repeating: 1 / total)
            j = 0
            while j < full {
                let p = UnsafeRawPointer(row + j).loadUnaligned(as: V.self) * inverse
                UnsafeMutableRawPointer(row + j).storeBytes(of: p, as: V.self)
                j &+= 16
            }
            for t in full..<n { row[t] *= inverse[0] }
            for t in n..<columns { row[t] = 0 }
        }
    }
}

/// fp16 (bit patterns) -> fp32 over a buffer, 16 at a time with the module's `attnLoadHalf`.
public enum AttentionHalfWiden {
    public static func widen(_ source: UnsafePointer<UInt16>, into destination: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i &+ 16 <= count {
            UnsafeMutableRawPointer(destination + i).storeBytes(of: attnLoadHalf(UnsafeRawPointer(source + i)), as: SIMD16<Float>.self)
            i &+= 16
        }
        while i < count {
            destination[i] = Float(Float16(bitPattern: source[i]))
            i &+= 1
        }
    }
}
