import Foundation
import TEDCore

/// The flag history in SQLite: each change inserted once by its deterministic `_id` (a conflict is a change synced
/// before), listed newest first through the `created_at` column (the time of the change).
extension SQLiteStore {
    public func appendFlagChanges(_ changes: [FlagChange]) async throws(StoreError) {
        guard !changes.isEmpty else { return }
        let table = try SQLiteTable(.flagHistory)
        var rows: [[SQLiteValue]] = []
        for change in changes {
            rows.append([.text(change.id), .int(try DocumentJSON.milliseconds(change.at)),
                         .text(String(decoding: try DocumentJSON.encode(change.document), as: UTF8.self))])
        }
        let sql = "INSERT INTO \(table.quoted) (_id, created_at, doc) VALUES (?1, ?2, ?3) ON CONFLICT(_id) DO NOTHING"
        let bindings = rows
        try await connection.run { database throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                try database.execute(table.createSQL)
                for row in bindings { try database.execute(sql, row) }
            }
        }
    }

    public func latestFlagChanges(limit: Int) async throws(StoreError) -> [FlagChange] {
        guard limit > 0 else { return [] }
        let table = try SQLiteTable(.flagHistory)
        let sql = "SELECT doc FROM \(table.quoted) ORDER BY created_at DESC, _id DESC LIMIT ?1"
        return try await read(table, sql, [.int(Int64(limit))]) { row throws(StoreError) in
            try FlagChange(document: try row.document(0))
        }
    }
}
