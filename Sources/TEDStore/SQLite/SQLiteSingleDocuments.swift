import Foundation
import TEDCore

/// Reads of a table that may not exist yet, and writes of one row at a time, which the ports' small tables (locks,
/// metrics, dead letters) are made of.
extension SQLiteStore {
    /// The rows of the query `sql` over `table`, read by `row` in one read transaction; none when the table does not
    /// exist (reads create nothing).
    func read<R: Sendable>(
        _ table: SQLiteTable, _ sql: String, _ bindings: [SQLiteValue] = [],
        _ row: @escaping @Sendable (SQLiteStatement) throws(StoreError) -> R
    ) async throws(StoreError) -> [R] {
        try await connection.run { database throws(StoreError) in
            try database.transaction(.deferred) { () throws(StoreError) in
                guard try database.tableExists(table.name) else { return [] }
                return try database.rows(sql, bindings, row)
            }
        }
    }

    /// The document of `collection` whose `_id` is `id`; nil when there is none.
    func document(_ id: String, in collection: CollectionName) async throws(StoreError) -> Document? {
        let table = try SQLiteTable(collection)
        return try await read(table, "SELECT \(table.selectList) FROM \(table.quoted) WHERE _id = ?1", [.text(id)]) { row throws(StoreError) in
            try table.document(in: row)
        }.first
    }

    /// Replaces (or inserts) each document by its `_id`, in one transaction, in the table's layout (`upsert`): in the
    /// document layout the `created_at` column follows the document's `created_at` date (NULL without one, so
    /// retention never takes it).
    func replaceByID(_ documents: [Document], in collection: CollectionName) async throws(StoreError) {
        _ = try await upsert(documents, into: collection)
    }
}
