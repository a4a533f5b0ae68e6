import AccelBenchCore
import Foundation

/// Times the forward step the way llama-bench reports it: pp (prompt processing: P tokens in one
/// prefill from an empty cache) and tg (text generation: T single-token decode steps from depth D).
public enum ModelBenchmark {
    public struct Timing: Sendable, CustomStringConvertible {
        /// Tokens processed per repetition.
        public var tokens: Int
        /// Wall-clock seconds of each timed repetition.
        public var seconds: [Double]

        /// Tokens per second of the median repetition.
        public var tokensPerSecond: Double {
            let sorted = seconds.sorted()
            return Double(tokens) / sorted[sorted.count / 2]
        }

        /// Tokens per second of the fastest repetition.
        public var bestTokensPerSecond: Double { Double(tokens) / seconds.min()! }

        public var description: String {
            String(format: "%d tokens: %.2f tok/s (median of %d, best %.2f)", tokens, tokensPerSecond, seconds.count, bestTokensPerSecond)
        }
    }

    /// Deterministic token ids for a run (uniform over the vocabulary).
    public static func tokens(_ count: Int, vocab: Int, seed: UInt64 = 42) -> [Int] {
        var g = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Int(g.next() % UInt64(vocab)) }
    }

    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    }

    /// pp: `promptTokens` tokens prefilled from an empty cache, `repetitions` times after one untimed
    /// warm-up (which builds the GEMM plans for this token count). Leaves the session reset.
    public static func prefill(session: ModelSession, promptTokens: Int, repetitions: Int = 3) throws -> Timing {
        guard promptTokens >= 1 && repetitions >= 1 else {
            throw AccelBenchError(.invalidArgument, "ModelBenchmark: prompt tokens and repetitions must be >= 1")
        }
        let prompt = tokens(promptTokens, vocab: session.config.vocab)
        session.reset()
        try session.step(tokens: prompt)
        var times: [Double] = []
        for _ in 0..<repetitions {
            session.reset()
            times.append(try seconds { try session.step(tokens: prompt) })
        }
        session.reset()
        return Timing(tokens: promptTokens, seconds: times)
    }

    /// tg: `generatedTokens` decode steps starting at depth `depth` (positions 0..<depth filled by an
    /// untimed prefill), `repetitions` times after one untimed warm-up step. Each step's cost includes
    /// building its attention plan (a new KV length every step). Leaves the session reset.
    public static func decode(session: ModelSession, depth: Int, generatedTokens: Int, repetitions: Int = 3) throws -> Timing {
        guard depth >= 0 && generatedTokens >= 1 && repetitions >= 1 else {
            throw AccelBenchError(.invalidArgument, "ModelBenchmark: depth >= 0, generated tokens and repetitions >= 1")
        }
        let vocab = session.config.vocab
        let generated = tokens(generatedTokens, vocab: vocab, seed: 43)
        session.reset()
        if depth > 0 { try session.step(tokens: tokens(depth, vocab: vocab)) }
        session.prepare(tokens: 1)
        try session.step(tokens: [generated[0]])  // warm-up
        var times: [Double] = []
        for _ in 0..<repetitions {
            try session.truncate(to: depth)
            times.append(try seconds { for token in generated { try session.step(tokens: [token]) } })
        }
        session.reset()
        return Timing(tokens: generatedTokens, seconds: times)
    }
}
