/// The error type of accelbench's libraries: a stable `code` that scripts can match, and a `message`
/// that says what is wrong and what to do about it.
public struct AccelBenchError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Code: String, Sendable, Codable {
        case invalidShape = "invalid_shape"
        case invalidDType = "invalid_dtype"
        case unknownWorkload = "unknown_workload"
        case unknownBackend = "unknown_backend"
        case unsupportedCase = "unsupported_case"
        case invalidThreads = "invalid_threads"
        case insufficientMemory = "insufficient_memory"
        case invalidArgument = "invalid_argument"
        case io = "io_error"
        case library = "library_error"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
