import Foundation
import TEDCore
import TEDStore

/// Totals over a run of `metrics_hourly` documents. Counts add up; shares are recomputed from the summed counts
/// and the mean e40 is weighted by each hour's resolved predictions. Medians cannot be combined, so the caller
/// computes the period's median in the store.
public struct MetricsSummary: Sendable, Equatable {
    public var hours = 0
    public var predictionsMade = 0
    public var predictionsResolved = 0
    public var gamesAnalyzed = 0
    public var withinOneWindow = 0
    public var withinTwoWindows = 0
    public var withinThreeWindows = 0
    public var betsPlaced = 0
    public var betsWon = 0
    public var betsLost = 0
    public var netPayout = 0.0
    private var e40WeightedSum = 0.0
    private var e40Weight = 0

    public init(hourly documents: [Document]) {
        for document in documents {
            func count(_ path: String) -> Int { document.value(at: path)?.intValue ?? 0 }
            let resolved = count("predictions_resolved")
            hours += 1
            predictionsMade += count("predictions_made")
            predictionsResolved += resolved
            gamesAnalyzed += count("games_analyzed")
            withinOneWindow += count("prediction_metrics.within_1_window")
            withinTwoWindows += count("prediction_metrics.within_2_windows")
            withinThreeWindows += count("prediction_metrics.within_3_windows")
            betsPlaced += count("side_bet_metrics.bets_placed")
            betsWon += count("side_bet_metrics.bets_won")
            betsLost += count("side_bet_metrics.bets_lost")
            netPayout += document.value(at: "side_bet_metrics.net_payout")?.doubleValue ?? 0
            if let meanE40 = document.value(at: "prediction_metrics.mean_e40")?.doubleValue, resolved > 0 {
                e40WeightedSum += meanE40 * Double(resolved)
                e40Weight += resolved
            }
        }
    }

    private func share(_ part: Int, of whole: Int) -> Double? { whole > 0 ? Double(part) / Double(whole) : nil }

    public var accuracyOneWindow: Double? { share(withinOneWindow, of: predictionsResolved) }
    public var accuracyTwoWindows: Double? { share(withinTwoWindows, of: predictionsResolved) }
    public var accuracyThreeWindows: Double? { share(withinThreeWindows, of: predictionsResolved) }
    public var averageE40: Double? { e40Weight > 0 ? e40WeightedSum / Double(e40Weight) : nil }
    /// Net payout per settled bet, in percent (as the hourly documents and the analytics compute it).
    public var roiPercentage: Double? { SideBetAnalytics.roiPercentage(netPayout: netPayout, settledBets: betsWon + betsLost) }
}
