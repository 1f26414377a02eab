/// Exponential backoff after failed writes, as a value the flush loop consults: doubles from `initial`
/// up to `maximum`, back to zero after a success.
public struct RetryBackoff: Sendable, Equatable {
    public let initial: Duration
    public let maximum: Duration
    public private(set) var consecutiveFailures = 0

    public init(initial: Duration = .milliseconds(500), maximum: Duration = .seconds(30)) {
        self.initial = initial
        self.maximum = max(initial, maximum)
    }

    /// Records a failure and returns how long to wait before the next attempt.
    public mutating func failed() -> Duration {
        consecutiveFailures += 1
        return delay
    }

    public mutating func succeeded() {
        consecutiveFailures = 0
    }

    /// The wait before the next attempt: zero when the last attempt succeeded.
    public var delay: Duration {
        guard consecutiveFailures > 0 else { return .zero }
        var value = initial
        for _ in 1..<min(consecutiveFailures, 32) {
            value = value * 2
            if value >= maximum { return maximum }
        }
        return min(value, maximum)
    }
}
