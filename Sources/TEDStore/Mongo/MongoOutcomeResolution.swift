import CLibMongoC
import Foundation
import TEDCore

/// Outcomes resolved in MongoDB: one `update_many` per collection filtered by `game_id`, so records stored before a
/// restart or by another instance are resolved too, and the game's counters recomputed from what is stored.
extension MongoStore {
    public func resolveOutcomes(ofGames gameIDs: [String], rules: OutcomeRules) async throws(StoreError) {
        guard !gameIDs.isEmpty else { return }
        let query = try BSONCodec.encode([
            "_id": .document(["$in": .array(gameIDs.map(DocumentValue.string))]), "ended": .bool(true),
        ])
        let options = try BSONCodec.encode(["projection": .document(["end_tick": .int32(1), "rugged": .int32(1)])])
        let ended = try await withCollection(.games) { [self] handle throws(StoreError) in
            try findRaw(handle, query: query, options: options, context: "find ended games")
        }
        for bytes in ended {
            let game = try BSONCodec.decode(bytes)
            guard let id = game["_id"]?.stringValue, let endTick = game["end_tick"]?.intValue else { continue }
            // An ended game whose rug no version saw: its end is inferred (`GameRecord.endInferred`).
            let endInferred = game["rugged"]?.boolValue != true
            try await resolve(gameID: id, endTick: endTick, endInferred: endInferred, rules: rules)
        }
    }

    private func resolve(gameID: String, endTick: Int, endInferred: Bool, rules: OutcomeRules) async throws(StoreError) {
        let unresolved = try BSONCodec.encode(["game_id": .string(gameID), "resolved": .document(["$ne": .bool(true)])])
        let predictions = try BSONCodec.encode(MongoMergeUpdates.resolvePredictions(endTick: endTick, endInferred: endInferred))
        let sideBets = try BSONCodec.encode(MongoMergeUpdates.resolveSideBets(endTick: endTick, endInferred: endInferred, rules: rules))
        try await updateMany(.predictions, unresolved, predictions)
        try await updateMany(.sideBets, unresolved, sideBets)

        let ofGame = try BSONCodec.encode(["game_id": .string(gameID)])
        let withinOne = try BSONCodec.encode([
            "game_id": .string(gameID),
            "error_metrics.absolute_error": .document(["$lte": .int64(Int64(PredictionErrorMetrics.windowTicks))]),
        ])
        let bets = try BSONCodec.encode(["game_id": .string(gameID), "recommendation": .string(Recommendation.bet.rawValue)])
        let predictionCount = try await withCollection(.predictions) { [self] handle throws(StoreError) -> Int in
            try count(handle, query: ofGame, context: "count predictions")
        }
        let within = try await withCollection(.predictions) { [self] handle throws(StoreError) -> Int in
            try count(handle, query: withinOne, context: "count predictions")
        }
        let placed = try await withCollection(.sideBets) { [self] handle throws(StoreError) -> Int in
            try count(handle, query: bets, context: "count side bets")
        }
        let counters: Document = ["$set": .document([
            "prediction_count": .int64(Int64(predictionCount)), "had_predictions": .bool(predictionCount > 0),
            "prediction_accuracy": predictionCount > 0 ? .double(Double(within) / Double(predictionCount)) : .null,
            "side_bets_placed": .int64(Int64(placed)),
        ])]
        try await updateMany(.games, try BSONCodec.encode(["_id": .string(gameID)]), try BSONCodec.encode(counters))
    }

    private func updateMany(_ collection: CollectionName, _ selector: [UInt8], _ update: [UInt8]) async throws(StoreError) {
        let context = "resolve outcomes in \(collection)"
        try await withCollection(collection) { [self] handle throws(StoreError) in
            try withBSONView(selector) { selector throws(StoreError) in
                try withBSONView(update) { update throws(StoreError) in
                    try withReply { reply throws(StoreError) in
                        var error = bson_error_t()
                        guard mongoc_collection_update_many(handle, selector, update, nil, reply, &error) else {
                            throw pool.storeError(&error, context)
                        }
                    }
                }
            }
        }
    }
}
