import Foundation
import Testing
import TEDCore
@testable import TEDStore

/// `aggregateHour`'s typed figures (`HourlyFigures`): the same records, written through the record writes and resolved
/// in the store, give the same figures on both real stores, with and without inferred ends.
@Suite struct HourlyFiguresTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let hour = (start: t0.addingTimeInterval(-1800), end: t0.addingTimeInterval(1800))

    static func game(_ id: String, end: Int, ended: Bool, rugged: Bool, at seconds: Double) -> GameRecord {
        GameRecord(gameID: id, startTick: 0, endTick: end, peakPrice: 2, peakTick: end / 2, finalPrice: 0.5, ended: ended,
                   rugged: rugged, hadPredictions: true, predictionCount: 0, predictionAccuracy: nil, sideBetsPlaced: 0,
                   createdAt: t0.addingTimeInterval(seconds), updatedAt: t0.addingTimeInterval(seconds))
    }

    /// Games: "a" rugged at 200, "b" ended without a seen rug (inferred), "c" running, "late" after the hour.
    static let games = [
        game("a", end: 200, ended: true, rugged: true, at: 0), game("b", end: 100, ended: true, rugged: false, at: 60),
        game("c", end: 30, ended: false, rugged: false, at: 120), game("late", end: 10, ended: true, rugged: true, at: 3600),
    ]

    /// Signed errors that are multiples of 5, so every e40 is exact in binary and sums do not depend on their order.
    static let predictions: [Prediction] = [-40, -20, 0, 40, 100].enumerated().map { index, error in
        Prediction(gameID: "a", predictedAtTick: index, predictedEndTick: 200 + error, confidence: 0.5, modelVersion: "m",
                   timestamp: t0, createdAt: t0.addingTimeInterval(Double(index)))
    } + [
        Prediction(gameID: "b", predictedAtTick: 1, predictedEndTick: 140, confidence: 0.5, modelVersion: "m", timestamp: t0, createdAt: t0),
        Prediction(gameID: "c", predictedAtTick: 1, predictedEndTick: 90, confidence: 0.5, modelVersion: "m", timestamp: t0, createdAt: t0),
    ]

    /// On "a" (rug at 200, window 40): a win, a loss, a skip; one win on the inferred "b".
    static let sideBets: [SideBet] = [(170, "a", Recommendation.bet), (100, "a", .bet), (120, "a", .skip), (80, "b", .bet)].map {
        SideBet(gameID: $0.1, placedAtTick: $0.0, probability: 0.3, expectedValue: $0.0 == 100 ? -0.1 : 0.2, confidence: 0.5,
                recommendation: $0.2, timestamp: t0, createdAt: t0)
    }

    static func figures(_ backend: PortStores.Backend) async throws -> (seen: HourlyFigures, all: HourlyFigures, empty: HourlyFigures) {
        let store = try PortStores.make(backend)
        _ = try await store.write(games.map(StoreRecord.game), to: .games)
        _ = try await store.write(predictions.map(StoreRecord.prediction), to: .predictions)
        _ = try await store.write(sideBets.map(StoreRecord.sideBet), to: .sideBets)
        try await store.resolveOutcomes(ofGames: games.map(\.gameID), rules: OutcomeRules())
        let seen = try await store.aggregateHour(start: hour.start, end: hour.end)
        let all = try await store.aggregateHour(start: hour.start, end: hour.end, includeInferred: true)
        let empty = try await store.aggregateHour(start: hour.end.addingTimeInterval(7200), end: hour.end.addingTimeInterval(10800))
        await store.close()
        return (seen, all, empty)
    }

    @Test func bothStoresComputeTheSameFigures() async throws {
        let mongo = try await Self.figures(.mongodb)
        let sqlite = try await Self.figures(.sqlite)
        #expect(mongo.seen == sqlite.seen)
        #expect(mongo.all == sqlite.all)
        #expect(mongo.empty == sqlite.empty)

        // And the figures are the right ones (two equal wrong answers would pass the comparison alone).
        var expected = HourlyFigures(start: Self.hour.start, end: Self.hour.end)
        expected.gamesAnalyzed = 2  // "a" and "c"
        expected.predictionsMade = 6
        expected.predictionsResolved = 5
        expected.medianE40 = 0  // of -1, -0.5, 0, 1, 2.5
        expected.meanE40 = 0.4
        expected.meanAbsoluteError = 40
        expected.withinOneWindow = 4
        expected.withinTwoWindows = 4
        expected.withinThreeWindows = 5
        expected.totalRecommended = 3
        expected.betsPlaced = 2
        expected.positiveEVCount = 2
        expected.betsWon = 1
        expected.betsLost = 1
        expected.netPayout = 3  // +4 and -1
        expected.roiPercentage = 150
        #expect(sqlite.seen == expected)
        #expect(sqlite.all.gamesAnalyzed == 3 && sqlite.all.predictionsResolved == 6 && sqlite.all.betsWon == 2)
        #expect(sqlite.empty == HourlyFigures(start: Self.hour.end.addingTimeInterval(7200), end: Self.hour.end.addingTimeInterval(10800)))
        #expect(!sqlite.empty.hasRecords && sqlite.seen.hasRecords)
    }

    /// The stored layout of the figures, which `/api/persistence/metrics` shows as it is: unchanged by the typing.
    @Test func theDocumentKeepsTheStoredLayout() {
        var figures = HourlyFigures(start: Self.hour.start, end: Self.hour.end)
        figures.medianE40 = 0.5
        figures.betsWon = 2
        let document = figures.document
        #expect(document.keys == ["hour_start", "hour_end", "games_analyzed", "predictions_made", "predictions_resolved",
                                  "prediction_metrics", "side_bet_metrics"])
        #expect(document.value(at: "prediction_metrics")?.documentValue?.keys
                == ["median_e40", "mean_e40", "mean_absolute_error", "within_1_window", "within_2_windows", "within_3_windows"])
        #expect(document.value(at: "side_bet_metrics")?.documentValue?.keys
                == ["total_recommended", "bets_placed", "positive_ev_count", "bets_won", "bets_lost", "net_payout", "roi_percentage"])
        #expect(document.value(at: "prediction_metrics.median_e40") == .double(0.5))
        #expect(document.value(at: "prediction_metrics.mean_e40") == .null)
        #expect(document.value(at: "side_bet_metrics.bets_won") == .int64(2))
    }
}
