import Foundation
import TEDCore

/// Retention in SQLite: through the `created_at` column (epoch milliseconds of a date `created_at`, NULL otherwise,
/// so a document without a date is never expired), oldest first.
extension SQLiteStore {
    public func expiredCount(in collection: CollectionName, before cutoff: Date) async throws(StoreError) -> Int {
        let table = try SQLiteTable(collection)
        let sql = "SELECT count(*) FROM \(table.quoted) WHERE created_at < ?1"
        return try await read(table, sql, [.int(try DocumentJSON.milliseconds(cutoff))]) { Int($0.int64(0)) }.first ?? 0
    }

    public func oldestExpired(in collection: CollectionName, before cutoff: Date) async throws(StoreError) -> Date? {
        let table = try SQLiteTable(collection)
        let sql = "SELECT min(created_at) FROM \(table.quoted) WHERE created_at < ?1"
        return try await read(table, sql, [.int(try DocumentJSON.milliseconds(cutoff))]) { $0.optionalDate(0) }.first ?? nil
    }

    public func deleteExpired(from collection: CollectionName, before cutoff: Date, limit: Int) async throws(StoreError) -> Int {
        guard limit > 0 else { return 0 }
        let table = try SQLiteTable(collection)
        let sql = """
            DELETE FROM \(table.quoted) WHERE rowid IN
            (SELECT rowid FROM \(table.quoted) WHERE created_at < ?1 ORDER BY created_at, _id LIMIT ?2)
            """
        let bindings: [SQLiteValue] = [.int(try DocumentJSON.milliseconds(cutoff)), .int(Int64(limit))]
        return try await connection.run { database throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                guard try database.tableExists(table.name) else { return 0 }
                return try database.execute(sql, bindings)
            }
        }
    }

}
