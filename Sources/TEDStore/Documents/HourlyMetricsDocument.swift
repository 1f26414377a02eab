import Foundation

/// One hour of accuracy metrics as both stores compute them (MongoDB by aggregation, SQLite by SQL): one layout of
/// the `metrics_hourly` document, whichever store filled it.
struct HourlyMetricsDocument {
    var start: Date
    var end: Date
    var gamesAnalyzed: Int64 = 0
    var predictionsMade: Int64 = 0
    var predictionsResolved: Int64 = 0
    var medianE40: Double?
    var meanE40: Double?
    var meanAbsoluteError: Double?
    var withinOneWindow: Int64 = 0
    var withinTwoWindows: Int64 = 0
    var withinThreeWindows: Int64 = 0
    var totalRecommended: Int64 = 0
    var betsPlaced: Int64 = 0
    var positiveEVCount: Int64 = 0
    var betsWon: Int64 = 0
    var betsLost: Int64 = 0
    var netPayout = 0.0
    var roiPercentage: Double?

    init(start: Date, end: Date) {
        self.start = start
        self.end = end
    }

    var document: Document {
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
