import Foundation
import Logging
import TEDCore
import TEDStore

/// Computes `metrics_hourly` documents: one per hour, `_id` the hour start in ISO-8601, written by upsert so a
/// recomputed hour replaces its document. The figures come from `DocumentStore.aggregateHour` (`HourlyFigures`,
/// computed in the database); this adds `_id`, `created_at` (the first computation, kept on recomputation) and
/// `updated_at`.
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
        try await store.newestMetricsHour()
    }

    /// Computes the hours `backfill` selects, under the lease, and stores those that have records (or a document
    /// already): a first start, or a start after a week off, writes no empty hours, and an idle hour is not a
    /// document of zeros. `shouldContinue` is asked before every hour. The outcome lists the hours stored.
    public func run(clock: any ServiceClock, shouldContinue: () -> Bool = { true }) async throws(StoreError) -> Outcome {
        let now = clock.now
        guard try await lease.acquire(now: now) else { return .leaseHeld(by: try? await lease.holder(now: now)) }
        do {
            var hours = backfill.hours(now: now, newestStored: try await newestStoredHour())
            // Hours before the first record need not even be aggregated: one indexed query per collection.
            if let first = hours.first {
                let firstRecord = try await firstRecordHour(from: first)
                hours.removeAll { hour in firstRecord.map { hour < $0 } ?? true }
            }
            var computed: [Date] = []
            for hour in hours {
                guard shouldContinue(), try await lease.acquire(now: clock.now) else {
                    try await lease.release()
                    return .stopped(computed)
                }
                if try await compute(hour: hour, now: clock.now, skippingEmpty: true) != nil { computed.append(hour) }
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
        // Never nil without skipping.
        try await compute(hour: hour, now: now, skippingEmpty: false) ?? Document()
    }

    /// With `skippingEmpty`, an hour without records and without a document is left alone (nil). An hour that has a
    /// document is always recomputed, so one whose records were deleted does not keep stale figures.
    private func compute(hour: Date, now: Date, skippingEmpty: Bool) async throws(StoreError) -> Document? {
        let id = Self.id(ofHour: hour)
        let figures = try await store.aggregateHour(start: hour, end: hour.addingTimeInterval(3600))
        let previous = try await store.hourlyMetrics(id: id)
        if skippingEmpty, previous == nil, !figures.hasRecords {
            logger.debug("No records in the hour \(id): no metrics document")
            return nil
        }
        var document = Self.document(id: id, figures: figures)
        document["created_at"] = .date(previous?["created_at"]?.dateValue ?? now)
        document["updated_at"] = .date(now)
        try await store.saveHourlyMetrics(document)
        logger.info("Calculated hourly metrics for \(id): \(figures.predictionsMade) predictions, \(figures.gamesAnalyzed) games")
        return document
    }

    /// The current hour so far, computed now and not stored (the job stores an hour once it is complete), marked
    /// `"live": true`; nil when the hour has no records yet. Lets the metrics report show data right after enabling.
    public func live(hour: Date, now: Date) async throws(StoreError) -> Document? {
        let figures = try await store.aggregateHour(start: hour, end: hour.addingTimeInterval(3600))
        guard figures.hasRecords else { return nil }
        var document = Self.document(id: Self.id(ofHour: hour), figures: figures)
        document["live"] = true
        document["updated_at"] = .date(now)
        return document
    }

    /// The stored layout: `_id` first, then the figures.
    private static func document(id: String, figures: HourlyFigures) -> Document {
        Document([(key: "_id", value: DocumentValue.string(id))] + figures.document.fields)
    }

    /// The start of the hour of the oldest game, prediction or side bet created at or after `from`; nil when none.
    func firstRecordHour(from: Date) async throws(StoreError) -> Date? {
        try await store.firstRecordCreated(since: from).map(MetricsBackfill.hourStart)
    }
}
