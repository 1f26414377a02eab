import Foundation
import TEDCore
import TEDStore

/// Records the store refused for good, kept in the same store (`DeadLetterStore`) with their error, so nothing
/// queues behind them and an operator can see, fix and re-drive them.
public struct DeadLetters: Sendable {
    public let store: any DeadLetterStore

    public init(store: any DeadLetterStore) {
        self.store = store
    }

    /// Keeps refused records; a record refused again replaces its earlier letter.
    public func add(_ refused: [(record: StoreRecord, error: StoreError)], at date: Date) async throws(StoreError) {
        guard !refused.isEmpty else { return }
        try await store.addDeadLetters(refused.map { DeadLetter(refused: $0.record, error: $0.error, at: date) })
    }

    /// The oldest letters first, at most `limit`.
    public func list(limit: Int) async throws(StoreError) -> [DeadLetter] {
        try await store.deadLetters(limit: limit)
    }

    public func count() async throws(StoreError) -> Int {
        try await store.deadLetterCount()
    }

    /// Deletes every letter; returns how many.
    public func purge() async throws(StoreError) -> Int {
        try await store.purgeDeadLetters()
    }

    /// Removes up to `limit` letters whose record can be read, and returns the records to be written again (after the
    /// cause was fixed). Letters whose record cannot be read stay.
    public func takeForRedrive(limit: Int) async throws(StoreError) -> [StoreRecord] {
        let letters = try await list(limit: limit).filter { $0.record != nil }
        for collection in Set(letters.map(\.collection)) {
            try await remove(collection: collection, recordIDs: letters.filter { $0.collection == collection }.map(\.recordID))
        }
        return letters.compactMap(\.record)
    }

    /// Removes the letters of these records.
    public func remove(collection: CollectionName, recordIDs: [String]) async throws(StoreError) {
        try await store.removeDeadLetters(of: collection, recordIDs: recordIDs)
    }
}
