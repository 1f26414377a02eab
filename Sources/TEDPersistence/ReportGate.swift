import Synchronization

/// At most `limit` report queries run at once. Past it a report is refused at once (the route answers 503 with
/// `Retry-After`) rather than queued, so a burst of slow reports (a year of metrics, say) cannot pile up behind each
/// other; the write path has clients of its own and never waits on them either.
public final class ReportGate: Sendable {
    public let limit: Int
    private let running = Mutex(0)

    public init(limit: Int) {
        self.limit = limit
    }

    /// Runs `body` if a place is free; nil when every place is taken.
    public func run<T: Sendable>(_ body: () async -> T) async -> T? {
        let entered = running.withLock { running -> Bool in
            guard running < limit else { return false }
            running += 1
            return true
        }
        guard entered else { return nil }
        defer { running.withLock { $0 -= 1 } }
        return await body()
    }
}
