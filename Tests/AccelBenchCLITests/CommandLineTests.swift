import AccelBenchCore
import Foundation
import Testing
@testable import AccelBenchCLI

@Suite(.serialized) struct CommandLineTests {
    @Test(arguments: [
        ["run", "--shape", "0x3x3"], ["run", "--shape", "abc"], ["run", "--workload", "flash-attention"],
        ["run", "--workload", "attention", "--shape", "h4:q9:kv8:d64:causal"], ["run", "--workload", "attention", "--dtype", "bf16"],
        ["run", "--backend", "cublas"], ["run", "--threads", "0"], ["run", "--threads", "two"],
        ["run", "--dtype", "int3"], ["run", "--format", "xml"], ["run", "--bogus"], ["list", "things"],
        ["run", "--suite", "huge"], ["run", "--workload", "stream", "--backend", "openblas"],
        ["run", "--backend", "swift-simd", "--shape", "300000x300000x300000", "--no-ceilings"],
    ])
    func badInputExitsWithTwo(_ arguments: [String]) {
        #expect(AccelBench.main(arguments: arguments) == ExitStatus.usageError.rawValue, "\(arguments)")
    }

    @Test func listCommandsSucceed() {
        #expect(AccelBench.main(arguments: ["list", "backends"]) == 0)
        #expect(AccelBench.main(arguments: ["list", "workloads"]) == 0)
        #expect(AccelBench.main(arguments: ["topology", "--format", "json"]) == 0)
        #expect(AccelBench.main(arguments: ["--help"]) == 0)
    }

    @Test func runWritesTheResultFileAtomically() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("accelbench-cli-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("out/run.json").path
        let status = AccelBench.main(arguments: [
            "run", "--no-ceilings", "--backend", "reference,swift-simd", "--shape", "16x24x8", "--threads", "1",
            "--format", "csv", "--output", path, "--quiet",
        ])
        #expect(status == 0)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        #expect(object?["schema"] as? String == "accelbench.run.v1")
        let results = object?["results"] as? [[String: Any]]
        #expect(results?.count == 2)
        #expect(object?["topology"] != nil && object?["versions"] != nil)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out").path)
        #expect(leftovers == ["run.json"])
    }
}
