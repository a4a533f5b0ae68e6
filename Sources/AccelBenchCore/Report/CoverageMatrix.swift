import Foundation

/// The adaptation matrix of one backend: for every workload x dtype, whether the backend implements
/// it, whether its results were correct, the fraction of peak reached and why a cell failed or was
/// skipped. A pure function of the backend's capabilities and its results.
public struct CoverageMatrix: Codable, Sendable {
    public struct Cell: Codable, Sendable, Equatable {
        public enum State: String, Codable, Sendable {
            /// The backend does not implement this workload/dtype at all.
            case notImplemented = "not implemented"
            /// Implemented, but every case was skipped here (reason given).
            case skipped
            /// Every case that ran was correct.
            case correct
            /// At least one case produced a wrong result or failed while running.
            case failed
            /// Projected from a chip profile: not run, nothing checked.
            case projected
        }

        public var workload: Workload
        public var dtype: DType
        public var supported: Bool
        public var state: State
        public var cases: Int
        public var passed: Int
        public var failed: Int
        public var skipped: Int
        public var projected: Int
        /// Median over the cell's cases of median throughput / peak (0...1).
        public var peakFraction: Double?
        /// The ceiling(s) the fraction is of (e.g. the profile's).
        public var peakLabel: String?
        /// Why the cell failed or was skipped (the first such reason).
        public var reason: String?
    }

    public var backend: String
    public var cells: [Cell]

    /// - Parameters:
    ///   - capabilities: what the backend implements at all.
    ///   - results: its results (other backends' are ignored).
    ///   - notes: reasons for cells whose cases could not even be planned, by "workload|dtype".
    public init(backend: String, capabilities: [Workload: [DType]], results: [CaseResult], notes: [String: String] = [:]) {
        self.backend = backend
        var cells: [Cell] = []
        for workload in Workload.allCases {
            for dtype in workload.dtypes {
                let mine = results.filter { $0.spec.backend == backend && $0.spec.workload == workload && $0.spec.dtype == dtype }
                let supported = capabilities[workload]?.contains(dtype) == true
                let count = { (s: CaseResult.Status) in mine.filter { $0.status == s }.count }
                let fractions = mine.compactMap(\.peakFraction).sorted()
                var cell = Cell(
                    workload: workload, dtype: dtype, supported: supported, state: .notImplemented, cases: mine.count,
                    passed: count(.passed), failed: count(.failed), skipped: count(.skipped), projected: count(.projected),
                    peakFraction: fractions.isEmpty ? nil : Summary.quantile(fractions, 0.5),
                    peakLabel: CoverageMatrix.joinedLabels(mine.compactMap { $0.peak?.label }),
                    reason: (mine.first { $0.status == .failed } ?? mine.first { $0.status == .skipped })?.reason
                        ?? notes["\(workload.rawValue)|\(dtype.rawValue)"])
                if !supported {
                    cell.state = .notImplemented
                    cell.reason = cell.reason ?? "\(backend) does not implement \(workload.rawValue) \(dtype.rawValue)"
                } else if cell.failed > 0 {
                    cell.state = .failed
                } else if cell.passed > 0 {
                    cell.state = .correct
                } else if cell.projected > 0 {
                    cell.state = .projected
                } else {
                    cell.state = .skipped
                }
                cells.append(cell)
            }
        }
        self.cells = cells
    }

    public func table() -> TextTable {
        var table = TextTable(header: ["workload", "dtype", "supported", "correct", "%peak", "cases", "failure or skip reason"])
        for c in cells {
            let correct: String
            switch c.state {
            case .notImplemented: correct = "-"
            case .skipped: correct = "skipped"
            case .correct: correct = "yes (\(c.passed)/\(c.passed + c.failed))"
            case .failed: correct = "NO (\(c.passed)/\(c.passed + c.failed))"
            case .projected: correct = "projected"
            }
            table.append([
                c.workload.rawValue, c.dtype.rawValue, c.supported ? "yes" : "no", correct,
                c.peakFraction.map { Format.percent($0) } ?? "-",
                c.cases == 0 ? "-" : "\(c.cases)",
                c.state == .correct || c.state == .projected ? (c.skipped > 0 ? "\(c.skipped) skipped: \(c.reason ?? "")" : "") : (c.reason ?? ""),
            ])
        }
        return table
    }

    public static let csvColumns = [
        "backend", "workload", "dtype", "supported", "state", "cases", "passed", "failed", "skipped", "projected",
        "peak_fraction", "peak_label", "reason",
    ]

    public func csv() -> String {
        var lines = [CoverageMatrix.csvColumns.joined(separator: ",")]
        for c in cells {
            let fields = [
                backend, c.workload.rawValue, c.dtype.rawValue, c.supported ? "true" : "false", c.state.rawValue, "\(c.cases)",
                "\(c.passed)", "\(c.failed)", "\(c.skipped)", "\(c.projected)", c.peakFraction.map(Format.plain) ?? "",
                c.peakLabel ?? "", c.reason ?? "",
            ]
            lines.append(fields.map(Format.csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The distinct labels in order, joined; nil when there are none.
    static func joinedLabels(_ labels: [String]) -> String? {
        var seen = Set<String>()
        let distinct = labels.filter { seen.insert($0).inserted }
        return distinct.isEmpty ? nil : distinct.joined(separator: "; ")
    }
}
