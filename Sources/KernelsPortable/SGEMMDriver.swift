// SGEMMDriver.swift: the blocked fp32 GEMM driver shared by the per-ISA kernel modules.
//
// There is one copy of this file, in Sources/KernelsPortable; Sources/KernelsAVX2 and
// Sources/KernelsAVX512 hold symbolic links to it, so each module compiles the same driver with its
// own target CPU and its own register tile. `SGEMMKernel` is each module's public entry point; the
// rest is internal. What each module must define next to it (also internal):
//
//   enum SGEMMShape { static var mr: Int; static var nr: Int       // register tile (rows x columns)
//                     static var nextPanelBytesPerStep: Int }      // B prefetch per k step (or 0)
//   enum SGEMMBlocking { static var kc: Int; static var mc: Int; static var nc: Int }
//   func sgemmTile(kc:a:aRowStride:aKStride:b:bKStride:c:ldc:accumulate:next:)  // @inline(__always)
//                                                                  // register tile (next: B prefetch)
//   func sgemmPackAFull(kc:a:lda:into:)                          // mr full rows of A -> kc x mr
//
// Both kernels compute a full mr x nr tile of C (store, or add to C when `accumulate`):
// the packed one reads A as a[p * mr + r] and B as b[p * nr + j]; the strided one reads
// A(r, p) = a[r * aRowStride + p * aKStride] and B(p, j) = b[p * bKStride + j] in place.
//
// Loop nest (BLIS order): jc (nc columns of C) > pc (kc of the K dimension; B block packed into
// kc x nr panels) > ic (mc rows; A block packed into mr x kc panels) > jr (one B panel) > ir (one A
// panel: one micro-kernel call). B is packed a few panels at a time inside the first ic block, just
// before those panels are first used. The first pc block stores into C, later ones add to it, so C is
// never read before it has been written (it may hold NaN on entry). Edge tiles are computed from
// zero-padded panels into a temporary mr x nr tile and only the valid part is copied out.
//
// Two shortcuts skip a packing pass whose cost the arithmetic cannot repay:
// - when n fits in one panel width (each A element is used by a single micro-kernel call), full A
//   panels are read in place (row stride lda) and only a ragged last panel is packed;
// - when m fits in one panel height (each B element is used once), full B panels are read in place
//   (row stride ldb) and only a ragged last panel is packed.

/// The module's entry point: single-threaded fp32 GEMM with the module's register tile. Every kernel
/// module defines it (through this shared file), so callers name it `KernelsAVX512.SGEMMKernel` and so
/// on. Only raw pointers and integers cross the module boundary.
public enum SGEMMKernel {
    /// Rows and columns of the register tile.
    public static var tileRows: Int { SGEMMShape.mr }
    public static var tileColumns: Int { SGEMMShape.nr }
    /// Cache blocking: kc (depth of a packed panel), mc (rows of C per packed A block), nc (columns of
    /// C per packed B block). Blocks are evened out: K = 513 runs as 257 + 256, not 512 + 1.
    public static var blocking: (kc: Int, mc: Int, nc: Int) { (SGEMMBlocking.kc, SGEMMBlocking.mc, SGEMMBlocking.nc) }

    /// Floats of scratch memory `sgemm` needs for an m x n x k problem. Any Float-aligned buffer is
    /// correct; the driver aligns its panels to 64 bytes inside it.
    public static func workspaceFloats(m: Int, n: Int, k: Int) -> Int {
        SGEMMDriver.workspaceFloats(m: m, n: n, k: k)
    }

    /// C (m x n, row stride ldc) = A (m x k, row stride lda) x B (k x n, row stride ldb), overwriting C
    /// (C is never read before it is written; k == 0 zeroes it). Row-major; any sub-block works through
    /// pointer offsets and leading dimensions. Single-threaded; `workspace` holds
    /// `workspaceFloats(m:n:k:)` floats and is not shared with a concurrent call.
    @inline(never)
    public static func sgemm(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, workspace: UnsafeMutablePointer<Float>
    ) {
        SGEMMDriver.run(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, workspace: workspace)
    }
}

/// `llvm.prefetch(address, rw, locality, cache type)`: Swift has no prefetch builtin (clang's
/// `_mm_prefetch` is a macro and `_m_prefetch` is dropped by the importer), so the LLVM intrinsic is
/// named directly. The last three arguments must be literal constants at every call site. The
/// micro-kernels use it for the C tile; the B packing for the source rows ahead.
@_silgen_name("llvm.prefetch.p0")
func sgemmLLVMPrefetch(_ address: UnsafeRawPointer, _ rw: Int32, _ locality: Int32, _ cacheType: Int32)

enum SGEMMDriver {
    /// Floats of scratch memory `run` needs for an m x n x k problem (with 16 floats of slack so the
    /// driver can align the start to 64 bytes itself).
    static func workspaceFloats(m: Int, n: Int, k: Int) -> Int {
        guard m > 0, n > 0, k > 0 else { return 0 }
        let kcMax = blockSize(k, SGEMMBlocking.kc, unit: 1)
        let ncMax = min(roundUp(n, SGEMMShape.nr), roundUp(SGEMMBlocking.nc, SGEMMShape.nr))
        let mcMax = blockSize(m, SGEMMBlocking.mc, unit: SGEMMShape.mr)
        let packedB: Int = roundUp(kcMax &* ncMax, 16)
        let packedA: Int = roundUp(mcMax &* kcMax, 16)
        let tile: Int = roundUp(SGEMMShape.mr &* SGEMMShape.nr, 16)
        return packedB &+ packedA &+ tile &+ 16
    }

    /// C (m x n, row stride ldc) = A (m x k, row stride lda) * B (k x n, row stride ldb), single thread.
    /// `workspace` holds at least `workspaceFloats(m:n:k:)` floats.
    static func run(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, workspace: UnsafeMutablePointer<Float>
    ) {
        guard m > 0, n > 0 else { return }
        if k <= 0 {
            for i in 0..<m { (c + i &* ldc).update(repeating: 0, count: n) }
            return
        }
        let mr = SGEMMShape.mr, nr = SGEMMShape.nr
        let kcMax = blockSize(k, SGEMMBlocking.kc, unit: 1)
        let ncMax = min(roundUp(n, nr), roundUp(SGEMMBlocking.nc, nr))
        let mcMax = blockSize(m, SGEMMBlocking.mc, unit: mr)
        let misalign: Int = (Int(bitPattern: workspace) / 4) & 15
        let packedB = workspace + ((16 &- misalign) & 15)
        let packedA = packedB + roundUp(kcMax &* ncMax, 16)
        let tile = packedA + roundUp(mcMax &* kcMax, 16)

        let directA = n <= nr
        let directB = !directA && m <= mr

        var jc = 0
        while jc < n {
            let ncCur = min(ncMax, n &- jc)
            var pc = 0
            while pc < k {
                let kcCur = min(kcMax, k &- pc)
                let bBlock = b + (pc &* ldb &+ jc)
                if directB {
                    packRaggedB(kc: kcCur, nc: ncCur, b: bBlock, ldb: ldb, into: packedB)
                }
                var ic = 0
                while ic < m {
                    let mcCur = min(mcMax, m &- ic)
                    let aBlock = a + (ic &* lda &+ pc)
                    if directA {
                        packRaggedA(mc: mcCur, kc: kcCur, a: aBlock, lda: lda, into: packedA)
                    } else {
                        packA(mc: mcCur, kc: kcCur, a: aBlock, lda: lda, into: packedA)
                    }
                    macroKernel(
                        mc: mcCur, nc: ncCur, kc: kcCur, aBlock: aBlock, lda: lda, packedA: packedA,
                        bBlock: bBlock, ldb: ldb, packedB: packedB,
                        c: c + (ic &* ldc &+ jc), ldc: ldc, tile: tile, accumulate: pc > 0,
                        directA: directA, directB: directB, packBNow: !directB && ic == 0,
                        singleRowBlock: mcCur == m)
                    ic &+= mcCur
                }
                pc &+= kcCur
            }
            jc &+= ncCur
        }
    }

    /// The jr > ir loops over one packed A block and one packed B block.
    @inline(__always)
    static func macroKernel(
        mc: Int, nc: Int, kc: Int, aBlock: UnsafePointer<Float>, lda: Int, packedA: UnsafeMutablePointer<Float>,
        bBlock: UnsafePointer<Float>, ldb: Int, packedB: UnsafeMutablePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, tile: UnsafeMutablePointer<Float>, accumulate: Bool,
        directA: Bool, directB: Bool, packBNow: Bool, singleRowBlock: Bool
    ) {
        let mr = SGEMMShape.mr, nr = SGEMMShape.nr
        let chunk = bChunkColumns(kc: kc)
        var jr = 0
        while jr < nc {
            if packBNow && jr % chunk == 0 {
                // Pack the next few B panels just before their first use (so they are still in L2
                // for it); later row blocks (ic > 0) find them packed. With a single row block the
                // panels are used once, so every chunk reuses the start of the buffer (no write
                // misses: it stays in L2).
                let columns = min(chunk, nc &- jr)
                let offset = singleRowBlock ? 0 : jr &* kc
                packB(kc: kc, nc: columns, b: bBlock + jr, ldb: ldb, into: packedB + offset)
            }
            let nrCur = min(nr, nc &- jr)
            let bPanel = UnsafePointer(packedB + (singleRowBlock ? (jr % chunk) &* kc : jr &* kc))
            // While this panel is in use, each micro-kernel call prefetches a slice of the next B
            // panel when that one is already packed (in later row blocks it has dropped to L3, and
            // streaming it from there would stall the first tile that uses it).
            let nextPacked = !directB && jr &+ nr < nc && (!packBNow || (jr &+ nr) % chunk != 0)
            let nextPanel = UnsafeRawPointer(
                packedB + (singleRowBlock ? ((jr &+ nr) % chunk) &* kc : (jr &+ nr) &* kc))
            let panelBytes: Int = kc &* nr &* 4
            let sliceBytes: Int = kc &* SGEMMShape.nextPanelBytesPerStep
            var ir = 0
            while ir < mc {
                let sliceStart: Int = (ir / mr) &* sliceBytes
                let next = nextPacked && sliceStart < panelBytes ? nextPanel + sliceStart : UnsafeRawPointer(bPanel)
                let mrCur = min(mr, mc &- ir)
                let aPanel = UnsafePointer(packedA + ir &* kc)
                let cTile = c + (ir &* ldc &+ jr)
                if mrCur == mr && nrCur == nr {
                    if directA {
                        sgemmKernelStrided(
                            kc: kc, a: aBlock + ir &* lda, aRowStride: lda, aKStride: 1,
                            b: bPanel, bKStride: nr, c: cTile, ldc: ldc, accumulate: accumulate, next: next)
                    } else if directB {
                        sgemmKernelStrided(
                            kc: kc, a: aPanel, aRowStride: 1, aKStride: mr,
                            b: bBlock + jr, bKStride: ldb, c: cTile, ldc: ldc, accumulate: accumulate, next: next)
                    } else {
                        sgemmKernel(kc: kc, a: aPanel, b: bPanel, c: cTile, ldc: ldc, accumulate: accumulate, next: next)
                    }
                } else {
                    // Ragged tiles come from zero-padded packed panels (packRaggedA/B pack the
                    // ragged panel at the start of the packed buffer in the direct modes).
                    let aEdge = directA ? UnsafePointer(packedA) : aPanel
                    if directB && nrCur == nr {
                        sgemmKernelStrided(
                            kc: kc, a: aEdge, aRowStride: 1, aKStride: mr,
                            b: bBlock + jr, bKStride: ldb, c: tile, ldc: nr, accumulate: false, next: next)
                    } else {
                        let bEdge = directB ? UnsafePointer(packedB) : bPanel
                        if directA && mrCur == mr {
                            sgemmKernelStrided(
                                kc: kc, a: aBlock + ir &* lda, aRowStride: lda, aKStride: 1,
                                b: bEdge, bKStride: nr, c: tile, ldc: nr, accumulate: false, next: next)
                        } else {
                            sgemmKernel(kc: kc, a: aEdge, b: bEdge, c: tile, ldc: nr, accumulate: false, next: next)
                        }
                    }
                    copyOut(tile: tile, rows: mrCur, columns: nrCur, c: cTile, ldc: ldc, accumulate: accumulate)
                }
                ir &+= mr
            }
            jr &+= nr
        }
    }

    @inline(__always)
    static func copyOut(
        tile: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
    ) {
        let nr = SGEMMShape.nr
        for r in 0..<rows {
            let src = tile + r &* nr
            let dst = c + r &* ldc
            if accumulate {
                for j in 0..<columns { dst[j] += src[j] }
            } else {
                for j in 0..<columns { dst[j] = src[j] }
            }
        }
    }

    /// Packs the mc x kc block of A (row stride lda) into ceil(mc / mr) panels of kc x mr floats
    /// (panel element (p, r) at p * mr + r), rows past mc zero.
    static func packA(mc: Int, kc: Int, a: UnsafePointer<Float>, lda: Int, into dst: UnsafeMutablePointer<Float>) {
        let mr = SGEMMShape.mr
        var i = 0
        var out = dst
        while i < mc {
            let rows = min(mr, mc &- i)
            packAPanel(rows: rows, kc: kc, a: a + i &* lda, lda: lda, into: out)
            out += mr &* kc
            i &+= mr
        }
    }

    /// In the direct-A mode only a ragged last panel (fewer than mr rows) is packed, at `dst`.
    static func packRaggedA(mc: Int, kc: Int, a: UnsafePointer<Float>, lda: Int, into dst: UnsafeMutablePointer<Float>) {
        let mr = SGEMMShape.mr
        let rows = mc % mr
        if rows != 0 {
            let first = mc &- rows
            packAPanel(rows: rows, kc: kc, a: a + first &* lda, lda: lda, into: dst)
        }
    }

    @inline(__always)
    static func packAPanel(rows: Int, kc: Int, a: UnsafePointer<Float>, lda: Int, into dst: UnsafeMutablePointer<Float>) {
        let mr = SGEMMShape.mr
        if rows == mr {
            sgemmPackAFull(kc: kc, a: a, lda: lda, into: dst)
        } else {
            var out = dst
            for p in 0..<kc {
                for r in 0..<mr { out[r] = r < rows ? a[r &* lda &+ p] : 0 }
                out += mr
            }
        }
    }

    /// Columns of B packed at a time (whole panels, about 192 KiB packed): small enough to stay in
    /// L2 until the micro-kernels use them, wide enough to read each source row in long runs.
    @inline(__always)
    static func bChunkColumns(kc: Int) -> Int {
        let nr = SGEMMShape.nr
        let panelBytes: Int = kc &* nr &* 4
        return max(1, (192 &* 1024) / max(1, panelBytes)) &* nr
    }

    /// Packs the kc x nc block of B (row stride ldb) into ceil(nc / nr) panels of kc x nr floats
    /// (panel element (p, j) at p * nr + j), columns past nc zero. Walks B row by row (each source
    /// row is one contiguous run, prefetched a few rows ahead: a row of B usually lies on its own
    /// page, where the hardware prefetchers stop) and scatters each row into the panels.
    static func packB(kc: Int, nc: Int, b: UnsafePointer<Float>, ldb: Int, into dst: UnsafeMutablePointer<Float>) {
        let nr = SGEMMShape.nr
        let fullPanels = nc / nr
        let rest = nc &- fullPanels &* nr
        let panelStride: Int = kc &* nr
        let rowBytes: Int = nc &* 4
        let ahead = 6
        let aheadBytes: Int = ahead &* ldb &* 4
        var src = b
        var out = dst
        for p in 0..<kc {
            if p &+ ahead < kc {
                let row = UnsafeRawPointer(src) + aheadBytes
                var offset = 0
                while offset < rowBytes {
                    sgemmLLVMPrefetch(row + offset, 0, 3, 1)
                    offset &+= 64
                }
                sgemmLLVMPrefetch(row + (rowBytes &- 4), 0, 3, 1)
            }
            var s = src
            var o = out
            for _ in 0..<fullPanels {
                // Whole 32-byte vectors (every module's nr is a multiple of 8): a plain element loop
                // compiles to a copy with overlap checks, about 1% slower overall.
                let from = UnsafeRawPointer(s), to = UnsafeMutableRawPointer(o)
                var offset = 0
                while offset < nr &* 4 {
                    let v = from.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                    to.storeBytes(of: v, toByteOffset: offset, as: SIMD8<Float>.self)
                    offset &+= 32
                }
                s += nr
                o += panelStride
            }
            if rest > 0 {
                for j in 0..<nr { o[j] = j < rest ? s[j] : 0 }
            }
            src += ldb
            out += nr
        }
    }

    /// In the direct-B mode only a ragged last panel (fewer than nr columns) is packed, at `dst`.
    static func packRaggedB(kc: Int, nc: Int, b: UnsafePointer<Float>, ldb: Int, into dst: UnsafeMutablePointer<Float>) {
        let nr = SGEMMShape.nr
        let columns = nc % nr
        if columns != 0 {
            packBPanel(columns: columns, kc: kc, b: b + (nc &- columns), ldb: ldb, into: dst)
        }
    }

    @inline(__always)
    static func packBPanel(columns: Int, kc: Int, b: UnsafePointer<Float>, ldb: Int, into dst: UnsafeMutablePointer<Float>) {
        let nr = SGEMMShape.nr
        var src = b
        var out = dst
        if columns == nr {
            for _ in 0..<kc {
                for j in 0..<nr { out[j] = src[j] }
                src += ldb
                out += nr
            }
        } else {
            for _ in 0..<kc {
                for j in 0..<nr { out[j] = j < columns ? src[j] : 0 }
                src += ldb
                out += nr
            }
        }
    }

    /// The block size for a dimension of `total` with at most `limit` per block: as many blocks as the
    /// limit requires, made as even as possible (so K = 513 runs as 257 + 256, not 512 + 1), rounded
    /// up to `unit`.
    @inline(__always)
    static func blockSize(_ total: Int, _ limit: Int, unit: Int) -> Int {
        let blocks = (total &+ limit &- 1) / limit
        let even = (total &+ blocks &- 1) / blocks
        return roundUp(even, unit)
    }

    @inline(__always)
    static func roundUp(_ value: Int, _ unit: Int) -> Int {
        (value &+ unit &- 1) / unit &* unit
    }
}

/// The micro-kernel on packed panels (A: kc x mr, B: kc x nr). `next`: where to prefetch from
/// (`SGEMMShape.nextPanelBytesPerStep` bytes per k step), a slice of the next B panel.
@inline(never)
func sgemmKernel(
    kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
    c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, next: UnsafeRawPointer
) {
    sgemmTile(
        kc: kc, a: a, aRowStride: 1, aKStride: SGEMMShape.mr, b: b, bKStride: SGEMMShape.nr,
        c: c, ldc: ldc, accumulate: accumulate, next: next)
}

/// The micro-kernel reading A and/or B in place (strides in floats).
@inline(never)
func sgemmKernelStrided(
    kc: Int, a: UnsafePointer<Float>, aRowStride: Int, aKStride: Int,
    b: UnsafePointer<Float>, bKStride: Int,
    c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, next: UnsafeRawPointer
) {
    sgemmTile(
        kc: kc, a: a, aRowStride: aRowStride, aKStride: aKStride, b: b, bKStride: bKStride,
        c: c, ldc: ldc, accumulate: accumulate, next: next)
}
