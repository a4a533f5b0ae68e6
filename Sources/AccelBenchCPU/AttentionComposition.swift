import AccelBenchCore
import AccelBenchKernels
import COpenBLAS

/// Attention as a user composes it from BLAS: for each (batch, KV head), S = Q·Kᵀ·scale with
/// cblas_sgemm (the group's query heads stacked as rows), a row softmax with the mask, then O = P·V with
/// cblas_sgemm. It materializes the scores: groupSize·q x kv floats per KV head in flight. An fp16 KV
/// cache is widened to fp32 inside the timed call (the composition has no fp16 GEMM).
final class OpenBLASAttentionCase: PreparedCase {
    let buffers: AttentionBuffers
    let pool: WorkerPool
    let isa: CPUISA
    let scores: AlignedBuffer<Float>
    /// fp32 copies of one KV head's K and V (fp16 caches only).
    let widened: AlignedBuffer<Float>?

    /// Bytes the composition needs besides the case's buffers.
    static func extraBytes(_ g: AttentionGeometry) -> Int {
        g.groupSize * g.queryLength * g.kvLength * 4 + (g.kvType == .fp16 ? 2 * g.kvLength * g.headDim * 4 : 0)
    }

    init(buffers: AttentionBuffers, pool: WorkerPool, isa: CPUISA) {
        self.buffers = buffers
        self.pool = pool
        self.isa = isa
        let g = buffers.geometry
        scores = AlignedBuffer(count: g.groupSize * g.queryLength * g.kvLength)
        scores.pointer.update(repeating: 0, count: scores.count)
        if g.kvType == .fp16 {
            let w = AlignedBuffer<Float>(count: 2 * g.kvLength * g.headDim)
            w.pointer.update(repeating: 0, count: w.count)
            widened = w
        } else {
            widened = nil
        }
    }

    var kernelPath: String {
        "OpenBLAS \(OpenBLASBackend.version) cblas_sgemm (core \(OpenBLASBackend.coreName)) + \(isa.rawValue) row softmax, scores materialized"
            + (buffers.geometry.kvType == .fp16 ? ", fp16 KV widened per call" : "")
    }

    func poisonOutputs() { buffers.poison() }
    func check() -> CorrectnessCheck { buffers.check() }

    func run() {
        let g = buffers.geometry
        let d = g.headDim, rows = g.groupSize * g.queryLength, kv = g.kvLength
        let s = scores.pointer
        for b in 0..<g.batch {
            for kvh in 0..<g.kvHeads {
                let kvOffset = (b * g.kvHeads + kvh) * kv * d
                let qOffset = (b * g.heads + kvh * g.groupSize) * g.queryLength * d
                var k: UnsafePointer<Float>, v: UnsafePointer<Float>
                switch g.kvType {
                case .fp32:
                    k = UnsafeRawPointer(buffers.k.pointer).assumingMemoryBound(to: Float.self) + kvOffset
                    v = UnsafeRawPointer(buffers.v.pointer).assumingMemoryBound(to: Float.self) + kvOffset
                case .fp16:
                    let w = widened!.pointer
                    widen(from: UnsafeRawPointer(buffers.k.pointer) + kvOffset * 2, into: w, count: kv * d)
                    widen(from: UnsafeRawPointer(buffers.v.pointer) + kvOffset * 2, into: w + kv * d, count: kv * d)
                    k = UnsafePointer(w)
                    v = UnsafePointer(w + kv * d)
                }
                cblas_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasTrans, blasint(rows), blasint(kv), blasint(d), g.scale,
                    buffers.q.pointer + qOffset, blasint(d), k, blasint(d), 0, s, blasint(kv))
                softmax(rows: rows)
                cblas_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(rows), blasint(d), blasint(kv), 1,
                    s, blasint(kv), v, blasint(d), 0, buffers.o.pointer + qOffset, blasint(d))
            }
        }
    }

    /// The masked row softmax, rows split between the pool's workers.
    private func softmax(rows: Int) {
        let g = buffers.geometry
        let address = UInt(bitPattern: scores.pointer), isa = self.isa, workers = pool.threadCount
        pool.run { worker in
            let range = WorkerPool.chunk(worker, of: workers, count: rows)
            guard !range.isEmpty else { return }
            let base = UnsafeMutablePointer<Float>(bitPattern: address)! + range.lowerBound * g.kvLength
            AttentionSoftmax.apply(isa: isa, base, rows: range.count, columns: g.kvLength, ld: g.kvLength) { r in
                g.visibleKV(row: (range.lowerBound + r) % g.queryLength)
            }
        }
    }

    /// fp16 -> fp32, split between the pool's workers.
    private func widen(from source: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>, count: Int) {
        let from = UInt(bitPattern: source), to = UInt(bitPattern: destination), workers = pool.threadCount
        pool.run { worker in
            let range = WorkerPool.chunk(worker, of: workers, count: count)
            let src = UnsafeRawPointer(bitPattern: from)!.assumingMemoryBound(to: UInt16.self)
            let dst = UnsafeMutablePointer<Float>(bitPattern: to)!
            AttentionHalf.widen(src + range.lowerBound, into: dst + range.lowerBound, count: range.count)
        }
    }
}

/// Float64 attention as a backend: the reference computed row by row (tiny shapes only).
final class ReferenceAttentionCase: PreparedCase {
    let buffers: AttentionBuffers
    let pool: WorkerPool
    let scratch: AlignedBuffer<Double>
    let kernelPath = "reference float64, row by row (max-subtracted softmax)"

    init(buffers: AttentionBuffers, pool: WorkerPool) {
        self.buffers = buffers
        self.pool = pool
        scratch = AlignedBuffer(count: pool.threadCount * buffers.geometry.kvLength)
    }

    func poisonOutputs() { buffers.poison() }
    func check() -> CorrectnessCheck { buffers.check() }

    func run() {
        let g = buffers.geometry
        let rows = g.batch * g.heads * g.queryLength, workers = pool.threadCount
        let q = UInt(bitPattern: buffers.q.pointer), k = UInt(bitPattern: buffers.k.pointer)
        let v = UInt(bitPattern: buffers.v.pointer), o = UInt(bitPattern: buffers.o.pointer)
        let s = UInt(bitPattern: scratch.pointer)
        pool.run { worker in
            let q = UnsafePointer<Float>(bitPattern: q)!, k = UnsafeRawPointer(bitPattern: k)!
            let v = UnsafeRawPointer(bitPattern: v)!, o = UnsafeMutablePointer<Float>(bitPattern: o)!
            let scores = UnsafeMutablePointer<Double>(bitPattern: s)! + worker * g.kvLength
            for index in WorkerPool.chunk(worker, of: workers, count: rows) {
                let b = index / (g.heads * g.queryLength), h = index / g.queryLength % g.heads, i = index % g.queryLength
                let row = AttentionReference.row(g, q: q, k: k, v: v, batch: b, head: h, row: i, scores: scores)
                for c in 0..<g.headDim { o[index * g.headDim + c] = Float(row.values[c]) }
            }
        }
    }
}
