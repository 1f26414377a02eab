import Foundation
import Testing
@testable import TEDCore

@Suite("Statistics")
struct StatisticsTests {
    @Test func medianOddCount() {
        #expect(Statistics.median([3, 1, 2]) == 2)
        #expect(Statistics.median([5]) == 5)
        #expect(Statistics.median([-1.5, 10, 2.25, -7, 0]) == 0)
        #expect(Statistics.median([1, 1, 9]) == 1)
    }

    @Test func medianEvenCountIsTheMeanOfTheMiddleTwo() {
        #expect(Statistics.median([4, 1, 3, 2]) == 2.5)
        #expect(Statistics.median([1, 2]) == 1.5)
        #expect(Statistics.median([-2, -1]) == -1.5)
        #expect(Statistics.median([10, 0, 0, 10]) == 5)
        #expect(Statistics.median([7, 7, 7, 7]) == 7)
    }

    @Test func medianOfNothing() {
        #expect(Statistics.median([]) == nil)
    }

    @Test func mean() {
        #expect(Statistics.mean([]) == nil)
        #expect(Statistics.mean([2]) == 2)
        #expect(Statistics.mean([1, 2, 3, 4]) == 2.5)
        #expect(Statistics.mean([-1, 1]) == 0)
    }
}

@Suite("Outcome records")
struct OutcomeRecordTests {
    static let date = Date(timeIntervalSince1970: TestSupport.newYear2026)

    @Test(arguments: [
        // (predicted, actual, raw, e40, absolute, windows)
        (250, 200, 50, 1.25, 50, 2),
        (150, 200, -50, -1.25, 50, 2),
        (200, 200, 0, 0.0, 0, 0),       // only an exact hit is within 0 windows
        (201, 200, 1, 0.025, 1, 1),
        (239, 200, 39, 0.975, 39, 1),
        (240, 200, 40, 1.0, 40, 1),     // exact multiples of 40: within that many windows
        (160, 200, -40, -1.0, 40, 1),
        (280, 200, 80, 2.0, 80, 2),
        (281, 200, 81, 2.025, 81, 3),
        (0, 400, -400, -10.0, 400, 10),
    ])
    func errorMetrics(_ predicted: Int, _ actual: Int, _ raw: Int, _ e40: Double, _ absolute: Int, _ windows: Int) {
        let metrics = PredictionErrorMetrics(predictedEndTick: predicted, actualEndTick: actual)
        #expect(metrics.rawError == raw)
        #expect(metrics.e40 == e40)
        #expect(metrics.absoluteError == absolute)
        #expect(metrics.withinWindows == windows)
    }

    @Test func withinWindowsAgreesWithIsWithin() {
        for raw in -250...250 {
            let metrics = PredictionErrorMetrics(predictedEndTick: 1000 + raw, actualEndTick: 1000)
            for k in 0...7 {
                #expect((metrics.withinWindows <= k) == metrics.isWithin(windows: k), "raw \(raw), k \(k)")
            }
        }
    }

    @Test func withinWindowsIsInclusive() {
        #expect(PredictionErrorMetrics(predictedEndTick: 40, actualEndTick: 0).isWithin(windows: 1))
        #expect(!PredictionErrorMetrics(predictedEndTick: 41, actualEndTick: 0).isWithin(windows: 1))
        #expect(PredictionErrorMetrics(predictedEndTick: 0, actualEndTick: 40).isWithin(windows: 1))
        #expect(!PredictionErrorMetrics(predictedEndTick: 0, actualEndTick: 41).isWithin(windows: 1))
        #expect(PredictionErrorMetrics(predictedEndTick: 0, actualEndTick: 80).isWithin(windows: 2))
        #expect(PredictionErrorMetrics(predictedEndTick: 5, actualEndTick: 5).isWithin(windows: 0))
    }

    @Test func predictionResolved() {
        let prediction = Prediction(gameID: "g", predictedAtTick: 10, predictedEndTick: 100, confidence: 0.5,
                                    timestamp: Self.date, createdAt: Self.date)
        #expect(prediction.modelVersion == "unknown")
        let resolved = prediction.resolved(actualEndTick: 120)
        #expect(resolved.isResolved)
        #expect(resolved.actualEndTick == 120)
        #expect(resolved.errorMetrics == PredictionErrorMetrics(predictedEndTick: 100, actualEndTick: 120))
        #expect(resolved.id == prediction.id)
        #expect(!prediction.isResolved)
    }

    @Test func sideBetResolved() {
        func bet(_ recommendation: Recommendation, placedAt: Int = 100) -> SideBet {
            SideBet(gameID: "g", placedAtTick: placedAt, probability: 0.2, expectedValue: 0, confidence: 0.5,
                    recommendation: recommendation, timestamp: Self.date, createdAt: Self.date)
        }
        let won = bet(.bet).resolved(actualEndTick: 139, windowTicks: 40, payoutMultiplier: 5)
        #expect(won.actualOutcome == .won)
        #expect(won.payout == 4)
        #expect(won.actualEndTick == 139)
        #expect(won.isResolved)
        let lost = bet(.bet).resolved(actualEndTick: 140, windowTicks: 40, payoutMultiplier: 5)
        #expect(lost.actualOutcome == .lost)
        #expect(lost.payout == -1)
        let skip = bet(.skip).resolved(actualEndTick: 120, windowTicks: 40, payoutMultiplier: 5)
        #expect(skip.actualOutcome == .won)
        #expect(skip.payout == nil)
        let wait = bet(.wait).resolved(actualEndTick: 400, windowTicks: 40, payoutMultiplier: 5)
        #expect(wait.actualOutcome == .lost)
        #expect(wait.payout == nil)
        let twoTickWindow = bet(.bet, placedAt: 7).resolved(actualEndTick: 8, windowTicks: 2, payoutMultiplier: 2)
        #expect(twoTickWindow.actualOutcome == .won)
        #expect(twoTickWindow.payout == 1)
        // At or after the rug tick betting had closed: VOID, the stake back (payout 0), whatever the window.
        let atTheRug = bet(.bet, placedAt: 7).resolved(actualEndTick: 7, windowTicks: 1, payoutMultiplier: 2)
        #expect(atTheRug.actualOutcome == .void)
        #expect(atTheRug.payout == 0)
        #expect(bet(.skip, placedAt: 9).resolved(actualEndTick: 7, windowTicks: 40, payoutMultiplier: 5).payout == nil)
        #expect(bet(.bet, placedAt: 7).resolved(actualEndTick: 8, windowTicks: 1, payoutMultiplier: 2).actualOutcome == .lost)
    }

    @Test func gameRecordApply() {
        var record = GameRecord(first: GameStateUpdate(gameID: "g", tick: 10, price: 2, timestamp: Self.date), now: Self.date)
        record.apply(GameStateUpdate(gameID: "g", tick: 12, price: 5, timestamp: Self.date), now: Self.date.addingTimeInterval(1))
        record.apply(GameStateUpdate(gameID: "g", tick: 11, price: 1, timestamp: Self.date), now: Self.date.addingTimeInterval(2))
        record.apply(GameStateUpdate(gameID: "g", tick: 8, price: 1.5, timestamp: Self.date), now: Self.date.addingTimeInterval(3))
        #expect(record.startTick == 8)
        #expect(record.endTick == 12)
        #expect(record.finalPrice == 5)  // the price at the highest tick, not the last arrival
        #expect(record.peakPrice == 5)
        #expect(record.peakTick == 12)
        #expect(record.durationTicks == 13)  // ticks 0 to 12, though the first seen was 8
        #expect(record.firstTickSeen == 8)
        #expect(record.createdAt == Self.date)
        #expect(record.updatedAt == Self.date.addingTimeInterval(3))
    }
}

@Suite("GameSummary")
struct GameSummaryTests {
    static let date = Date(timeIntervalSince1970: TestSupport.newYear2026)

    @Test func summarisesPredictionsAndSideBets() throws {
        let game = GameRecord(first: GameStateUpdate(gameID: "g", tick: 0, price: 1, timestamp: Self.date), now: Self.date)
        let predictions = [(10, 100), (20, 150), (30, 190), (40, 260)].map { at, end in
            Prediction(gameID: "g", predictedAtTick: at, predictedEndTick: end, confidence: 0.5,
                       timestamp: Self.date, createdAt: Self.date).resolved(actualEndTick: 200)
        }
        let sideBets = [(100, Recommendation.bet), (170, .bet), (180, .skip)].map { at, recommendation in
            SideBet(gameID: "g", placedAtTick: at, probability: 0.2, expectedValue: 0, confidence: 0.5,
                    recommendation: recommendation, timestamp: Self.date, createdAt: Self.date)
                .resolved(actualEndTick: 200, windowTicks: 40, payoutMultiplier: 5)
        }
        let summary = GameSummary(game: game, predictions: predictions, sideBets: sideBets)
        // Raw errors: -100, -50, -10, +60 → e40 -2.5, -1.25, -0.25, 1.5.
        #expect(summary.predictionCount == 4)
        #expect(summary.withinOneWindow == 1)
        #expect(summary.accuracy == 0.25)
        #expect(summary.meanE40 == (-2.5 - 1.25 - 0.25 + 1.5) / 4)
        #expect(summary.medianE40 == -0.75)
        #expect(summary.meanAbsoluteError == 55)
        // The SKIP at 180 would have won, but only placed bets count as results.
        #expect(summary.sideBetsWon == 1)
        #expect(summary.sideBetsLost == 1)
        #expect(summary.lastPrediction?.predictedAtTick == 40)
    }

    @Test func emptySummary() {
        let game = GameRecord(first: GameStateUpdate(gameID: "g", tick: 0, price: 1, timestamp: Self.date), now: Self.date)
        let summary = GameSummary(game: game, predictions: [], sideBets: [])
        #expect(summary.predictionCount == 0)
        #expect(summary.accuracy == nil)
        #expect(summary.meanE40 == nil)
        #expect(summary.medianE40 == nil)
        #expect(summary.meanAbsoluteError == nil)
        #expect(summary.lastPrediction == nil)
        #expect(summary.sideBetsWon == 0 && summary.sideBetsLost == 0)
    }
}
