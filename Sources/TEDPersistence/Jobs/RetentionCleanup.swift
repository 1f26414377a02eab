import Foundation
import Logging
import TEDCore
import TEDStore

/// One retention cleanup: deletes, per collection, what was created before its retention, in batches of
/// `batchSize` so that each store call stays short and ingest and flushes go on meanwhile. It runs under a lease
/// (one instance at a time) and records its run in the store, so the schedule survives restarts and is shared.
public struct RetentionCleanup: Sendable {
    /// What a cleanup would delete in one collection (the dry run).
    public struct Preview: Sendable, Equatable {
        public var collection: CollectionName
        public var cutoff: Date
        public var count: Int
        public var oldest: Date?
    }

    public enum Outcome: Sendable, Equatable {
        /// Every collection is within its retention; the run is recorded at `at`.
        case completed(deleted: [CollectionName: Int], at: Date)
        /// Stopped between batches (flag off, shutdown, lease lost); not recorded, so it runs again when next checked.
        case stopped(deleted: [CollectionName: Int])
        /// Another instance holds the lease.
        case leaseHeld(by: String?)
        /// Another instance completed the run since the caller decided it was due.
        case notDue(lastRun: Date?)
    }

    /// The lease, and the job whose last run the store keeps next to it (`JobRecordStore`).
    public static let leaseName = "retention_cleanup"

    public let store: any DocumentStore
    public let retention: RetentionDays
    public let batchSize: Int
    public let lease: JobLease
    let logger: Logger

    public init(store: any DocumentStore, retention: RetentionDays, batchSize: Int, lease: JobLease? = nil, logger: Logger) {
        precondition(batchSize > 0, "CLEANUP_BATCH_SIZE is validated to be positive")
        self.store = store
        self.retention = retention
        self.batchSize = batchSize
        self.lease = lease ?? JobLease(store: store, name: Self.leaseName)
        self.logger = logger
    }

    public init(store: any DocumentStore, settings: Settings, logger: Logger) {
        self.init(store: store, retention: settings.retention, batchSize: settings.cleanupBatchSize, logger: logger)
    }

    /// Per collection (in `CollectionName.data` order), the `created_at` before which documents are deleted.
    public func cutoffs(now: Date) -> [(collection: CollectionName, cutoff: Date)] {
        CollectionName.data.compactMap { collection in
            retention.days(for: collection).map { (collection, now.addingTimeInterval(-Double($0) * 86_400)) }
        }
    }

    public func lastRun() async throws(StoreError) -> Date? {
        try await store.lastJobRun(of: Self.leaseName)?.startedAt
    }

    public func preview(now: Date) async throws(StoreError) -> [Preview] {
        var previews: [Preview] = []
        for (collection, cutoff) in cutoffs(now: now) {
            let count = try await store.expiredCount(in: collection, before: cutoff)
            let oldest = try await store.oldestExpired(in: collection, before: cutoff)
            previews.append(Preview(collection: collection, cutoff: cutoff, count: count, oldest: oldest))
        }
        return previews
    }

    /// Runs the cleanup under the lease. With a `schedule`, the run happens only if it is still due once the lease
    /// is held (another instance may have just completed it). `shouldContinue` is asked before every batch.
    public func run(clock: any ServiceClock, schedule: CleanupSchedule? = nil,
                    shouldContinue: () -> Bool = { true }) async throws(StoreError) -> Outcome {
        let start = clock.now
        guard try await lease.acquire(now: start) else { return .leaseHeld(by: try? await lease.holder(now: start)) }
        do {
            if let schedule {
                let lastRun = try await lastRun()
                guard schedule.isDue(now: start, lastRun: lastRun) else {
                    try await lease.release()
                    return .notDue(lastRun: lastRun)
                }
            }
            let outcome = try await deleteExpired(start: start, clock: clock, shouldContinue: shouldContinue)
            try await lease.release()
            return outcome
        } catch {
            // The lease would expire anyway; releasing it lets another instance retry sooner.
            try? await lease.release()
            throw error
        }
    }

    private func deleteExpired(start: Date, clock: any ServiceClock, shouldContinue: () -> Bool) async throws(StoreError) -> Outcome {
        var deleted: [CollectionName: Int] = [:]
        for (collection, cutoff) in cutoffs(now: start) {
            deleted[collection] = 0
            while true {
                // Renewing also proves the lease is still ours: after a stall longer than its TTL another
                // instance may have taken over, and two cleaners would only contend.
                guard shouldContinue(), try await lease.acquire(now: clock.now) else {
                    logger.notice("Data cleanup stopped before completion: \(Self.summary(deleted))")
                    return .stopped(deleted: deleted)
                }
                let count = try await store.deleteExpired(from: collection, before: cutoff, limit: batchSize)
                deleted[collection, default: 0] += count
                if count < batchSize { break }
            }
        }
        let finished = clock.now
        try await store.recordJobRun(JobRun(job: Self.leaseName, startedAt: start, finishedAt: finished, instance: lease.owner,
                                            deleted: deleted))
        logger.info("Data cleanup completed: \(Self.summary(deleted))",
                    metadata: ["seconds": "\(finished.timeIntervalSince(start))"])
        return .completed(deleted: deleted, at: start)
    }

    /// `{"games": 0, "tick_samples": 120, ...}`, every data collection in a fixed order.
    static func summary(_ deleted: [CollectionName: Int]) -> String {
        "{" + CollectionName.data.map { "\"\($0.rawValue)\": \(deleted[$0] ?? 0)" }.joined(separator: ", ") + "}"
    }
}

extension RetentionDays {
    /// The retention of a data collection, in days; nil for the others (ledger, locks), which are never cleaned.
    public func days(for collection: CollectionName) -> Int? {
        switch collection {
        case .tickSamples: tickSamples
        case .predictions: predictions
        case .sideBets: sideBets
        case .games: games
        case .metricsHourly: metricsHourly
        default: nil
        }
    }
}
