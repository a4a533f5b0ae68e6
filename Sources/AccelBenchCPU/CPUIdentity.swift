import CKernels
import Foundation

/// What the CPU says about itself through cpuid, plus what Linux reports as its clock.
public struct CPUIdentity: Codable, Sendable, Equatable {
    public var vendor: String
    public var family: Int
    public var model: Int
    public var brand: String
    /// ISA features the CPU and OS support, e.g. ["avx2", "avx512f", "avx512_bf16"].
    public var features: [String]
    /// `cpu MHz` from /proc/cpuinfo: in a VM often the base clock, not the running clock.
    public var reportedMHz: Double?

    static let featureNames: [(UInt32, String)] = [
        (UInt32(CKERNELS_FEAT_SSE2), "sse2"), (UInt32(CKERNELS_FEAT_AVX), "avx"), (UInt32(CKERNELS_FEAT_AVX2), "avx2"),
        (UInt32(CKERNELS_FEAT_FMA), "fma"), (UInt32(CKERNELS_FEAT_F16C), "f16c"),
        (UInt32(CKERNELS_FEAT_AVX512F), "avx512f"), (UInt32(CKERNELS_FEAT_AVX512BW), "avx512bw"),
        (UInt32(CKERNELS_FEAT_AVX512DQ), "avx512dq"), (UInt32(CKERNELS_FEAT_AVX512VL), "avx512vl"),
        (UInt32(CKERNELS_FEAT_AVX512VNNI), "avx512_vnni"), (UInt32(CKERNELS_FEAT_AVX512BF16), "avx512_bf16"),
        (UInt32(CKERNELS_FEAT_AVXVNNI), "avx_vnni"), (UInt32(CKERNELS_FEAT_AVX512FP16), "avx512_fp16"),
    ]

    public static func detect() -> CPUIdentity {
        var vendorBytes = [CChar](repeating: 0, count: 13)
        var brandBytes = [CChar](repeating: 0, count: 49)
        ckernels_cpu_vendor(&vendorBytes)
        ckernels_cpu_brand(&brandBytes)
        func text(_ bytes: [CChar]) -> String {
            String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        let bits = ckernels_cpu_features()
        return CPUIdentity(
            vendor: text(vendorBytes), family: Int(ckernels_cpu_family()), model: Int(ckernels_cpu_model()),
            brand: text(brandBytes).trimmingCharacters(in: .whitespaces),
            features: featureNames.filter { bits & $0.0 != 0 }.map(\.1),
            reportedMHz: reportedMHz(cpuinfo: (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""))
    }

    public func has(_ feature: String) -> Bool { features.contains(feature) }

    static func reportedMHz(cpuinfo: String) -> Double? {
        for line in cpuinfo.split(separator: "\n") where line.hasPrefix("cpu MHz") {
            if let value = line.split(separator: ":").last.flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }) {
                return value
            }
        }
        return nil
    }

    /// Nominal fp32 FLOP per cycle per core for the widest FMA path, from the ISA and the core's known
    /// FMA pipes, with the assumption spelled out.
    public var nominalFP32FlopsPerCycle: (flops: Int, rule: String) {
        let amd = vendor == "AuthenticAMD"
        if has("avx512f") {
            if amd && family == 0x19 {
                return (32, "AVX-512 on AMD Zen 4: 2 FMA pipes x 256 bit (512-bit ops double-pumped) x 2 FLOP")
            }
            return (64, "AVX-512: 2 FMA pipes x 16 fp32 lanes x 2 FLOP (CPUs with one 512-bit FMA pipe reach half)")
        }
        if has("avx2") && has("fma") {
            return (32, "AVX2+FMA: 2 FMA pipes x 8 fp32 lanes x 2 FLOP")
        }
        return (8, "SSE2 without FMA: 1 add + 1 multiply pipe x 4 fp32 lanes")
    }
}
