import Testing
@testable import AccelBenchCore

@Suite struct AttentionShapeTests {
    @Test func parsesExplicitFieldsInAnyOrder() throws {
        let a = try AttentionShape.parse("b2:h32:kvh8:q2048:kv4096:d128:causal")
        #expect(a == AttentionShape(batch: 2, heads: 32, kvHeads: 8, queryLength: 2048, kvLength: 4096, headDim: 128, causal: true))
        let b = try AttentionShape.parse("d64:kv1k:q7:h4")
        #expect(b == AttentionShape(batch: 1, heads: 4, kvHeads: 4, queryLength: 7, kvLength: 1024, headDim: 64, causal: false))
        #expect(b.groupSize == 1)
    }

    @Test func modelPresetsAndModes() throws {
        let prefill = try AttentionShape.parse("llama3-8b:prefill2048")
        #expect(prefill.description == "b1:h32:kvh8:q2K:kv2K:d128:causal")
        #expect(!prefill.isDecode)
        let decode = try AttentionShape.parse("qwen2.5-7b:decode8k")
        #expect(decode == AttentionShape(heads: 28, kvHeads: 4, queryLength: 1, kvLength: 8192, headDim: 128, causal: true))
        #expect(decode.isDecode)
        let speculative = try AttentionShape.parse("llama3.2-1b:decode32k:q4")
        #expect(speculative.queryLength == 4 && speculative.kvLength == 32768 && speculative.headDim == 64)
        // The canonical description parses back to the same shape.
        #expect(try AttentionShape.parse(speculative.description) == speculative)
    }

    @Test(arguments: [
        ("h32:q2:kv2", "head dim"), ("h32:kv2:d64", "query length"), ("h32:q2:d64", "KV length"),
        ("q2:kv2:d64", "heads"), ("h6:kvh4:q1:kv8:d64", "multiple"), ("h4:q9:kv8:d64:causal", "q <= kv"),
        ("h4:q0:kv8:d64", "positive"), ("h4:q1:kv8:d64:flash", "unknown field"), ("h4::q1", "empty"),
        ("llama9:decode8", "unknown field"),
    ])
    func rejectsBadShapesWithTheReason(text: String, expected: String) {
        do {
            _ = try AttentionShape.parse(text)
            Issue.record("\(text) parsed")
        } catch let error as AccelBenchError {
            #expect(error.code == .invalidShape)
            #expect(error.message.contains(expected), "\(error.message)")
            #expect(error.message.contains(text))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func flopRuleCountsOnlyUnmaskedPairs() throws {
        let full = try AttentionShape.parse("h2:q4:kv4:d8")
        #expect(full.flops == 4 * 2 * 8 * 16)
        // Causal 4x4: 1 + 2 + 3 + 4 = 10 visible pairs per head.
        let causal = try AttentionShape.parse("h2:q4:kv4:d8:causal")
        #expect(causal.flops == 4 * 2 * 8 * 10)
        // Bottom-right: 2 new tokens against 5 keys see 4 and 5 keys.
        let decode = try AttentionShape.parse("h1:q2:kv5:d16:causal")
        #expect(decode.unmaskedPairsPerHead == 9)
        #expect(Workload.attention.work(.attention(causal), dtype: .fp32).rule.contains("unmasked"))
    }

    @Test func decodeAlsoCountsKVBytes() throws {
        let decode = try AttentionShape.parse("llama3-8b:decode8192")
        let work = try #require(Workload.attention.secondaryWork(.attention(decode), dtype: .fp16))
        #expect(work.kind == .bytes)
        #expect(work.amount == 2 * 8 * 8192 * 128 * 2)
        let prefill = try AttentionShape.parse("llama3-8b:prefill64")
        #expect(Workload.attention.secondaryWork(.attention(prefill), dtype: .fp16) == nil)
        #expect(Workload.matmul.secondaryWork(.matmul(m: 1, n: 1, k: 1), dtype: .fp32) == nil)
    }

    @Test func kvDTypeSyntax() throws {
        #expect(try DType.parse("kv=f16") == .fp16)
        #expect(try DType.parse("kv=fp32") == .fp32)
        #expect(Workload.attention.dtypeLabel(.fp16) == "kv=fp16")
        #expect(Workload.matmul.dtypeLabel(.fp32) == "fp32")
        #expect(throws: AccelBenchError.self) { try DType.parse("kv=int3") }
    }

    @Test func workloadParsesAttentionShapes() throws {
        let shapes = try Workload.attention.parseShapes("llama3-8b:prefill128")
        #expect(shapes.count == 1)
        #expect(Workload.attention.bufferBytes(shapes[0], dtype: .fp16) == 2 * (32 * 128 * 128) * 4 + 2 * (8 * 128 * 128) * 2)
    }
}
