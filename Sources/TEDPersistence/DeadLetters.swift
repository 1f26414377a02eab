import Foundation
import TEDCore
import TEDStore

/// Records the store refused for good, kept in the same store (`dead_letters`) with their error, so nothing queues
/// behind them and an operator can see, fix and re-drive them. The record is kept as Extended JSON text: a value the
/// store refused as a field may still be kept as a string.
public struct DeadLetters: Sendable {
    public let store: any DocumentStore

    public init(store: any DocumentStore) {
        self.store = store
    }

    public struct Letter: Sendable, Equatable {
        public var collection: CollectionName
        public var recordID: String
        public var record: StoreRecord?
        public var errorCode: Int
        public var errorMessage: String
        public var failedAt: Date
    }

    /// Keeps refused records; a record refused again replaces its earlier letter.
    public func add(_ refused: [(record: StoreRecord, error: StoreError)], at date: Date) async throws(StoreError) {
        guard !refused.isEmpty else { return }
        let documents = try refused.map { item throws(StoreError) -> Document in
            let text = try ExtendedJSON.encode(item.record.document).serializedString
            return [
                "_id": .string("\(item.record.collection.rawValue)/\(item.record.id)"),
                "collection": .string(item.record.collection.rawValue), "record_id": .string(item.record.id),
                "record": .string(text),
                "error_code": .int64(Int64(item.error.code)), "error_message": .string(item.error.message),
                "failed_at": .date(date), "created_at": .date(date),
            ]
        }
        _ = try await store.upsert(documents, into: .deadLetters)
    }

    /// The oldest letters first, at most `limit`.
    public func list(limit: Int) async throws(StoreError) -> [Letter] {
        try await store.find(.deadLetters, where: .all, sort: DocumentSort("created_at"), limit: limit).map(Self.letter)
    }

    public func count() async throws(StoreError) -> Int {
        try await store.count(.deadLetters, where: .all)
    }

    /// Deletes every letter; returns how many.
    public func purge() async throws(StoreError) -> Int {
        var total = 0
        while case let deleted = try await store.delete(from: .deadLetters, where: .all, limit: 1000), deleted > 0 {
            total += deleted
        }
        return total
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
        guard !recordIDs.isEmpty else { return }
        let ids = recordIDs.map { "\(collection.rawValue)/\($0)" }
        _ = try await store.delete(from: .deadLetters, where: .ids(ids), limit: ids.count)
    }

    private static func letter(_ document: Document) -> Letter {
        let collection = CollectionName(document["collection"]?.stringValue ?? "")
        let record = document["record"]?.stringValue.flatMap { text -> StoreRecord? in
            guard let decoded = try? ExtendedJSON.decodeDocument(text: Array(text.utf8)) else { return nil }
            return try? StoreRecord(document: decoded, collection: collection)
        }
        return Letter(
            collection: collection, recordID: document["record_id"]?.stringValue ?? "", record: record,
            errorCode: document["error_code"]?.intValue ?? 0, errorMessage: document["error_message"]?.stringValue ?? "",
            failedAt: document["failed_at"]?.dateValue ?? Date(timeIntervalSince1970: 0))
    }
}
