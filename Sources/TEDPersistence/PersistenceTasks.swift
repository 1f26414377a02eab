import Logging
import Synchronization

/// The background persistence tasks as operators see them. The flush loop runs from start to shutdown whatever the
/// flag says, but it only does something while the flag is on: so the tasks are *running* while the loop is alive
/// and the flag is on, and `Background persistence tasks started` is logged when that begins — at start with the
/// flag on, and each time the flag turns on — never at a start with persistence off (the deployment guide shows it
/// after `Persistence is ENABLED`, as the original system logged it when it started its tasks).
///
/// The flush loop calls `loopStarted` first thing in its `run()` and `loopStopped` when it returns.
public final class PersistenceTasks: Sendable {
    let flag: PersistenceFlag
    let statistics: FlushStatistics
    let logger: Logger
    let metadata: Logger.Metadata
    private let observation = Mutex<Int?>(nil)

    /// `metadata` goes with the log line (interval, batch size).
    public init(flag: PersistenceFlag, statistics: FlushStatistics, logger: Logger, metadata: Logger.Metadata = [:]) {
        self.flag = flag
        self.statistics = statistics
        self.logger = logger
        self.metadata = metadata
    }

    /// Loop alive and flag on: what status reports as `manager.running`.
    public var isRunning: Bool { Self.running(statistics: statistics, flag: flag) }

    /// `FlushStatistics.running` says the loop is alive; the tasks do work only while the flag is on as well.
    public static func running(statistics: FlushStatistics, flag: PersistenceFlag) -> Bool {
        statistics.snapshot.running && flag.isEnabled
    }

    public func loopStarted() {
        statistics.setRunning(true)
        let token = flag.addObserver { [self] enabled in
            if enabled { announce() }
        }
        observation.withLock { $0 = token }
        // After subscribing: a flag turned on in between is announced twice rather than never.
        if flag.isEnabled { announce() }
    }

    public func loopStopped() {
        if let token = observation.withLock({ $0.take() }) { flag.removeObserver(token) }
        statistics.setRunning(false)
    }

    private func announce() {
        logger.info("Background persistence tasks started", metadata: metadata)
    }
}
