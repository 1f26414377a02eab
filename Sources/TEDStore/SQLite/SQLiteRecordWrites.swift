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
        if collection == .tickSamples, table.layout == .columns { return try await insertTickSamples(records, into: table) }
        let insert = table.insertSQL(onConflict: "DO NOTHING")
        let select = "SELECT \(table.selectList) FROM \(table.quoted) WHERE _id = ?1"
        return try await connection.run { database throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                try database.execute(table.createSQL)
                // A table an older ted created, not migrated yet: keep the records (retryable) until it is.
                guard table.layout == .documents || database.canPrepare(select) else {
                    throw StoreError(.unavailable, "\(table.name) still has the document layout: run `ted migrate` to convert it")
                }
                var fates: [RecordFate] = []
                fates.reserveCapacity(records.count)
                for record in records {
                    do throws(StoreError) {
                        let stored = try database.rows(select, [.text(record.id)]) { row throws(StoreError) in
                            try Self.stored(row, in: table, collection)
                        }.first
                        guard let stored else {
                            let inserted = try Self.write([record.document], with: insert, into: table, database) > 0
                            fates.append(inserted ? .stored : .alreadyStored)
                            continue
                        }
                        let merged = stored.record.merged(with: record)
                        if merged != stored.record { try Self.replace(stored.document.setting(merged.document), in: table, database) }
                        fates.append(.stored)
                    } catch where table.layout == .columns && error.code & 0xFF == Int(SQLITE_ERROR) {
                        // The statements no longer compile against the table (another process converted it back):
                        // the table's fault, not the record's, so the batch is retried.
                        throw StoreError(.unavailable, "\(table.name) no longer has the column layout: \(error.message)")
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
        let insert = table.insertSQL(onConflict: "DO NOTHING")
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

    /// Replaces the stored row of `document` (by `_id`) in `table`, whatever its layout, through the upsert
    /// statement the connection keeps prepared.
    static func replace(_ document: Document, in table: SQLiteTable, _ database: SQLiteDatabase) throws(StoreError) {
        _ = try write([document], with: table.insertSQL(onConflict: table.replaceOnConflict), into: table, database)
    }
}
