import Foundation
import Logging
import TEDCore
import TEDStore

/// Computes `metrics_hourly` documents: one per hour, `_id` the hour start in ISO-8601, written by upsert so a
/// recomputed hour replaces its document. The figures come from `DocumentStore.aggregateHour` (computed in the
/// database); this adds `_id`, `created_at` (the first computation, kept on recomputation) and `updated_at`.
public struct HourlyMetricsCalculator: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// The hours computed, oldest first.
        case computed([Date])
        /// Stopped between hours (flag off, shutdown, lease lost) after computing these.
        case stopped([Date])
        /// Another instance holds the lease.
        case leaseHeld(by: String?)
    }

    public static let leaseName = "hourly_metrics"

    public let store: any DocumentStore
    public let backfill: MetricsBackfill
    public let lease: JobLease
    let logger: Logger

    public init(store: any DocumentStore, backfill: MetricsBackfill = MetricsBackfill(), lease: JobLease? = nil, logger: Logger) {
        self.store = store
        self.backfill = backfill
        self.lease = lease ?? JobLease(store: store, name: Self.leaseName)
        self.logger = logger
    }

    public static func id(ofHour hour: Date) -> String { Timestamp.formatISO8601(hour) }

    /// The start of the newest hour with a metrics document.
    public func newestStoredHour() async throws(StoreError) -> Date? {
        try await store.find(.metricsHourly, where: .all, sort: DocumentSort("hour_start", ascending: false), limit: 1)
            .first?["hour_start"]?.dateValue
    }

    /// Computes the hours `backfill` selects, under the lease. `shouldContinue` is asked before every hour.
    public func run(clock: any WallClock, shouldContinue: () -> Bool = { true }) async throws(StoreError) -> Outcome {
        let now = clock.now
        guard try await lease.acquire(now: now) else { return .leaseHeld(by: try? await lease.holder(now: now)) }
        do {
            let hours = backfill.hours(now: now, newestStored: try await newestStoredHour())
            var computed: [Date] = []
            for hour in hours {
                guard shouldContinue(), try await lease.acquire(now: clock.now) else {
                    try await lease.release()
                    return .stopped(computed)
                }
                try await compute(hour: hour, now: clock.now)
                computed.append(hour)
            }
            try await lease.release()
            return .computed(computed)
        } catch {
            try? await lease.release()
            throw error
        }
    }

    /// Computes and stores the metrics of the hour starting at `hour`; returns the stored document.
    @discardableResult
    public func compute(hour: Date, now: Date) async throws(StoreError) -> Document {
        let id = Self.id(ofHour: hour)
        let figures = try await store.aggregateHour(start: hour, end: hour.addingTimeInterval(3600))
        let previous = try await store.find(.metricsHourly, where: .ids([id]), sort: nil, limit: 1).first
        var document = Document([(key: "_id", value: DocumentValue.string(id))] + figures.fields.filter { $0.key != "_id" })
        document["created_at"] = .date(previous?["created_at"]?.dateValue ?? now)
        document["updated_at"] = .date(now)
        _ = try await store.upsert([document], into: .metricsHourly)
        let predictions = figures["predictions_made"]?.intValue ?? 0
        let games = figures["games_analyzed"]?.intValue ?? 0
        logger.info("Calculated hourly metrics for \(id): \(predictions) predictions, \(games) games")
        return document
    }
}
