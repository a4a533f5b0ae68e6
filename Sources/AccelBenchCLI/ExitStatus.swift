/// accelbench's exit codes: one documented list (README, "Exit codes").
public enum ExitStatus: Int32, CaseIterable, Sendable {
    /// Everything ran and every case that ran was correct.
    case success = 0
    /// An internal error: a bug, or the machine refused something (I/O, a library).
    case internalError = 1
    /// Bad input: a flag, a shape, a name. Nothing was measured.
    case usageError = 2
    /// The suite ran, but at least one case failed (wrong output or an error while running it); for
    /// `accelbench compare`: a regression was found.
    case caseFailed = 3
    /// `accelbench certify`: the run completed, and at least one certification check failed.
    case certificationFailed = 4
}
