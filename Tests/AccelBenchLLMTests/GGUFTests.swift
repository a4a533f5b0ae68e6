import AccelBenchCore
import AccelBenchKernels
import Foundation
import Testing

@testable import AccelBenchLLM

/// A unique path under the temporary directory; removed by `cleanup`.
private func tempPath(_ tag: String = "model") -> String {
    FileManager.default.temporaryDirectory
        .appendingPathComponent("accelbench-gguf-\(tag)-\(UUID().uuidString).gguf").path
}

private func cleanup(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

/// Writes `bytes` to a fresh temporary file, opens it, removes it.
private func open(_ bytes: [UInt8]) throws -> GGUFFile {
    let path = tempPath()
    defer { cleanup(path) }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return try GGUFFile(path: path)
}

/// The AccelBenchError that opening `bytes` throws (fails the test when none is thrown).
private func openError(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> AccelBenchError? {
    do {
        _ = try open(bytes)
        Issue.record("expected the file to be rejected", sourceLocation: sourceLocation)
        return nil
    } catch let e as AccelBenchError {
        return e
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

private func caught(_ body: () throws -> Void) -> AccelBenchError? {
    do {
        try body()
        return nil
    } catch let e as AccelBenchError {
        return e
    } catch {
        return nil
    }
}

private func patchU64(_ bytes: inout [UInt8], at offset: Int, _ value: UInt64) {
    withUnsafeBytes(of: value.littleEndian) { for (i, b) in $0.enumerated() { bytes[offset + i] = b } }
}

private func patchU32(_ bytes: inout [UInt8], at offset: Int, _ value: UInt32) {
    withUnsafeBytes(of: value.littleEndian) { for (i, b) in $0.enumerated() { bytes[offset + i] = b } }
}

/// Deterministic values in about [-1, 1).
private func values(_ count: Int, seed: UInt64) -> [Float] {
    var g = SeededGenerator(seed: seed)
    return (0..<count).map { _ in Float.random(in: -1..<1, using: &g) }
}

private let everyValue: [(String, GGUFValue)] = [
    ("t.u8", .uint8(250)),
    ("t.i8", .int8(-7)),
    ("t.u16", .uint16(65000)),
    ("t.i16", .int16(-30000)),
    ("t.u32", .uint32(4_000_000_000)),
    ("t.i32", .int32(-2_000_000_000)),
    ("t.f32", .float32(1e-5)),
    ("t.bool.true", .bool(true)),
    ("t.bool.false", .bool(false)),
    ("t.string", .string("héllo, wörld ✓")),
    ("t.string.empty", .string("")),
    ("t.u64", .uint64(UInt64.max)),
    ("t.i64", .int64(Int64.min)),
    ("t.f64", .float64(-3.141592653589793)),
    ("t.array.i32", .array(.int32, [.int32(1), .int32(-2), .int32(3)])),
    ("t.array.empty", .array(.float32, [])),
    ("t.array.strings", .array(.string, [.string("<s>"), .string(""), .string("▁the")])),
    ("t.array.bool", .array(.bool, [.bool(true), .bool(false)])),
    ("t.array.f64", .array(.float64, [.float64(0.5), .float64(-1e300)])),
    (
        "t.array.nested",
        .array(.array, [
            .array(.uint8, [.uint8(1), .uint8(2)]),
            .array(.string, [.string("a")]),
            .array(.array, [.array(.int64, [.int64(-1)])]),
            .array(.uint16, []),
        ])
    ),
]

/// A small llama model: metadata plus a tensor of each readable type.
private struct Fixture {
    var writer: GGUFWriter
    let q8: [Float]  // 3 x 64
    let q4: [Float]  // 5 x 96
    let norm: [Float]  // 64
    let half: [Float]  // 2 x 3 x 4 (values exact in fp16)

    init(alignment: Int = 32) throws {
        writer = try GGUFWriter(alignment: alignment)
        q8 = values(3 * 64, seed: 1)
        q4 = values(5 * 96, seed: 2)
        norm = values(64, seed: 3)
        half = (0..<24).map { Float($0) * 0.25 - 3 }
        writer.set("general.architecture", .string("llama"))
        writer.set("general.name", .string("tiny"))
        writer.set("llama.embedding_length", .uint32(64))
        writer.set("llama.block_count", .uint32(2))
        writer.set("llama.attention.head_count", .uint32(4))
        writer.set("llama.attention.head_count_kv", .uint32(2))
        writer.set("llama.feed_forward_length", .uint32(96))
        writer.set("llama.context_length", .uint32(2048))
        writer.set("llama.rope.freq_base", .float32(500000))
        writer.set("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))
        writer.set("tokenizer.ggml.tokens", .array(.string, (0..<10).map { .string("tok\($0)") }))
        try writer.addQuantized("blk.0.attn_q.weight", format: .q8_0, rows: 3, columns: 64, values: q8)
        try writer.addQuantized("blk.0.ffn_down.weight", format: .q4_0, rows: 5, columns: 96, values: q4)
        try writer.addF32("blk.0.attn_norm.weight", dims: [64], values: norm)
        try writer.addF16("blk.0.half", dims: [4, 3, 2], values: half)
    }
}

@Suite struct GGUFTests {
    // MARK: Round trips

    @Test func metadataRoundTripsEveryValueType() throws {
        var w = try GGUFWriter()
        for (k, v) in everyValue { w.set(k, v) }
        let file = try open(try w.encoded().bytes)
        #expect(file.version == 3)
        #expect(file.tensors.isEmpty)
        #expect(file.metadataKeys == everyValue.map(\.0))
        for (k, v) in everyValue { #expect(file.metadata[k] == v, "\(k)") }
        #expect(file.int("t.u64") == nil)  // does not fit in Int
        #expect(file.int("t.u32") == 4_000_000_000)
        #expect(file.int("t.i8") == -7)
        #expect(file.int("t.string") == nil)
        #expect(file.string("t.string") == "héllo, wörld ✓")
        #expect(file.float("t.f32") == Double(Float(1e-5)))
        #expect(file.float("t.f64") == -3.141592653589793)
        #expect(file.float("missing") == nil)
        #expect(file.alignment == 32)
    }

    @Test func tensorsRoundTripWithTheirBytes() throws {
        let f = try Fixture()
        let enc = try f.writer.encoded()
        let path = tempPath()
        defer { cleanup(path) }
        try f.writer.write(to: path)
        let file = try GGUFFile(path: path)
        #expect(file.tensors.map(\.name) == f.writer.tensors.map(\.name))
        #expect(file.dataOffset == enc.dataOffset)
        #expect(file.dataOffset % 32 == 0)
        for (info, t) in zip(file.tensors, f.writer.tensors) {
            #expect(info.dims == t.dims)
            #expect(info.type == t.type)
            #expect(info.byteCount == t.bytes.count)
            #expect(info.offset % 32 == 0)
            let bytes = try file.withTensorBytes(info.name) { [UInt8]($0) }
            #expect(bytes == t.bytes, "\(info.name)")
        }
        let q = try file.tensor("blk.0.attn_q.weight")
        #expect(q.type == .q8_0 && q.dims == [64, 3] && q.byteCount == 3 * 2 * 34)
        #expect(try file.tensor("blk.0.ffn_down.weight").byteCount == 5 * 3 * 18)
        #expect(try file.floats("blk.0.attn_norm.weight") == f.norm)
        #expect(try file.floats("blk.0.half") == f.half)
        #expect(try file.tensor("blk.0.half").elementCount == 24)
        // No temporary file left beside the model.
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir)
            .filter { $0.hasPrefix(".\(URL(fileURLWithPath: path).lastPathComponent)") }
        #expect(leftovers.isEmpty)
    }

    @Test func quantizedMatrixEqualsDirectQuantization() throws {
        let f = try Fixture()
        let file = try open(try f.writer.encoded().bytes)
        for (name, format, rows, columns, x) in [
            ("blk.0.attn_q.weight", QuantFormat.q8_0, 3, 64, f.q8), ("blk.0.ffn_down.weight", .q4_0, 5, 96, f.q4),
        ] {
            let m = try file.quantizedMatrix(name, rows: rows, columns: columns)
            let direct = x.withUnsafeBufferPointer {
                QuantizedMatrix(format: format, rows: rows, columns: columns, quantizing: $0.baseAddress!)
            }
            #expect(m.format == format && m.rows == rows && m.columns == columns)
            #expect(memcmp(m.blocks, direct.blocks, m.byteCount) == 0, "\(name)")
            #expect(m.dequantized() == direct.dequantized())
        }
    }

    @Test func llamaHyperparameters() throws {
        let f = try Fixture()
        let file = try open(try f.writer.encoded().bytes)
        #expect(file.architecture == "llama")
        #expect(file.vocabularySize == 10)
        let h = try file.llamaHyperparameters()
        #expect(
            h
                == GGUFLlamaHyperparameters(
                    architecture: "llama", embeddingLength: 64, blockCount: 2, headCount: 4, headCountKV: 2,
                    feedForwardLength: 96, contextLength: 2048, ropeFreqBase: 500000, rmsNormEpsilon: Double(Float(1e-5)),
                    vocabularySize: 10))
        #expect(h.headDim == 16)

        // Vocabulary from token_embd.weight when there is no tokenizer; missing keys named.
        var w = try GGUFWriter()
        w.set("general.architecture", .string("qwen2"))
        w.set("qwen2.embedding_length", .uint32(32))
        try w.addQuantized("token_embd.weight", format: .q8_0, rows: 7, columns: 32, values: values(7 * 32, seed: 4))
        let g = try open(try w.encoded().bytes)
        #expect(g.vocabularySize == 7)
        let e = caught { _ = try g.llamaHyperparameters() }
        #expect(e?.message.contains("'qwen2.block_count' is missing") == true)
    }

    @Test func customAlignment() throws {
        let f = try Fixture(alignment: 64)
        let enc = try f.writer.encoded()
        let file = try open(enc.bytes)
        #expect(file.alignment == 64)
        #expect(file.metadata["general.alignment"] == .uint32(64))
        #expect(file.dataOffset % 64 == 0)
        #expect(file.tensors.allSatisfy { $0.offset % 64 == 0 })
        #expect(file.tensors[1].offset == 256)  // 204 bytes of q8_0 padded to 64
        #expect(try file.floats("blk.0.attn_norm.weight") == f.norm)
        _ = try file.quantizedMatrix("blk.0.ffn_down.weight", rows: 5, columns: 96)
    }

    @Test func acceptsVersion2() throws {
        var bytes = try Fixture().writer.encoded().bytes
        patchU32(&bytes, at: 4, 2)
        #expect(try open(bytes).version == 2)
    }

    // MARK: Rejected files

    @Test func badMagic() throws {
        var bytes = try Fixture().writer.encoded().bytes
        bytes[0...3] = [0x50, 0x4b, 0x03, 0x04]
        let e = openError(bytes)
        #expect(e?.code == .invalidArgument)
        #expect(e?.message.contains("not a GGUF file") == true)
        #expect(e?.message.contains("accelbench-gguf-") == true)  // names the file
    }

    @Test func unsupportedVersion() throws {
        for v: UInt32 in [1, 4] {
            var bytes = try Fixture().writer.encoded().bytes
            patchU32(&bytes, at: 4, v)
            let e = openError(bytes)
            #expect(e?.message.contains("GGUF version \(v) is not supported") == true)
        }
    }

    @Test func truncatedAnywhere() throws {
        let enc = try Fixture().writer.encoded()
        let cuts = [
            0, 3, 10, enc.headerEnd - 1,  // header
            enc.headerEnd + 4, enc.headerEnd + 12, enc.metadataEnd - 3,  // metadata
            enc.tensorInfoStarts[1] + 5, enc.tensorInfoEnd - 1,  // tensor infos
            enc.dataOffset, enc.dataOffset + 100, enc.bytes.count - 40,  // data
        ]
        for cut in cuts {
            let e = openError(Array(enc.bytes[..<cut]))
            let m = e?.message ?? ""
            #expect(
                m.contains("truncated") || m.contains("ends past the end of the file") || m.contains("file is empty"),
                "cut at \(cut): \(m)")
        }
        // Every prefix is rejected, never crashes.
        for cut in stride(from: 0, to: enc.bytes.count - 32, by: 7) { _ = openError(Array(enc.bytes[..<cut])) }
        // A trailing padding shortfall after the last tensor is fine as long as the data is there.
        _ = try open(Array(enc.bytes[..<(enc.bytes.count - 16)]))
    }

    @Test func absurdCountsAndLengths() throws {
        let enc = try Fixture().writer.encoded()
        var bytes = enc.bytes
        patchU64(&bytes, at: 8, 1 << 40)  // tensor count
        #expect(openError(bytes)?.message.contains("tensor count") == true)
        bytes = enc.bytes
        patchU64(&bytes, at: 16, UInt64.max)  // kv count
        #expect(openError(bytes)?.message.contains("metadata key/value count") == true)
        bytes = enc.bytes
        patchU64(&bytes, at: enc.headerEnd, 1 << 62)  // length of the first key
        #expect(openError(bytes)?.message.contains("metadata key #0") == true)
    }

    @Test func invalidUTF8Key() throws {
        let enc = try Fixture().writer.encoded()
        var bytes = enc.bytes
        bytes[enc.headerEnd + 8] = 0xff  // first byte of "general.architecture"
        #expect(openError(bytes)?.message.contains("not valid UTF-8") == true)
    }

    @Test func unsupportedTensorTypeIsRejectedOnLoad() throws {
        var w = try GGUFWriter()
        try w.addTensor("blk.0.attn_q.weight", dims: [256, 2], type: .q5_K, bytes: [UInt8](repeating: 0, count: 2 * 176))
        let path = tempPath()
        defer { cleanup(path) }
        try w.write(to: path)
        let file = try GGUFFile(path: path)  // the table is fine
        #expect(file.tensors[0].type == .q5_K && file.tensors[0].byteCount == 352)
        let e = caught { _ = try file.quantizedMatrix("blk.0.attn_q.weight", rows: 2, columns: 256) }
        #expect(e?.code == .invalidArgument)
        #expect(
            e?.message
                == "\(path): tensor 'blk.0.attn_q.weight' has type Q5_K (13); accelbench reads F32, F16, Q8_0 and Q4_0 tensors;"
                + " convert the model with llama-quantize to q8_0 or q4_0")
        #expect(caught { _ = try file.floats("blk.0.attn_q.weight") }?.message.contains("Q5_K (13)") == true)
    }

    @Test func wrongTypeForTheLoader() throws {
        let file = try open(try Fixture().writer.encoded().bytes)
        #expect(caught { _ = try file.floats("blk.0.attn_q.weight") }?.message.contains("needs it as F32 or F16") == true)
        #expect(caught { _ = try file.quantizedMatrix("blk.0.attn_norm.weight", rows: 1, columns: 64) }?.message.contains("needs it as Q8_0 or Q4_0") == true)
    }

    @Test func shapeMismatch() throws {
        let file = try open(try Fixture().writer.encoded().bytes)
        let e = caught { _ = try file.quantizedMatrix("blk.0.attn_q.weight", rows: 64, columns: 3 * 32) }
        #expect(e?.code == .invalidShape)
        #expect(e?.message.contains("has shape [64, 3]") == true)
        #expect(e?.message.contains("expected [96, 64]") == true)
    }

    @Test func missingTensor() throws {
        let file = try open(try Fixture().writer.encoded().bytes)
        let e = caught { _ = try file.tensor("output.weight") }
        #expect(e?.code == .invalidArgument)
        #expect(e?.message.contains("no tensor named 'output.weight'") == true)
        #expect(e?.message.contains("'blk.0.attn_q.weight'") == true)
        #expect(caught { _ = try file.floats("nope") }?.message.contains("no tensor named 'nope'") == true)
    }

    @Test func offsetPastEndOfFile() throws {
        let enc = try Fixture().writer.encoded()
        var bytes = enc.bytes
        patchU64(&bytes, at: enc.tensorOffsetFields[3], UInt64(bytes.count))  // aligned (a multiple of 32)
        let e = openError(bytes)
        #expect(e?.message.contains("tensor 'blk.0.half'") == true)
        #expect(e?.message.contains("ends past the end of the file") == true)
        patchU64(&bytes, at: enc.tensorOffsetFields[3], UInt64.max - 31)  // overflows when added
        #expect(openError(bytes)?.message.contains("ends past the end of the file") == true)
    }

    @Test func misalignedOffset() throws {
        let enc = try Fixture().writer.encoded()
        var bytes = enc.bytes
        patchU64(&bytes, at: enc.tensorOffsetFields[1], 224 + 8)
        let e = openError(bytes)
        #expect(e?.message.contains("tensor 'blk.0.ffn_down.weight' has data offset 232, not a multiple of the file's alignment 32") == true)
    }

    @Test func overlappingTensors() throws {
        let enc = try Fixture().writer.encoded()
        var bytes = enc.bytes
        patchU64(&bytes, at: enc.tensorOffsetFields[2], 0)
        #expect(openError(bytes)?.message.contains("overlap") == true)
    }

    @Test func dimensionOverflowAndRowLength() throws {
        let enc = try Fixture().writer.encoded()
        let dims = enc.tensorInfoStarts[0] + 8 + "blk.0.attn_q.weight".utf8.count + 4
        var bytes = enc.bytes
        patchU64(&bytes, at: dims, 1 << 40)
        patchU64(&bytes, at: dims + 8, 1 << 40)
        #expect(openError(bytes)?.message.contains("overflows") == true)
        bytes = enc.bytes
        patchU64(&bytes, at: dims, 48)  // not a whole number of 32-element blocks
        #expect(openError(bytes)?.message.contains("not a multiple of the Q8_0 block size 32") == true)
        bytes = enc.bytes
        patchU32(&bytes, at: dims - 4, 5)  // n_dims
        #expect(openError(bytes)?.message.contains("has 5 dimensions") == true)
    }

    @Test func missingFileAndWriterChecks() throws {
        let path = tempPath("missing")
        let e = caught { _ = try GGUFFile(path: path) }
        #expect(e?.code == .io && e?.message.hasPrefix(path) == true)
        #expect(caught { _ = try GGUFWriter(alignment: 48) } != nil)
        var w = try GGUFWriter()
        #expect(caught { try w.addF32("x", dims: [3], values: [1, 2]) }?.code == .invalidShape)
        w.set("bad", .array(.int32, [.uint8(1)]))
        #expect(caught { _ = try w.encoded() } != nil)
    }
}
