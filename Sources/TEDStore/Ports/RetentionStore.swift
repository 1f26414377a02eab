import Foundation

// A port of the persistence layer (see StorePorts.swift): TEDPersistence is its only consumer.

/// Retention: what each data collection holds past its retention, by `created_at` (a document without a date there is
/// never expired). The cleanup deletes in bounded batches so that each call stays short while ingest goes on.
public protocol RetentionStore: Sendable {
    /// How many documents of `collection` were created before `cutoff`.
    func expiredCount(in collection: CollectionName, before cutoff: Date) async throws(StoreError) -> Int
    /// The `created_at` of the oldest document of `collection` created before `cutoff`; nil when there is none.
    func oldestExpired(in collection: CollectionName, before cutoff: Date) async throws(StoreError) -> Date?
    /// Deletes up to `limit` documents of `collection` created before `cutoff`, oldest first; returns how many.
    func deleteExpired(from collection: CollectionName, before cutoff: Date, limit: Int) async throws(StoreError) -> Int
}
