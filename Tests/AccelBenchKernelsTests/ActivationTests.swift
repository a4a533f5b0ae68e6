import Foundation
import Testing
@testable import AccelBenchKernels

@Suite struct ActivationTests {
    /// SwiGLU on every ISA against float64, over a range with a ragged start and tail (vector body and
    /// tail both run), with values from 0 and subnormals to beyond the exp clamp: relative error within
    /// 1e-6 (attnExp's ~2e-7 plus one division and two products) or absolute within 1e-30 (below
    /// g = -88 the clamp gives g / (1 + e^88), under 1e-33, where the true value is smaller still), no
    /// NaN or infinity, and elements outside the range untouched.
    @Test(arguments: CPUISA.supportedISAs)
    func swiGLUMatchesFloat64(isa: CPUISA) {
        let specials: [Float] = [0, -0.0, 1e-40, -1e-40, 1, -1, 0.5, -0.5, 20, -20, 87, -87, 88.5, -88.5, 100, -100, 1e4, -1e4]
        var rng = SystemRandomNumberGenerator()
        let count = 61
        var gate = (0..<count).map { $0 < specials.count ? specials[$0] : Float.random(in: -12...12, using: &rng) }
        let up = (0..<count).map { _ in Float.random(in: -3...3, using: &rng) }
        let original = gate
        let range = 3..<58
        gate.withUnsafeMutableBufferPointer { g in
            up.withUnsafeBufferPointer { u in Activation.swiGLU(isa: isa, gate: g.baseAddress!, up: u.baseAddress!, range: range) }
        }
        for i in 0..<count {
            guard range.contains(i) else {
                #expect(gate[i].bitPattern == original[i].bitPattern, "element \(i) outside the range was written")
                continue
            }
            let g = Double(original[i]), u = Double(up[i])
            let exact = g / (1 + exp(-g)) * u
            #expect(gate[i].isFinite, "\(isa) g=\(g)")
            #expect(abs(Double(gate[i]) - exact) <= 1e-6 * abs(exact) + 1e-30, "\(isa) g=\(g) u=\(u): \(gate[i]) vs \(exact)")
        }
    }
}
