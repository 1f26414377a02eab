import Foundation
import Logging
import ServiceLifecycle
import TEDCore
import TEDStore

/// Runs the retention cleanup once a day at `CLEANUP_HOUR_UTC`, or soon after start when that hour was missed,
/// while persistence is on. The last run lives in the store, so every instance shares one schedule and the lease
/// lets only one of them run it.
public final class RetentionCleaner: Service, Sendable {
    let cleanup: RetentionCleanup
    let schedule: CleanupSchedule
    let flag: PersistenceFlag
    let status: JobsStatus
    let clock: any ServiceClock
    /// The longest sleep between checks: bounds the effect of wall-clock jumps and notices the flag turning on.
    let recheckInterval: TimeInterval
    let logger: Logger

    public init(store: any DocumentStore, settings: Settings, flag: PersistenceFlag, status: JobsStatus,
                clock: any ServiceClock, recheckInterval: TimeInterval = 60, logger: Logger) {
        cleanup = RetentionCleanup(store: store, settings: settings, logger: logger)
        schedule = CleanupSchedule(hourUTC: settings.cleanupHourUTC)
        self.flag = flag
        self.status = status
        self.clock = clock
        self.recheckInterval = recheckInterval
        self.logger = logger
    }

    public func run() async throws {
        let clock = clock
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let wake = await check()
            try? await cancelWhenGracefulShutdown { try await clock.sleep(until: wake) }
        }
    }

    /// Runs the cleanup if it is due; returns when to check again.
    func check() async -> Date {
        let now = clock.now
        let recheck = now.addingTimeInterval(recheckInterval)
        guard flag.isEnabled else { return recheck }
        do {
            let lastRun = try await cleanup.lastRun()
            status.update { $0.lastCleanupAt = lastRun; $0.nextCleanupAt = schedule.nextRun(now: now, lastRun: lastRun) }
            guard schedule.isDue(now: now, lastRun: lastRun) else {
                return min(schedule.nextRun(now: now, lastRun: lastRun), recheck)
            }
            let flag = flag
            let outcome = try await cleanup.run(clock: clock, schedule: schedule) {
                flag.isEnabled && !Task.isShuttingDownGracefully && !Task.isCancelled
            }
            record(outcome)
            if case .completed = outcome { return min(schedule.nextRun(now: clock.now, lastRun: now), recheck) }
            return recheck
        } catch {
            logger.error("Data cleanup failed: \(error.message)")
            return recheck
        }
    }

    private func record(_ outcome: RetentionCleanup.Outcome) {
        let owner = cleanup.lease.owner
        status.update { status in
            switch outcome {
            case .completed(let deleted, let at):
                status.lastCleanupAt = at
                status.lastCleanupCounts = Dictionary(uniqueKeysWithValues: deleted.map { ($0.key.rawValue, $0.value) })
                status.nextCleanupAt = schedule.nextRun(now: at, lastRun: at)
                status.cleanupLeaseHolder = owner
            case .stopped:
                status.cleanupLeaseHolder = owner
            case .leaseHeld(let holder):
                status.cleanupLeaseHolder = holder
            case .notDue(let lastRun):
                status.lastCleanupAt = lastRun
                status.nextCleanupAt = lastRun.map { schedule.nextRun(now: $0, lastRun: $0) }
            }
        }
    }
}
