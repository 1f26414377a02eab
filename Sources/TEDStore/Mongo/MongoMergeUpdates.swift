import Foundation
import TEDCore

/// The MongoDB form of the merges in `RecordMerge.swift`: one update per record, applied with `upsert`, whose
/// result does not depend on the order in which versions arrive.
enum MongoMergeUpdates {
    /// Fields of a prediction or side bet set by its outcome; everything else is a fact, inserted once.
    static let predictionOutcome: Set<String> = ["resolved", "actual_end_tick", "error_metrics", "end_inferred"]
    static let sideBetOutcome: Set<String> = ["resolved", "actual_end_tick", "actual_outcome", "payout", "end_inferred"]

    /// `$setOnInsert` for the facts (and for the empty outcome of an unresolved version); `$set` for a known
    /// outcome, which therefore wins over an unresolved version whatever the order and is never cleared.
    static func factWithOutcome(_ document: Document, outcomeFields: Set<String>, resolved: Bool) -> Document {
        var onInsert = Document()
        var outcome = Document()
        for (key, value) in document.fields where key != "_id" {
            if resolved && outcomeFields.contains(key) { outcome.append(key, value) } else { onInsert.append(key, value) }
        }
        var update: Document = ["$setOnInsert": .document(onInsert)]
        if !outcome.isEmpty { update.append("$set", .document(outcome)) }
        return update
    }

    /// The monotone game merge as an update pipeline: every expression of the first stage reads the stored
    /// values (missing on insert, which `$min`/`$max` ignore), the second derives from the merged values the
    /// duration, the first tick seen, the completeness and `end_inferred` (ended and no version saw the rug).
    static func game(_ game: GameRecord) -> Document {
        let endTick = literal(.int64(Int64(game.endTick)))
        let finalPrice = literal(.double(game.finalPrice))
        let peakPrice = literal(.double(game.peakPrice))
        let peakTick = literal(.int64(Int64(game.peakTick)))
        let count = literal(.int64(Int64(game.predictionCount)))
        let accuracy = literal(game.predictionAccuracy.map(DocumentValue.double) ?? .null)
        let laterEnd = op("$or", [
            op("$gt", [endTick, op("$ifNull", ["$end_tick", .int64(Int64.min)])]),
            op("$and", [op("$eq", [endTick, "$end_tick"]), op("$gt", [finalPrice, "$final_price"])]),
        ])
        let higherPeak = op("$or", [
            op("$gt", [peakPrice, op("$ifNull", ["$peak_price", .double(-.infinity)])]),
            op("$and", [op("$eq", [peakPrice, "$peak_price"]), op("$lt", [peakTick, "$peak_tick"])]),
        ])
        let accuracyMerge: DocumentValue = .document(["$switch": .document([
            "branches": .array([
                .document(["case": op("$gt", [count, op("$ifNull", ["$prediction_count", .int64(-1)])]),
                            "then": op("$ifNull", [accuracy, "$prediction_accuracy"])]),
                .document(["case": op("$lt", [count, "$prediction_count"]),
                            "then": op("$ifNull", ["$prediction_accuracy", accuracy])]),
            ]),
            "default": op("$max", ["$prediction_accuracy", accuracy]),
        ])])
        let merge: Document = [
            "game_id": literal(.string(game.gameID)),
            "start_tick": op("$min", ["$start_tick", literal(.int64(Int64(game.startTick)))]),
            "end_tick": op("$max", ["$end_tick", endTick]),
            "final_price": op("$cond", [laterEnd, finalPrice, "$final_price"]),
            "peak_price": op("$cond", [higherPeak, peakPrice, "$peak_price"]),
            "peak_tick": op("$cond", [higherPeak, peakTick, "$peak_tick"]),
            "ended": either("$ended", game.ended),
            "rugged": either("$rugged", game.rugged),
            "had_predictions": either("$had_predictions", game.hadPredictions),
            "prediction_count": op("$max", ["$prediction_count", count]),
            "prediction_accuracy": accuracyMerge,
            "side_bets_placed": op("$max", ["$side_bets_placed", literal(.int64(Int64(game.sideBetsPlaced)))]),
            // A lower bound across a restart, as in `GameRecord.merged`.
            "ticks_seen": op("$max", ["$ticks_seen", literal(.int64(Int64(game.ticksSeen)))]),
            "created_at": op("$min", ["$created_at", .date(game.createdAt)]),
            "updated_at": op("$max", ["$updated_at", .date(game.updatedAt)]),
        ]
        let derived: Document = [
            "first_tick_seen": "$start_tick",
            "duration_ticks": op("$add", ["$end_tick", .int64(1)]),
            "completeness": op("$divide", ["$ticks_seen", op("$add", ["$end_tick", .int64(1)])]),
            "end_inferred": op("$and", ["$ended", op("$not", ["$rugged"])]),
        ]
        return pipeline([["$set": .document(merge)], ["$set": .document(derived)]])
    }

    /// Resolves a game's unresolved predictions against its end tick, computing the error in the database.
    static func resolvePredictions(endTick: Int, endInferred: Bool) -> Document {
        let end = literal(.int64(Int64(endTick)))
        let raw = op("$subtract", ["$predicted_end_tick", end])
        let window = DocumentValue.int64(Int64(PredictionErrorMetrics.windowTicks))
        return pipeline([["$set": .document([
            "resolved": literal(.bool(true)),
            "actual_end_tick": end,
            "end_inferred": literal(.bool(endInferred)),
            "error_metrics": .document([
                "raw_error": raw,
                "e40": op("$divide", [raw, .double(Double(PredictionErrorMetrics.windowTicks))]),
                "absolute_error": op("$abs", [raw]),
                "within_windows": .document(["$toLong": op("$ceil", [op("$divide", [op("$abs", [raw]), window])])]),
            ]),
        ])]])
    }

    /// Resolves a game's unresolved side bets against its end tick, as `SideBet.resolved` does.
    static func resolveSideBets(endTick: Int, endInferred: Bool, rules: OutcomeRules) -> Document {
        let end = literal(.int64(Int64(endTick)))
        let void = op("$gte", ["$placed_at_tick", end])
        let won = op("$lte", [end, op("$add", ["$placed_at_tick", .int64(Int64(rules.sideBetWindowTicks - 1))])])
        let outcome = op("$cond", [
            void, literal(.string(SideBetResult.void.rawValue)),
            op("$cond", [won, literal(.string(SideBetResult.won.rawValue)), literal(.string(SideBetResult.lost.rawValue))]),
        ])
        let betPayout = op("$cond", [void, .double(0), op("$cond", [won, .double(rules.sideBetPayoutMultiplier - 1), .double(-1)])])
        return pipeline([["$set": .document([
            "resolved": literal(.bool(true)),
            "actual_end_tick": end,
            "end_inferred": literal(.bool(endInferred)),
            "actual_outcome": outcome,
            "payout": op("$cond", [
                op("$eq", ["$recommendation", literal(.string(Recommendation.bet.rawValue))]), betPayout, .null,
            ]),
        ])]])
    }

    /// A value never read as a field path or an operator (a game id may start with `$`).
    private static func literal(_ value: DocumentValue) -> DocumentValue { .document(["$literal": value]) }

    private static func op(_ name: String, _ arguments: [DocumentValue]) -> DocumentValue {
        .document([name: .array(arguments)])
    }

    private static func either(_ field: String, _ value: Bool) -> DocumentValue {
        op("$or", [op("$ifNull", [.string(field), .bool(false)]), .bool(value)])
    }

    /// An update pipeline, encoded as BSON encodes an array (keys "0", "1", …).
    private static func pipeline(_ stages: [Document]) -> Document {
        Document(stages.enumerated().map { (String($0.offset), .document($0.element)) })
    }
}
