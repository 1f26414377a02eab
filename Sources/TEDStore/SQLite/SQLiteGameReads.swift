import Foundation
import TEDCore

/// Game recordings in SQLite: a game's tick samples found through the primary key (their keys share the prefix
/// `game_id:`), sorted by tick by SQLite (which keeps only the first `limit` rows while it sorts); only the columns
/// of a recorded tick are read (`SQLiteRecordColumns.tickSamples`, STRICT, so each holds its type or NULL).
extension SQLiteStore {
    public func recordedTicks(ofGame gameID: String, afterTick: Int, limit: Int) async throws(StoreError) -> [RecordedTick] {
        guard limit > 0 else { return [] }
        let table = try SQLiteTable(.tickSamples)
        let range = RecordedTick.idRange(ofGame: gameID)
        let sql = """
            SELECT _id, tick, price, timestamp FROM \(table.quoted)
            WHERE _id >= ?1 AND _id < ?2 AND game_id = ?3 AND tick > ?4
            ORDER BY tick LIMIT ?5
            """
        let bindings: [SQLiteValue] = [.text(range.lower), .text(range.upper), .text(gameID), .int(Int64(afterTick)),
                                       .int(Int64(limit))]
        return try await connection.run { database throws(StoreError) in
            try database.transaction(.deferred) { () throws(StoreError) in
                guard try database.tableExists(table.name) else { return [] }
                return try database.rows(sql, bindings) { row throws(StoreError) in try Self.recordedTick(row) }
            }
        }
    }

    /// As in MongoDB, a sample without a number `tick` is not part of the recording (the WHERE leaves it out); one
    /// without a number `price` or a date `timestamp` (possible only in a document kept whole) is corrupt.
    private static func recordedTick(_ row: SQLiteStatement) throws(StoreError) -> RecordedTick {
        for (column, field) in [(Int32(2), "price"), (3, "timestamp")] where row.isNull(column) {
            throw StoreError(.corrupt, "tick_samples document \(row.text(0) ?? "?"): field \(field) is missing or invalid")
        }
        return RecordedTick(tick: Int(row.int64(1)), price: row.double(2), timestamp: DocumentJSON.date(milliseconds: row.int64(3)))
    }
}
