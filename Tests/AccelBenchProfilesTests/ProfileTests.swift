import AccelBenchCore
import AccelBenchJSON
import Foundation
import Testing
@testable import AccelBenchCLI
@testable import AccelBenchProfiles

/// A temporary directory removed when the test ends.
final class TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("accelbench-profiles-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: url.appendingPathComponent(name))
    }
}

@Suite struct ProfileCatalogTests {
    @Test func everyBundledProfileValidatesAgainstTheSchema() throws {
        let validator = try ProfileCatalog.schemaValidator()
        let files = try ProfileCatalog.profileFiles(in: ProfileCatalog.bundledDirectory, what: "bundled")
        #expect(files.count == 45)
        for url in files {
            let violations = validator.validate(try JSON.parse(Data(contentsOf: url)))
            #expect(violations.isEmpty, "\(url.lastPathComponent): \(violations)")
            let profile = try ProfileCatalog.loadFile(url, validator: validator)
            #expect(url.lastPathComponent == profile.id + ".json")
            for name in ChipProfile.Peaks.names {
                if let peak = profile.peakTFLOPS[name] { #expect(peak > 0, "\(profile.id) \(name)") }
            }
        }
        let catalog = try ProfileCatalog.load()
        #expect(catalog.profiles.count == 45)
        #expect(Set(catalog.profiles.map(\.id)).count == 45)
    }

    /// Figures copied from chip-profiles.csv.
    @Test func numbersMatchTheResearchTable() throws {
        let catalog = try ProfileCatalog.load()
        let b2 = try catalog.named("ascend-910b2")
        #expect(b2.vendor == "Huawei" && b2.model == "Ascend 910B2" && b2.stack == "CANN" && b2.year == 2023)
        #expect(b2.peakTFLOPS.fp16 == 353.9 && b2.peakTFLOPS.bf16 == 353.9 && b2.peakTFLOPS.int8 == 707.8 && b2.peakTFLOPS.int4 == 1415.6)
        #expect(b2.peakTFLOPS.fp32 == nil && b2.peakTFLOPS.fp64 == nil && b2.tdpWatts == nil)
        #expect(b2.memory == ChipProfile.Memory(type: "HBM2e", capacityGB: 64, bandwidthGBps: 1600))
        #expect(b2.confidence == "medium-high" && b2.source.contains("gitcode.com/cann/ops-nn/issues/6033"))

        let s4000 = try catalog.named("mtt-s4000")
        #expect(s4000.stack == "MUSA" && s4000.peakTFLOPS.fp32 == 25 && s4000.peakTFLOPS.tf32 == 50 && s4000.peakTFLOPS.int8 == 200)
        #expect(s4000.bandwidthGBps == 768 && s4000.interconnect == ChipProfile.Interconnect(name: "MTLink 1.0", bandwidthGBps: 240))

        let k100 = try catalog.named("hygon-dcu-k100-ai")
        #expect(k100.stack == "DTK" && k100.peakTFLOPS.fp64 == 24.5 && k100.peakTFLOPS.bf16 == 196 && k100.bandwidthGBps == 896)

        let h100 = try catalog.named("NVIDIA-H100-SXM")
        #expect(h100.peakTFLOPS.fp16 == 989.4 && h100.tdpWatts == 700 && h100.confidence == "high")

        let mlu = try catalog.named("cambricon-mlu370-x8")
        #expect(mlu.stack == "BANG" && mlu.peakTFLOPS.int4 == 512 && mlu.memory?.type == "LPDDR5" && mlu.tdpWatts == 250)
    }

    @Test func filtersByVendorAndStack() throws {
        let catalog = try ProfileCatalog.load()
        let huawei = catalog.filtered(vendor: "huawei")
        #expect(huawei.count == 11 && huawei.allSatisfy { $0.stack == "CANN" })
        #expect(catalog.filtered(stack: "cann").map(\.id) == huawei.map(\.id))
        // The stack filter also reads the source's stack text: Hygon's DTK is ROCm-compatible.
        let rocm = Set(catalog.filtered(stack: "ROCm").map(\.vendor))
        #expect(rocm == ["Hygon", "AMD"])
        #expect(catalog.filtered(vendor: "moore").allSatisfy { $0.stack == "MUSA" })
        #expect(catalog.filtered(vendor: "nvidia", stack: "CANN").isEmpty)
    }

    @Test func unknownNamesListTheClosest() throws {
        let catalog = try ProfileCatalog.load()
        #expect(throws: AccelBenchError.self) { try catalog.named("ascend-910b9") }
        do {
            _ = try catalog.named("ascend-910b9")
        } catch let error as AccelBenchError {
            #expect(error.code == .unknownBackend)
            #expect(error.message.contains("closest: ascend-910b, ascend-910b1, ascend-910b2"), "\(error.message)")
        }
        #expect(catalog.closest(to: "h100").first == "nvidia-h100-sxm")
    }

    @Test func devicesFindTheirProfile() throws {
        let catalog = try ProfileCatalog.load()
        #expect(catalog.matching(deviceName: "Ascend 910B2")?.id == "ascend-910b2")
        #expect(catalog.matching(deviceName: "ascend-910b4")?.id == "ascend-910b4")
        #expect(catalog.matching(deviceName: "Huawei Ascend 910B3 NPU")?.id == "ascend-910b3")
        #expect(catalog.matching(deviceName: "MTT S4000")?.id == "mtt-s4000")
        #expect(catalog.matching(deviceName: "Some Unknown Accelerator") == nil)
    }

    @Test func aUserProfileOverridesTheBundledOne() throws {
        let dir = try TemporaryDirectory()
        try dir.write("mine.json", """
            {"id": "ascend-910b2", "vendor": "Huawei", "model": "Ascend 910B2 (lab card)", "stack": "CANN",
             "peakTFLOPS": {"fp16": 300}, "memory": {"bandwidthGBps": 1500}, "confidence": "low", "source": "our lab"}
            """)
        try dir.write("new.json", """
            {"id": "lab-x1", "vendor": "Lab", "model": "X1", "stack": "CUDA", "peakTFLOPS": {"fp32": 10, "fp16": 40},
             "memory": {"bandwidthGBps": 500}, "confidence": "low", "source": "made up for a test"}
            """)
        let catalog = try ProfileCatalog.load(userDirectories: [dir.url.path])
        #expect(catalog.profiles.count == 46)
        let b2 = try catalog.named("ascend-910b2")
        #expect(b2.peakTFLOPS.fp16 == 300 && b2.peakTFLOPS.int8 == nil && b2.model == "Ascend 910B2 (lab card)")
        #expect(catalog.origins["ascend-910b2"]?.hasSuffix("mine.json") == true)
        #expect(catalog.notes.count == 1 && catalog.notes[0].contains("overrides the bundled profile 'ascend-910b2'"))
        #expect(try catalog.named("lab-x1").peakTFLOPS.fp32 == 10)
    }

    @Test(arguments: [
        ("{\"id\": \"x\", \"vendor\": \"V\", \"model\": \"M\", \"stack\": \"S\", \"peakTFLOPS\": {\"fp16\": -3}, \"confidence\": \"low\", \"source\": \"s\"}",
         ["field 'peakTFLOPS.fp16'", "expected a number > 0, got -3"]),
        ("{\"id\": \"x\", \"vendor\": \"V\", \"model\": \"M\", \"stack\": \"S\", \"peakTFLOPS\": {\"fp16\": 1}, \"confidence\": \"low\"}",
         ["field 'source'", "is required but missing"]),
        ("{\"id\": \"x\", \"vendor\": \"V\", \"model\": \"M\", \"stack\": \"S\", \"peakTFLOPS\": {\"fp16\": \"fast\"}, \"confidence\": \"low\", \"source\": \"s\"}",
         ["field 'peakTFLOPS.fp16'", "expected a number, got \"fast\""]),
        ("{\"id\": \"x\", \"vendor\": \"V\", \"model\": \"M\", \"stack\": \"S\", \"peakTFLOPS\": {\"fp8\": 1}, \"confidence\": \"low\", \"source\": \"s\"}",
         ["field 'peakTFLOPS.fp8'", "is not a known field"]),
        ("{\"id\": \"x\", \"vendor\": \"V\", \"model\": \"M\", \"stack\": \"S\", \"peakTFLOPS\": {}, \"confidence\": \"sure\", \"source\": \"s\"}",
         ["field 'confidence'", "expected one of"]),
        ("{\"id\": \"Bad Id\", \"vendor\": \"V\", \"model\": \"M\", \"stack\": \"S\", \"peakTFLOPS\": {}, \"confidence\": \"low\", \"source\": \"s\"}",
         ["field 'id'", "expected a string matching"]),
        ("{\"id\": \"x\", \"year\": 2023.5, \"vendor\": \"V\", \"model\": \"M\", \"stack\": \"S\", \"peakTFLOPS\": {}, \"confidence\": \"low\", \"source\": \"s\"}",
         ["field 'year'", "expected an integer"]),
        ("{\"id\": \"x\", ", ["not valid JSON"]),
    ])
    func malformedUserProfilesNameFileFieldAndExpectation(_ text: String, _ expected: [String]) throws {
        let dir = try TemporaryDirectory()
        try dir.write("broken.json", text)
        do {
            _ = try ProfileCatalog.load(userDirectories: [dir.url.path])
            Issue.record("loaded a malformed profile")
        } catch let error as AccelBenchError {
            #expect(error.message.contains(dir.url.appendingPathComponent("broken.json").path), "\(error.message)")
            for part in expected { #expect(error.message.contains(part), "\(error.message)") }
        }
        // On the command line: bad input, exit 2.
        #expect(AccelBench.main(arguments: ["profiles", "list", "--profile-path", dir.url.path]) == ExitStatus.usageError.rawValue)
    }

    @Test func theValidatorRefusesKeywordsOutsideItsSubset() {
        #expect(throws: (any Error).self) {
            try JSONSchemaValidator(schema: .object(["type": .string("string"), "dependentRequired": .object([:])]))
        }
    }

    @Test func theDerivedCPUProfileUsesTheMeasuredCeilings() {
        let cpu = ChipProfile.derivedCPU(
            brand: "Test CPU", vendor: "AuthenticAMD", cores: 2, fp32GFLOPS: 200, bf16GFLOPS: nil, int8GOPS: 800, readGBps: 20,
            memoryGB: 8)
        #expect(cpu.id == ChipProfile.derivedCPUID && cpu.confidence == "measured" && cpu.stack == "CPU")
        #expect(cpu.peakTFLOPS.fp32 == 0.2 && cpu.peakTFLOPS.bf16 == nil && cpu.peakTFLOPS.int8 == 0.8)
        #expect(cpu.bandwidthGBps == 20 && cpu.tdpWatts == nil)
    }
}
