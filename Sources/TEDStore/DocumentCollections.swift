import Foundation
import TEDCore

/// The generic document access each adapter keeps for itself, under the ports: find, count, delete, insert and
/// replace documents of any collection with a small filter. It is internal on purpose: the persistence layer asks
/// for what it needs in its own terms (`Ports/`), and an adapter's port files use these where the port is a plain
/// read or write of whole documents (the SQLite port files do, so the table layout is known in one place). Tests
/// reach it through `@testable import` to seed and inspect a real store.
protocol DocumentCollections: Sendable {
    /// Inserts documents that are not stored yet; a document whose `_id` exists is counted `alreadyStored`.
    func insert(_ documents: [Document], into collection: CollectionName) async throws(StoreError) -> WriteOutcome
    /// Inserts or replaces each document by `_id`.
    func upsert(_ documents: [Document], into collection: CollectionName) async throws(StoreError) -> WriteOutcome
    /// The documents matching `filter`, sorted by `sort` when given, at most `limit`. Reading a missing collection
    /// finds nothing and creates nothing.
    func find(_ collection: CollectionName, where filter: DocumentFilter, sort: DocumentSort?, limit: Int?) async throws(StoreError) -> [Document]
    func count(_ collection: CollectionName, where filter: DocumentFilter) async throws(StoreError) -> Int
    /// Deletes up to `limit` documents matching `filter` (oldest `created_at` first); returns how many.
    func delete(from collection: CollectionName, where filter: DocumentFilter, limit: Int) async throws(StoreError) -> Int
}

extension MongoStore: DocumentCollections {}
extension SQLiteStore: DocumentCollections {}

/// A filter both stores translate: MongoDB to a query document, SQLite to a WHERE clause.
indirect enum DocumentFilter: Sendable, Equatable {
    case all
    case ids([String])
    /// `_id` sorts after this string (binary order in both stores): pages through a collection by `_id`.
    case idAfter(String)
    /// A top-level or dotted field equals a value.
    case equals(String, DocumentValue)
    /// A date field in [from, to) (either bound optional).
    case dateRange(String, from: Date?, to: Date?)
    case and([DocumentFilter])
}

struct DocumentSort: Sendable, Equatable {
    var field: String
    var ascending: Bool
    init(_ field: String, ascending: Bool = true) {
        self.field = field
        self.ascending = ascending
    }
}

/// The result of an idempotent write.
struct WriteOutcome: Sendable, Equatable {
    /// Documents newly written or replaced.
    var written: Int
    /// Documents already stored with the same `_id` (a retry or a re-sent record): not an error.
    var alreadyStored: Int

    init(written: Int = 0, alreadyStored: Int = 0) {
        self.written = written
        self.alreadyStored = alreadyStored
    }

    var total: Int { written + alreadyStored }
}
