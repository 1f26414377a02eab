/// The flush loop's decisions as a value, in the style of postgres-nio's state machines: it is told what happened and
/// answers what to do next. It does no I/O and reads no clock, so tests drive it directly; `FlushScheduler` performs
/// the actions and reports back.
public struct FlushStateMachine: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// Sleep this long, or less when a flush is requested or shutdown begins.
        case wait(Duration)
        /// Write what is pending: the spool, then memory, each collection on its own.
        case flush
        /// Shutdown: move memory to the spool (local and quick, so a SIGKILL at the end of the grace period loses
        /// nothing), replay to the store until the grace period ends when `replay` (the flag is on), then spool what
        /// arrived meanwhile.
        case drain(replay: Bool)
        /// The loop ends; `lost` records were still in memory, with nowhere left to go.
        case stop(lost: Int)
        /// Nothing: the event came after the loop ended.
        case none
    }

    enum Phase: Sendable, Equatable {
        case running
        case draining
        case stopped
    }

    public let interval: Duration
    public private(set) var backoff: RetryBackoff
    private(set) var phase = Phase.running

    /// Failed rounds are retried after a backoff of `backoff`, never later than the next regular round.
    public init(interval: Duration, backoff: RetryBackoff? = nil) {
        self.interval = interval
        self.backoff = backoff ?? RetryBackoff(maximum: max(interval, .seconds(1)))
    }

    public func started() -> Action { .wait(interval) }

    /// The wait ended (the interval passed or a flush was requested).
    public mutating func woke(flagOn: Bool) -> Action {
        guard phase == .running else { return .none }
        return flagOn ? .flush : .wait(nextWait)
    }

    /// A flush round ended; `succeeded` is false when some write must be made again. A round writes only what was
    /// pending when it began (`FlushRound.memoryBudget`); `behind` says it wrote records and a full batch or more
    /// arrived meanwhile: the store is behind ingest, so the next round starts at once instead of after the interval
    /// (full batches back to back, as fast as the store takes them).
    public mutating func flushFinished(succeeded: Bool, behind: Bool = false) -> Action {
        guard phase == .running else { return .none }
        if succeeded { backoff.succeeded() } else { _ = backoff.failed() }
        return succeeded && behind ? .flush : .wait(nextWait)
    }

    /// Graceful shutdown began, whatever the loop was doing.
    public mutating func shutdownBegan(flagOn: Bool) -> Action {
        guard phase == .running else { return .none }
        phase = .draining
        return .drain(replay: flagOn)
    }

    /// The shutdown's drain ended with `remaining` records still in memory.
    public mutating func drained(remaining: Int) -> Action {
        guard phase == .draining else { return .none }
        phase = .stopped
        return .stop(lost: remaining)
    }

    private var nextWait: Duration { backoff.consecutiveFailures > 0 ? min(backoff.delay, interval) : interval }
}
