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
        let findGames = "SELECT \(games.selectList) FROM \(games.quoted) WHERE _id IN (\(placeholders))"
        return try await connection.run { database throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                guard try database.tableExists(games.name) else { return }
                let ended = try database.rows(findGames, gameIDs.map(SQLiteValue.text)) { row throws(StoreError) in
                    try Self.stored(row, in: games, .games)
                }.compactMap { stored -> (GameRecord, Document)? in
                    guard case .game(let game) = stored.record, game.ended else { return nil }
                    return (game, stored.document)
                }
                for (var game, gameDocument) in ended {
                    var count = 0, within = 0, placed = 0
                    for (record, document) in try Self.records(of: game.gameID, in: predictions, database) {
                        guard case .prediction(var prediction) = record else { continue }
                        if !prediction.isResolved {
                            prediction = prediction.resolved(actualEndTick: game.endTick, endInferred: game.endInferred)
                            try Self.replace(document.setting(prediction.document), in: predictions, database)
                        }
                        count += 1
                        if prediction.errorMetrics?.isWithin(windows: 1) == true { within += 1 }
                    }
                    for (record, document) in try Self.records(of: game.gameID, in: sideBets, database) {
                        guard case .sideBet(var sideBet) = record else { continue }
                        if !sideBet.isResolved {
                            sideBet = sideBet.resolved(actualEndTick: game.endTick, windowTicks: rules.sideBetWindowTicks,
                                                       payoutMultiplier: rules.sideBetPayoutMultiplier,
                                                       endInferred: game.endInferred)
                            try Self.replace(document.setting(sideBet.document), in: sideBets, database)
                        }
                        if sideBet.recommendation == .bet { placed += 1 }
                    }
                    game.predictionCount = count
                    game.hadPredictions = count > 0
                    game.predictionAccuracy = count > 0 ? Double(within) / Double(count) : nil
                    game.sideBetsPlaced = placed
                    try Self.replace(gameDocument.setting(game.document), in: games, database)
                }
            }
        }
    }

    private static func records(of gameID: String, in table: SQLiteTable,
                                _ database: SQLiteDatabase) throws(StoreError) -> [(record: StoreRecord, document: Document)] {
        guard try database.tableExists(table.name) else { return [] }
        let collection = CollectionName(table.name)
        let gameField = try SQLiteField("game_id", in: table).expression
        let sql = "SELECT \(table.selectList) FROM \(table.quoted) WHERE \(gameField) = ?1"
        return try database.rows(sql, [.text(gameID)]) { row throws(StoreError) in try stored(row, in: table, collection) }
    }
}
