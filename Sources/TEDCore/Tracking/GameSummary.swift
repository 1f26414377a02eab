import Foundation

/// A finished game with the summary of its predictions and side bets: what `/api/prediction-history` serves.
public struct GameSummary: Sendable, Equatable {
    public var game: GameRecord
    public var predictionCount: Int
    public var withinOneWindow: Int
    public var meanE40: Double?
    public var medianE40: Double?
    public var meanAbsoluteError: Double?
    public var sideBetsWon: Int
    public var sideBetsLost: Int
    /// The last prediction made before the end, the one a player would have acted on.
    public var lastPrediction: Prediction?

    public init(game: GameRecord, predictions: [Prediction], sideBets: [SideBet]) {
        self.game = game
        let metrics = predictions.compactMap(\.errorMetrics)
        predictionCount = predictions.count
        withinOneWindow = metrics.filter { $0.isWithin(windows: 1) }.count
        let e40 = metrics.map(\.e40)
        meanE40 = Statistics.mean(e40)
        medianE40 = Statistics.median(e40)
        meanAbsoluteError = Statistics.mean(metrics.map { Double($0.absoluteError) })
        // Only placed bets (BET) win or lose money; a SKIP's outcome is not a result, nor is any outcome of a game
        // whose end was inferred (its rug never seen): those stay out of ROI.
        let placed = game.endInferred ? [] : sideBets.filter { $0.recommendation == .bet }
        sideBetsWon = placed.filter { $0.actualOutcome == .won }.count
        sideBetsLost = placed.filter { $0.actualOutcome == .lost }.count
        lastPrediction = predictions.max { $0.predictedAtTick < $1.predictedAtTick }
    }

    /// Nil without predictions, or when the game's end was inferred (its rug never seen: no accuracy to measure).
    public var accuracy: Double? {
        predictionCount == 0 || game.endInferred ? nil : Double(withinOneWindow) / Double(predictionCount)
    }
}

public enum Statistics {
    public static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// The true median: the middle value, or the mean of the two middle values for an even count.
    public static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
