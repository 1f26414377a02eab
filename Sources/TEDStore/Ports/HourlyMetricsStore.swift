import Foundation

// A port of the persistence layer (see StorePorts.swift): TEDPersistence is its only consumer.

/// The stored hourly metrics (`metrics_hourly`): one row per hour, `_id` the hour start in ISO-8601, in the layout of
/// `aggregateHour`'s figures plus `_id`, `created_at` (the first computation) and `updated_at`.
public protocol HourlyMetricsStore: Sendable {
    /// The start of the newest hour with a stored row; nil when there is none.
    func newestMetricsHour() async throws(StoreError) -> Date?
    /// The rows of the hours starting in [from, to), oldest first.
    func hourlyMetrics(from: Date, to: Date) async throws(StoreError) -> [Document]
    /// The row whose `_id` is `id`; nil when there is none.
    func hourlyMetrics(id: String) async throws(StoreError) -> Document?
    /// Keeps `row` (with its `_id`), replacing the row of the same `_id`.
    func saveHourlyMetrics(_ row: Document) async throws(StoreError)
    /// When the oldest game, prediction or side bet created at or after `from` was created; nil when there is none.
    /// Hours before it need no aggregation.
    func firstRecordCreated(since from: Date) async throws(StoreError) -> Date?
}

extension CollectionName {
    /// The collections whose records the hourly figures count (and `firstRecordCreated` looks at).
    public static let measured: [CollectionName] = [.games, .predictions, .sideBets]
}
