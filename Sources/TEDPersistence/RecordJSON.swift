import TEDCore
import TEDStore

/// The API renders records with the same field names the stores use (dates as ISO-8601 strings), so a record
/// reads the same from memory and from the database.
extension GameRecord {
    public var json: JSONValue { .object(document.jsonObject) }
}

extension TickSample {
    public var json: JSONValue { .object(document.jsonObject) }
}

extension Prediction {
    public var json: JSONValue { .object(document.jsonObject) }
}

extension SideBet {
    public var json: JSONValue { .object(document.jsonObject) }
}

extension GameSummary {
    public var json: JSONValue {
        [
            "game": game.json,
            "predictions": JSONValue(predictionCount),
            "within_1_window": JSONValue(withinOneWindow),
            "accuracy": JSONValue(accuracy),
            "mean_e40": JSONValue(meanE40),
            "median_e40": JSONValue(medianE40),
            "mean_absolute_error": JSONValue(meanAbsoluteError),
            "side_bets_won": JSONValue(sideBetsWon),
            "side_bets_lost": JSONValue(sideBetsLost),
            "last_prediction": lastPrediction?.json ?? .null,
        ]
    }
}

extension Document {
    /// A stored document as plain JSON (ids and dates as strings).
    public var json: JSONValue { .object(jsonObject) }
}
