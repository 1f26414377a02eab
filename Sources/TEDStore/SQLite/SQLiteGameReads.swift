import Foundation
import TEDCore

/// Game recordings in SQLite: a game's tick samples found through the primary key (their keys share the prefix
/// `game_id:`), sorted by tick by SQLite (which keeps only the first `limit` rows while it sorts); only the fields
/// of a recorded tick are extracted from the stored JSON.
extension SQLiteStore {
    public func recordedTicks(ofGame gameID: String, afterTick: Int, limit: Int) async throws(StoreError) -> [RecordedTick] {
        guard limit > 0 else { return [] }
        let table = try SQLiteTable(.tickSamples)
        let range = RecordedTick.idRange(ofGame: gameID)
        // As in MongoDB, a sample whose tick is not a number is not part of the recording; a date is stored as
        // integer milliseconds.
        let sql = """
            SELECT _id, json_extract(doc, '$.tick'),
                json_type(doc, '$.price'), json_extract(doc, '$.price'),
                json_type(doc, '$.timestamp'), json_extract(doc, '$.timestamp')
            FROM \(table.quoted)
            WHERE _id >= ?1 AND _id < ?2 AND json_extract(doc, '$.game_id') = ?3 AND json_type(doc, '$.game_id') = 'text'
                AND json_type(doc, '$.tick') IN ('integer', 'real') AND json_extract(doc, '$.tick') > ?4
            ORDER BY json_extract(doc, '$.tick') LIMIT ?5
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

    private static func recordedTick(_ row: SQLiteStatement) throws(StoreError) -> RecordedTick {
        func corrupt(_ field: String) -> StoreError {
            StoreError(.corrupt, "tick_samples document \(row.text(0) ?? "?"): field \(field) is missing or invalid")
        }
        let tick = row.double(1)
        guard tick.rounded() == tick, abs(tick) < 9e15 else { throw corrupt("tick") }
        guard let priceType = row.text(2), ["integer", "real"].contains(priceType) else { throw corrupt("price") }
        guard row.text(4) == "integer" else { throw corrupt("timestamp") }
        return RecordedTick(tick: Int(tick), price: row.double(3), timestamp: DocumentJSON.date(milliseconds: row.int64(5)))
    }
}
