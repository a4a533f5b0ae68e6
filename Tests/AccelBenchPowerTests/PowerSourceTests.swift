import Testing
@testable import AccelBenchPower

@Suite struct PowerSourceTests {
    @Test func qualityLevelsAreOrdered() {
        #expect(PowerQuality.estimate < .inBandCounter && PowerQuality.inBandCounter < .bmc && PowerQuality.bmc < .calibratedMeter)
    }
}
