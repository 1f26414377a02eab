import Foundation
import TEDCore

/// Stored games in SQLite: pages through the `created_at` column, a game by primary key, its predictions and side
/// bets through the `game_id` field the migrations index (a column, or an expression over `doc`).
extension SQLiteStore {
    public func latestGames(limit: Int, before: Date?) async throws(StoreError) -> [Document] {
        guard limit > 0 else { return [] }
        let table = try SQLiteTable(.games)
        let sql = before == nil
            ? "SELECT \(table.selectList) FROM \(table.quoted) ORDER BY created_at DESC LIMIT ?1"
            : "SELECT \(table.selectList) FROM \(table.quoted) WHERE created_at < ?2 ORDER BY created_at DESC LIMIT ?1"
        var bindings: [SQLiteValue] = [.int(Int64(limit))]
        if let before { bindings.append(.int(try DocumentJSON.milliseconds(before))) }
        return try await read(table, sql, bindings) { row throws(StoreError) in try table.document(in: row) }
    }

    public func storedGame(_ gameID: String) async throws(StoreError) -> Document? {
        try await document(gameID, in: .games)
    }

    public func storedGameDetail(_ gameID: String) async throws(StoreError) -> StoredGameDetail? {
        let games = try SQLiteTable(.games)
        let predictions = try SQLiteTable(.predictions)
        let sideBets = try SQLiteTable(.sideBets)
        // One read transaction: the game and its records as of one moment.
        return try await connection.run { database throws(StoreError) in
            try database.transaction(.deferred) { () throws(StoreError) -> StoredGameDetail? in
                guard try database.tableExists(games.name) else { return nil }
                let sql = "SELECT \(games.selectList) FROM \(games.quoted) WHERE _id = ?1"
                guard let game = try database.rows(sql, [.text(gameID)], { row throws(StoreError) in try games.document(in: row) }).first
                else { return nil }
                return StoredGameDetail(
                    game: game,
                    predictions: try Self.documents(of: gameID, in: predictions, by: "predicted_at_tick", database),
                    sideBets: try Self.documents(of: gameID, in: sideBets, by: "placed_at_tick", database))
            }
        }
    }

    /// The documents of `gameID` in `table`, by the field `tickField`.
    private static func documents(of gameID: String, in table: SQLiteTable, by tickField: String,
                                  _ database: SQLiteDatabase) throws(StoreError) -> [Document] {
        guard try database.tableExists(table.name) else { return [] }
        let sql = """
            SELECT \(table.selectList) FROM \(table.quoted) WHERE \(try SQLiteField("game_id", in: table).expression) = ?1
            ORDER BY \(try SQLiteField(tickField, in: table).expression), _id
            """
        return try database.rows(sql, [.text(gameID)]) { row throws(StoreError) in try table.document(in: row) }
    }
}
