import Foundation

// A value of the persistence layer's ports (see StorePorts.swift): what `DocumentStore.aggregateHour` returns.

/// The figures of one period (an hour, or the span of a report) as both stores compute them, MongoDB by aggregation
/// and SQLite by SQL: typed, so callers read fields instead of document paths, and so both stores can be compared
/// value for value. `document` is the one layout of `metrics_hourly`'s figures, whichever store computed them.
public struct HourlyFigures: Sendable, Equatable {
    public var start: Date
    public var end: Date
    public var gamesAnalyzed: Int64 = 0
    public var predictionsMade: Int64 = 0
    public var predictionsResolved: Int64 = 0
    /// The exact median of the resolved predictions' e40; nil when none has a numeric e40.
    public var medianE40: Double?
    public var meanE40: Double?
    public var meanAbsoluteError: Double?
    public var withinOneWindow: Int64 = 0
    public var withinTwoWindows: Int64 = 0
    public var withinThreeWindows: Int64 = 0
    public var totalRecommended: Int64 = 0
    public var betsPlaced: Int64 = 0
    public var positiveEVCount: Int64 = 0
    public var betsWon: Int64 = 0
    public var betsLost: Int64 = 0
    /// The payouts of settled bets (BET and WON or LOST).
    public var netPayout = 0.0
    /// Net payout per settled bet, in percent; nil without a settled bet.
    public var roiPercentage: Double?

    public init(start: Date, end: Date) {
        self.start = start
        self.end = end
    }

    /// Whether the figures count any game, prediction or side bet.
    public var hasRecords: Bool { gamesAnalyzed > 0 || predictionsMade > 0 || totalRecommended > 0 }

    /// The figures as `metrics_hourly` stores them and `/api/persistence/metrics` shows them (without `_id`,
    /// `created_at` and `updated_at`, which the hourly job adds).
    public var document: Document {
        func number(_ value: Double?) -> DocumentValue { value.map(DocumentValue.double) ?? .null }
        return [
            "hour_start": .date(start),
            "hour_end": .date(end),
            "games_analyzed": .int64(gamesAnalyzed),
            "predictions_made": .int64(predictionsMade),
            "predictions_resolved": .int64(predictionsResolved),
            "prediction_metrics": .document([
                "median_e40": number(medianE40),
                "mean_e40": number(meanE40),
                "mean_absolute_error": number(meanAbsoluteError),
                "within_1_window": .int64(withinOneWindow),
                "within_2_windows": .int64(withinTwoWindows),
                "within_3_windows": .int64(withinThreeWindows),
            ]),
            "side_bet_metrics": .document([
                "total_recommended": .int64(totalRecommended),
                "bets_placed": .int64(betsPlaced),
                "positive_ev_count": .int64(positiveEVCount),
                "bets_won": .int64(betsWon),
                "bets_lost": .int64(betsLost),
                "net_payout": .double(netPayout),
                "roi_percentage": number(roiPercentage),
            ]),
        ]
    }
}
