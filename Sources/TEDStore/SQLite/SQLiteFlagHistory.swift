import Foundation
import TEDCore

/// The flag history in SQLite (a column per field: `SQLiteRecordColumns.flagHistory`): each change inserted once by
/// its deterministic `_id` (a conflict is a change synced before), listed newest first through the `created_at`
/// column (the time of the change).
extension SQLiteStore {
    public func appendFlagChanges(_ changes: [FlagChange]) async throws(StoreError) {
        _ = try await insert(changes.map(\.document), into: .flagHistory)
    }

    public func latestFlagChanges(limit: Int) async throws(StoreError) -> [FlagChange] {
        guard limit > 0 else { return [] }
        let table = try SQLiteTable(.flagHistory)
        let sql = "SELECT \(table.selectList) FROM \(table.quoted) ORDER BY created_at DESC, _id DESC LIMIT ?1"
        return try await read(table, sql, [.int(Int64(limit))]) { row throws(StoreError) in
            try FlagChange(document: try table.document(in: row))
        }
    }
}
