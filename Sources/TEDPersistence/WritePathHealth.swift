import Foundation
import TEDCore
import TEDStore

/// Whether the write path moves: a collection whose oldest record waiting in memory, or in the spool without any of
/// its batches leaving it, is older than a few flush intervals is stuck, whatever the reason (a store that refuses
/// every write, a lock held by another program, an outage). Readiness then says so, naming the collection.
public struct WritePathHealth: Sendable {
    public struct Stuck: Sendable, Equatable {
        public var collection: CollectionName
        /// How long its oldest record has waited (memory), or the spool has held it without progress.
        public var waitingSeconds: Double
        /// Where it waits: "memory" or "spool".
        public var place: String
    }

    /// Three flush intervals (a round, a retry with backoff, one more), and never less than a second.
    public static func threshold(interval: Duration) -> Double { max(3 * interval.seconds, 1) }

    public static func stuck(counters: Ingestor.Counters, flush: FlushStatistics.Snapshot, spooled: [CollectionName: Int],
                             startedAt: Date, interval: Duration, now: Date) -> [Stuck] {
        let limit = threshold(interval: interval)
        var stuck: [Stuck] = []
        for collection in CollectionName.flushed {
            if let oldest = counters.oldestPendingAt[collection], now.timeIntervalSince(oldest) > limit {
                stuck.append(Stuck(collection: collection, waitingSeconds: now.timeIntervalSince(oldest), place: "memory"))
                continue
            }
            guard (spooled[collection] ?? 0) > 0 else { continue }
            let since = [flush.progressAt[collection], flush.spooledSince[collection], startedAt].compactMap { $0 }.max()!
            if now.timeIntervalSince(since) > limit {
                stuck.append(Stuck(collection: collection, waitingSeconds: now.timeIntervalSince(since), place: "spool"))
            }
        }
        return stuck
    }
}

extension PersistenceRuntime {
    /// The collections whose writes are stuck now (none while the flag is off: nothing is meant to be written).
    public func stuckCollections(now: Date = Date()) -> [WritePathHealth.Stuck] {
        guard flag.isEnabled else { return [] }
        return WritePathHealth.stuck(counters: ingestor.counters, flush: statistics.snapshot,
                                     spooled: spool?.file.countByCollection ?? [:], startedAt: startedAt,
                                     interval: settings.persistenceInterval, now: now)
    }
}

extension WritePathHealth.Stuck {
    /// As the status and `/health/ready` name it.
    public var json: JSONValue {
        ["collection": .string(collection.rawValue), "waiting_seconds": .double((waitingSeconds * 10).rounded() / 10),
         "place": .string(place)]
    }
}
