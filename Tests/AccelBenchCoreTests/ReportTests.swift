import Testing
@testable import AccelBenchCore

@Suite struct ReportTests {
    func passed(_ backend: String, median: Double, threads: Int = 1) -> CaseResult {
        let spec = CaseSpec(workload: .matmul, backend: backend, dtype: .fp32, shape: .matmul(m: 8, n: 8, k: 8), threads: threads)
        var r = CaseResult(spec: spec, status: .passed, work: Workload.matmul.work(spec.shape, dtype: .fp32), unit: .gflops)
        r.throughput = Summary([median * 0.99, median, median * 1.01])
        r.correctness = CorrectnessCheck(metric: "max_rel_err", value: 1e-7, toleranceName: "t", tolerance: 1e-5, elementsChecked: 64, nonFinite: 0)
        r.kernelPath = "path, with comma"
        return r
    }

    @Test func ratiosAreAgainstOpenBLASInTheSameCase() {
        let results = [passed("swift-simd", median: 110), passed("openblas", median: 100), passed("swift-simd", median: 50, threads: 2)]
        let ratios = ResultsReport(results: results).ratios()
        #expect(ratios.count == 1)
        #expect(abs(ratios[0]!.ratio - 1.1) < 1e-12)
        #expect(ratios[0]!.baseline == "openblas")
    }

    @Test func csvHasTheDocumentedColumnsFirst() {
        var failed = passed("bf16", median: 1)
        failed.status = .failed
        failed.throughput = nil
        failed.reason = "incorrect output: x"
        let csv = ResultsReport(results: [passed("swift-simd", median: 110), passed("openblas", median: 100), failed]).csv()
        let lines = csv.split(separator: "\n")
        #expect(lines.first == Substring(ResultsReport.csvColumns.joined(separator: ",")))
        #expect(lines[0].hasPrefix("workload,backend,dtype,shape,threads,median,unit,p5,p95,cv,peak_fraction,correct"))
        #expect(lines.count == 4)
        #expect(lines[1].hasPrefix("matmul,swift-simd,fp32,8x8x8,1,110.0,GFLOPS,"))
        #expect(lines[1].contains("\"path, with comma\""))
        #expect(lines[3].hasPrefix("matmul,bf16,fp32,8x8x8,1,,GFLOPS,,,,,false,failed"))
    }

    @Test func decodeAttentionShowsKVBandwidthAndItsCeiling() throws {
        let shape = Shape.attention(try AttentionShape.parse("llama3-8b:decode8192"))
        let spec = CaseSpec(workload: .attention, backend: "swift-simd", dtype: .fp16, shape: shape, threads: 2)
        var r = CaseResult(spec: spec, status: .passed, work: Workload.attention.work(shape, dtype: .fp16), unit: .gflops)
        r.throughput = Summary([40, 41, 42])
        r.correctness = CorrectnessCheck(metric: "max_rel_err", value: 1e-7, toleranceName: "t", tolerance: 1e-5, elementsChecked: 1, nonFinite: 0)
        let bytes = try #require(Workload.attention.secondaryWork(shape, dtype: .fp16))
        r.secondary = SecondaryThroughput(
            work: bytes, unit: .gbytesPerSecond, throughput: Summary([30, 31, 32]),
            peak: Peak(value: 40, unit: .gbytesPerSecond, label: "read-only stream"))
        r.peakResidentBytes = 123_456
        let report = ResultsReport(results: [r, passed("openblas", median: 1)])
        let table = report.table().render()
        #expect(table.contains("kv=fp16"))
        #expect(table.contains("31.0 GB/s (77.5%)") || table.contains("31.00 GB/s (77.5%)"))
        let csv = report.csv().split(separator: "\n").map { ReportTests.csvFields(String($0)) }
        let header = csv[0], row = csv[1]
        #expect(header.count == row.count)
        #expect(row[header.firstIndex(of: "secondary_median")!] == "31.0")
        #expect(row[header.firstIndex(of: "secondary_peak_fraction")!] == "0.775")
        #expect(row[header.firstIndex(of: "peak_rss_bytes")!] == "123456")
        #expect(row[header.firstIndex(of: "dtype")!] == "kv=fp16")
    }

    /// Splits one CSV line into fields (RFC 4180 quoting).
    static func csvFields(_ line: String) -> [String] {
        var fields: [String] = [], field = "", quoted = false
        var chars = Array(line)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" { field.append("\""); chars.removeFirst() } else { quoted = false }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                fields.append(field)
                field = ""
            } else {
                field.append(c)
            }
        }
        fields.append(field)
        return fields
    }

    /// A paired comparison gets its own table column and CSV columns; rows without one are empty there.
    @Test func pairedComparisonInTableAndCSV() throws {
        var cold = passed("quant", median: 100)
        cold.kernelPath = "quant"  // no comma: the test splits the CSV lines naively
        var other = passed("openblas", median: 90)
        other.kernelPath = "openblas"
        let m = PairedMeasurement(
            kernelSecondsPerCall: Array(repeating: 1, count: 10), referenceSecondsPerCall: (0..<10).map { 0.88 + 0.002 * Double($0) },
            callsPerSample: 1, stopReason: .converged, samplingSeconds: 20)
        cold.paired = try #require(
            PairedComparison(
                label: "plain read", kernelWork: Work(amount: 3e10, kind: .bytes, rule: "k"),
                referenceWork: Work(amount: 3e10, kind: .bytes, rule: "r"), measurement: m))
        let report = ResultsReport(results: [cold, other])
        let rendered = report.table().render()
        #expect(rendered.contains("paired: kernel/reference [95% CI]"))
        #expect(rendered.contains("88.9% [88.2-89.6%] of 33.75 GB/s"), "\(rendered)")
        let lines = report.csv().split(separator: "\n", omittingEmptySubsequences: false)
        let header = lines[0].split(separator: ",").map(String.init)
        let row = lines[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let fractionColumn = try #require(header.firstIndex(of: "paired_fraction"))
        let pairsColumn = try #require(header.firstIndex(of: "paired_pairs"))
        let unitColumn = try #require(header.firstIndex(of: "paired_reference_unit"))
        let fraction = try #require(Double(row[fractionColumn]))
        #expect(abs(fraction - cold.paired!.ratio.median) < 1e-12)
        #expect(row[pairsColumn] == "10")
        #expect(row[unitColumn] == "GB/s")
        let plain = lines[2].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        #expect(plain[fractionColumn] == "")
        #expect(plain.count == header.count && row.count == header.count)
    }

    @Test func tableShowsFailuresWithoutSpeed() {
        var failed = passed("swift-simd", median: 999)
        failed.status = .failed
        failed.reason = "incorrect output"
        let text = ResultsReport(results: [failed]).table().render()
        #expect(text.contains("FAILED"))
        #expect(!text.contains("999"))
        #expect(ResultsReport(results: [failed]).notes() == ["failed: matmul swift-simd fp32 8x8x8 1T: incorrect output"])
    }

    @Test func textTableAlignsAndEscapesMarkdown() {
        var t = TextTable(header: ["name", "value"])
        t.append(["a|b", "1.5"])
        t.append(["longer", "10.25"])
        let lines = t.render().split(separator: "\n")
        #expect(lines[2] == "a|b       1.5")
        #expect(lines[3] == "longer  10.25")
        #expect(t.renderMarkdown().contains("a\\|b"))
    }

    @Test func formats() {
        #expect(Format.number(123.456) == "123.5")
        #expect(Format.number(12.345) == "12.35")
        #expect(Format.percent(0.934) == "93.4%")
        #expect(Format.bytes(3 << 30) == "3 GiB")
        #expect(Format.csvField("a\"b") == "\"a\"\"b\"")
    }
}
