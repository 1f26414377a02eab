import CSQLite
import Foundation
import TEDCore

/// The record writes of `DocumentStore` on SQLite: one transaction per batch, one statement per record. A statement
/// that fails for the record's sake (a constraint, a value too big) is rolled back alone and the record refused; a
/// failure of the database itself (busy, I/O, disk full) fails the batch, which is retried whole.
extension SQLiteStore {
    public func write(_ records: [StoreRecord], to collection: CollectionName) async throws(StoreError) -> [RecordFate] {
        guard !records.isEmpty else { return [] }
        let table = try SQLiteTable(collection)
        if table.keepsTickSampleColumns { return try await insertTickSamples(records, into: table) }
        let insert = "INSERT INTO \(table.quoted) (_id, created_at, doc) VALUES (?1, ?2, ?3) ON CONFLICT(_id) DO NOTHING"
        let select = "SELECT doc FROM \(table.quoted) WHERE _id = ?1"
        let update = Self.updateSQL(table)
        return try await connection.run { database throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                try database.execute(table.createSQL)
                var writer = DocumentJSONWriter()
                var fates: [RecordFate] = []
                fates.reserveCapacity(records.count)
                for record in records {
                    do throws(StoreError) {
                        let stored = try database.rows(select, [.text(record.id)]) { row throws(StoreError) in
                            try Self.record(row, collection)
                        }.first
                        guard let stored else {
                            let inserted = try Self.put(record.document, with: insert, writer: &writer, database)
                            fates.append(inserted ? .stored : .alreadyStored)
                            continue
                        }
                        let merged = stored.merged(with: record)
                        if merged != stored { _ = try Self.put(merged.document, with: update, writer: &writer, database) }
                        fates.append(.stored)
                    } catch where !error.isRetryable {
                        fates.append(.refused(error))
                    }
                }
                return fates
            }
        }
    }

    /// Tick samples, the bulk of every flush, are facts never merged: no read, and each row's columns are bound
    /// straight from the record (`SQLiteTickSampleColumns`) to one statement prepared once and reused.
    ///
    /// The `CREATE TABLE IF NOT EXISTS` stays in every transaction: a cached statement per 1,000 rows whose program
    /// only checks the schema cookie, and without it a table another process dropped (a restore with `--drop`) would
    /// turn the next batches into refusals.
    private func insertTickSamples(_ records: [StoreRecord], into table: SQLiteTable) async throws(StoreError) -> [RecordFate] {
        let insert = SQLiteTickSampleColumns.insertSQL(table, onConflict: "DO NOTHING")
        return try await connection.run { database throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                try database.execute(table.createSQL)
                // A table an older ted created, not migrated yet: keep the records (retryable) until it is.
                guard database.canPrepare(insert) else {
                    throw StoreError(.unavailable, "tick_samples still has the document layout: run `ted migrate` "
                        + "(0003_tick_sample_columns) to convert it")
                }
                return try database.withStatement(insert) { statement throws(StoreError) in
                    var writer = DocumentJSONWriter()
                    var fates: [RecordFate] = []
                    fates.reserveCapacity(records.count)
                    for record in records {
                        guard case .tickSample(let sample) = record else {
                            fates.append(.refused(StoreError(.operationFailed, "a \(record.collection) record in tick_samples", retryable: false)))
                            continue
                        }
                        do throws(StoreError) {
                            defer { statement.reset() }
                            try SQLiteTickSampleColumns.bind(sample, to: statement, writer: &writer)
                            while try statement.step() {}
                            fates.append(database.changes > 0 ? .stored : .alreadyStored)
                        } catch where error.code & 0xFF == Int(SQLITE_ERROR) {
                            // The cached insert no longer compiles against the table (another process converted it,
                            // e.g. `ted migrate down`): the table's fault, not the record's, so the batch is retried.
                            throw StoreError(.unavailable, "tick_samples no longer has the column layout: \(error.message)")
                        } catch where !error.isRetryable {
                            fates.append(.refused(error))
                        }
                    }
                    return fates
                }
            }
        }
    }

    /// Rewrites a stored document (and its `created_at` column) by `_id`, for `put`.
    static func updateSQL(_ table: SQLiteTable) -> String {
        "UPDATE \(table.quoted) SET created_at = ?2, doc = ?3 WHERE _id = ?1"
    }

    /// Runs `sql` with the document's `_id`, `created_at` and text; whether it changed a row.
    static func put(
        _ document: Document, with sql: String, writer: inout DocumentJSONWriter, _ database: SQLiteDatabase
    ) throws(StoreError) -> Bool {
        guard case .string(let id)? = document["_id"] else {
            throw StoreError(.operationFailed, "a document has no string _id", retryable: false)
        }
        let createdAt = try document["created_at"]?.dateValue.map { date throws(StoreError) in try DocumentJSON.milliseconds(date) }
        try writer.encode(document)
        let text = writer.bytes
        return try database.withStatement(sql, [.text(id), createdAt.map(SQLiteValue.int) ?? .null]) { statement throws(StoreError) in
            try statement.bind(utf8: text, at: 3)
            while try statement.step() {}
            return database.changes > 0
        }
    }
}
