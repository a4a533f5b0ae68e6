import KernelsAVX2
import KernelsAVX512
import KernelsPortable

/// Row softmax of materialized scores with the chosen ISA's vector code (see
/// `KernelsPortable.AttentionRowSoftmax.apply`): entries at or after `visible(row)` are masked to 0.
public enum AttentionSoftmax {
    public static func apply(
        isa: CPUISA, _ scores: UnsafeMutablePointer<Float>, rows: Int, columns: Int, ld: Int, visible: (Int) -> Int
    ) {
        switch isa {
        case .avx512: KernelsAVX512.AttentionRowSoftmax.apply(scores, rows: rows, columns: columns, ld: ld, visible: visible)
        case .avx2: KernelsAVX2.AttentionRowSoftmax.apply(scores, rows: rows, columns: columns, ld: ld, visible: visible)
        case .portable: KernelsPortable.AttentionRowSoftmax.apply(scores, rows: rows, columns: columns, ld: ld, visible: visible)
        }
    }
}

/// fp16 -> fp32 widening of a buffer (IEEE half bit patterns), for code that needs fp32 copies.
public enum AttentionHalf {
    public static func widen(_ source: UnsafePointer<UInt16>, into destination: UnsafeMutablePointer<Float>, count: Int) {
        // The conversion instruction where the CPU has it (F16C), via the kernel module of that level.
        if CPUISA.avx2.isSupported {
            KernelsAVX2.AttentionHalfWiden.widen(source, into: destination, count: count)
        } else {
            KernelsPortable.AttentionHalfWiden.widen(source, into: destination, count: count)
        }
    }
}
