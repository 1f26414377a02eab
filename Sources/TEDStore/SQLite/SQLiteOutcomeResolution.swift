import Foundation
import TEDCore

/// Outcomes resolved in SQLite, in one transaction: the unresolved predictions and side bets of each ended game,
/// against its stored end tick, and the game's counters from its stored records.
extension SQLiteStore {
    public func resolveOutcomes(ofGames gameIDs: [String], rules: OutcomeRules) async throws(StoreError) {
        guard !gameIDs.isEmpty else { return }
        let games = try SQLiteTable(.games)
        let predictions = try SQLiteTable(.predictions)
        let sideBets = try SQLiteTable(.sideBets)
        let placeholders = Array(repeating: "?", count: gameIDs.count).joined(separator: ", ")
        let findGames = "SELECT doc FROM \(games.quoted) WHERE _id IN (\(placeholders))"
        return try await connection.run { database throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                guard try database.tableExists(games.name) else { return }
                let ended = try database.rows(findGames, gameIDs.map(SQLiteValue.text)) { row throws(StoreError) in
                    try Self.record(row, .games)
                }.compactMap { record -> GameRecord? in
                    guard case .game(let game) = record, game.ended else { return nil }
                    return game
                }
                var writer = DocumentJSONWriter()
                for var game in ended {
                    var count = 0, within = 0, placed = 0
                    for case .prediction(var prediction) in try Self.records(of: game.gameID, in: predictions, database) {
                        if !prediction.isResolved {
                            prediction = prediction.resolved(actualEndTick: game.endTick, endInferred: game.endInferred)
                            _ = try Self.put(prediction.document, with: Self.updateSQL(predictions), writer: &writer, database)
                        }
                        count += 1
                        if prediction.errorMetrics?.isWithin(windows: 1) == true { within += 1 }
                    }
                    for case .sideBet(var sideBet) in try Self.records(of: game.gameID, in: sideBets, database) {
                        if !sideBet.isResolved {
                            sideBet = sideBet.resolved(actualEndTick: game.endTick, windowTicks: rules.sideBetWindowTicks,
                                                       payoutMultiplier: rules.sideBetPayoutMultiplier,
                                                       endInferred: game.endInferred)
                            _ = try Self.put(sideBet.document, with: Self.updateSQL(sideBets), writer: &writer, database)
                        }
                        if sideBet.recommendation == .bet { placed += 1 }
                    }
                    game.predictionCount = count
                    game.hadPredictions = count > 0
                    game.predictionAccuracy = count > 0 ? Double(within) / Double(count) : nil
                    game.sideBetsPlaced = placed
                    _ = try Self.put(game.document, with: Self.updateSQL(games), writer: &writer, database)
                }
            }
        }
    }

    private static func records(of gameID: String, in table: SQLiteTable, _ database: SQLiteDatabase) throws(StoreError) -> [StoreRecord] {
        guard try database.tableExists(table.name) else { return [] }
        let collection = CollectionName(table.name)
        return try database.rows("SELECT doc FROM \(table.quoted) WHERE json_extract(doc, '$.game_id') = ?1", [.text(gameID)]) {
            row throws(StoreError) in try record(row, collection)
        }
    }

    /// The record in a row's first column.
    static func record(_ row: SQLiteStatement, _ collection: CollectionName) throws(StoreError) -> StoreRecord {
        try row.withBytes(0) { bytes throws(StoreError) in
            try StoreRecord(document: DocumentJSON.decode(bytes ?? UnsafeBufferPointer(start: nil, count: 0)), collection: collection)
        }
    }
}
