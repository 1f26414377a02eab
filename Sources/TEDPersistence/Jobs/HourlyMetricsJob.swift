import Foundation
import Logging
import ServiceLifecycle
import TEDStore

/// Computes the hourly metrics at start (filling the hours missed while down) and then a few minutes past every
/// hour, while persistence is on. Several instances share the work through the calculator's lease.
public final class HourlyMetricsJob: Service, Sendable {
    let calculator: HourlyMetricsCalculator
    let flag: PersistenceFlag
    let status: JobsStatus
    let clock: any ServiceClock
    /// After a failed run, how soon to try again (the next hourly run would also catch up, but later).
    let retryDelay: TimeInterval
    let logger: Logger

    public init(store: any DocumentStore, flag: PersistenceFlag, status: JobsStatus, backfill: MetricsBackfill = MetricsBackfill(),
                clock: any ServiceClock, retryDelay: TimeInterval = 60, logger: Logger) {
        calculator = HourlyMetricsCalculator(store: store, backfill: backfill, logger: logger)
        self.flag = flag
        self.status = status
        self.clock = clock
        self.retryDelay = retryDelay
        self.logger = logger
    }

    public func run() async throws {
        let clock = clock
        var next = clock.now
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let wake = next
            try? await cancelWhenGracefulShutdown { try await clock.sleep(until: wake) }
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            let succeeded = flag.isEnabled ? await runOnce() : true
            let now = clock.now
            let scheduled = calculator.backfill.nextRun(after: now)
            next = succeeded ? scheduled : min(scheduled, now.addingTimeInterval(retryDelay))
            status.update { $0.nextMetricsRunAt = next }
        }
    }

    /// One run; false when the store failed.
    func runOnce() async -> Bool {
        let flag = flag
        do {
            let outcome = try await calculator.run(clock: clock) {
                flag.isEnabled && !Task.isShuttingDownGracefully && !Task.isCancelled
            }
            let owner = calculator.lease.owner
            switch outcome {
            case .computed(let hours), .stopped(let hours):
                status.update { status in
                    status.metricsLeaseHolder = owner
                    if let last = hours.last { status.lastMetricsHour = max(status.lastMetricsHour ?? last, last) }
                }
            case .leaseHeld(let holder):
                let newest = try? await calculator.newestStoredHour()
                status.update { $0.metricsLeaseHolder = holder; $0.lastMetricsHour = newest ?? $0.lastMetricsHour }
            }
            return true
        } catch {
            logger.error("Hourly metrics failed: \(error.message)")
            return false
        }
    }
}
