import Foundation
import TEDCore

/// The dead-letter in SQLite: one `dead_letters` row per refused record (`DeadLetterDocument`, a column per field:
/// `SQLiteRecordColumns.deadLetters`), replaced by `_id` when the record is refused again, listed in the order of the
/// `created_at` column.
extension SQLiteStore {
    /// Rows deleted per transaction while purging, so the flush is never locked out for long.
    static let deadLetterPurgeBatch = 1000

    public func addDeadLetters(_ letters: [DeadLetter]) async throws(StoreError) {
        let documents = try letters.map { letter throws(StoreError) in try DeadLetterDocument.encode(letter) }
        try await replaceByID(documents, in: .deadLetters)
    }

    public func deadLetters(limit: Int) async throws(StoreError) -> [DeadLetter] {
        guard limit > 0 else { return [] }
        let table = try SQLiteTable(.deadLetters)
        let sql = "SELECT \(table.selectList) FROM \(table.quoted) ORDER BY created_at, _id LIMIT ?1"
        return try await read(table, sql, [.int(Int64(limit))]) { row throws(StoreError) in
            DeadLetterDocument.decode(try table.document(in: row))
        }
    }

    public func deadLetterCount() async throws(StoreError) -> Int {
        let table = try SQLiteTable(.deadLetters)
        return try await read(table, "SELECT count(*) FROM \(table.quoted)") { Int($0.int64(0)) }.first ?? 0
    }

    public func purgeDeadLetters() async throws(StoreError) -> Int {
        let table = try SQLiteTable(.deadLetters)
        let sql = "DELETE FROM \(table.quoted) WHERE rowid IN (SELECT rowid FROM \(table.quoted) LIMIT ?1)"
        let batch = Self.deadLetterPurgeBatch
        var total = 0
        while true {
            let deleted = try await connection.run { database throws(StoreError) in
                try database.transaction { () throws(StoreError) in
                    guard try database.tableExists(table.name) else { return 0 }
                    return try database.execute(sql, [.int(Int64(batch))])
                }
            }
            total += deleted
            if deleted < batch { return total }
        }
    }

    public func removeDeadLetters(of collection: CollectionName, recordIDs: [String]) async throws(StoreError) {
        guard !recordIDs.isEmpty else { return }
        let table = try SQLiteTable(.deadLetters)
        // One bound JSON array, however many ids.
        let ids = try DocumentJSON.encodeValue(.array(recordIDs.map {
            .string(DeadLetterDocument.id(of: collection, recordID: $0))
        }))
        let sql = "DELETE FROM \(table.quoted) WHERE _id IN (SELECT value FROM json_each(?1))"
        let bindings: [SQLiteValue] = [.text(String(decoding: ids, as: UTF8.self))]
        try await connection.run { database throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                guard try database.tableExists(table.name) else { return }
                _ = try database.execute(sql, bindings)
            }
        }
    }
}
