import Foundation
import Testing
@testable import TEDCore

@Suite("GameTracker: predictions and side bets")
struct GameTrackerOutcomeTests {
    typealias F = TrackerFixtures

    @Test func predictionIsResolvedWhenTheGameEnds() throws {
        var tracker = F.tracker()
        _ = tracker.run("g1", ticks: 0...100)
        let pending = tracker.applying(.prediction(F.prediction("g1", at: 100, end: 250)), now: F.at(100))
        let unresolved = try #require(pending.predictions.first)
        #expect(pending.predictions.count == 1)
        #expect(unresolved.actualEndTick == nil)
        #expect(unresolved.errorMetrics == nil)
        #expect(pending.games.first?.hadPredictions == true)
        #expect(pending.games.first?.predictionCount == 1)

        let output = tracker.run("g1", ticks: 101...200, ruggedAt: 200)
        let resolved = try #require(output.predictions.first)
        #expect(output.predictions.count == 1)
        #expect(resolved.id == unresolved.id)
        #expect(resolved.actualEndTick == 200)
        let metrics = try #require(resolved.errorMetrics)
        #expect(metrics.rawError == 50)
        #expect(metrics.e40 == 1.25)
        #expect(metrics.absoluteError == 50)
        #expect(metrics.withinWindows == 2)
        #expect(output.games.last?.predictionAccuracy == 0)
    }

    @Test func earlyPredictionMetrics() throws {
        var tracker = F.tracker()
        _ = tracker.run("g1", ticks: 0...10)
        _ = tracker.applying(.prediction(F.prediction("g1", at: 10, end: 100)))
        let output = tracker.run("g1", ticks: 11...217, ruggedAt: 217)
        let metrics = try #require(output.predictions.first?.errorMetrics)
        #expect(metrics.rawError == -117)
        #expect(metrics.e40 == -2.925)
        #expect(metrics.absoluteError == 117)
        #expect(metrics.withinWindows == 3)
    }

    @Test func accuracyIsTheShareWithinOneWindow() throws {
        var tracker = F.tracker()
        _ = tracker.run("g1", ticks: 0...50)
        // Actual end: 300. Raw errors: -40 (in), +40 (in), 0 (in), +41 (out), -41 (out).
        for (index, end) in [260, 340, 300, 341, 259].enumerated() {
            _ = tracker.applying(.prediction(F.prediction("g1", at: 10 * index, end: end)))
        }
        let output = tracker.run("g1", ticks: 51...300, ruggedAt: 300)
        let game = try #require(output.games.last)
        #expect(game.predictionCount == 5)
        #expect(game.hadPredictions)
        #expect(game.predictionAccuracy == 3.0 / 5.0)
        let summary = try #require(output.finishedGames.first)
        #expect(summary.predictionCount == 5)
        #expect(summary.withinOneWindow == 3)
        #expect(summary.accuracy == 0.6)
        #expect(summary.lastPrediction?.predictedAtTick == 40)
        #expect(summary.meanAbsoluteError == Double(40 + 40 + 0 + 41 + 41) / 5)
        #expect(summary.medianE40 == 0)
        // Sorted by tick, all resolved.
        #expect(output.predictions.map(\.predictedAtTick) == [0, 10, 20, 30, 40])
        #expect(output.predictions.allSatisfy { $0.actualEndTick == 300 })
        #expect(output.predictions.map { $0.errorMetrics!.rawError } == [-40, 40, 0, 41, -41])
    }

    @Test func gameWithoutPredictionsHasNoAccuracy() throws {
        var tracker = F.tracker()
        let output = tracker.run("g1", ticks: 0...10, ruggedAt: 10)
        #expect(output.games.last?.predictionAccuracy == nil)
        #expect(output.games.last?.hadPredictions == false)
        #expect(output.finishedGames.first?.accuracy == nil)
    }

    @Test func resentPredictionCountsOnce() throws {
        var tracker = F.tracker()
        _ = tracker.run("g1", ticks: 0...10)
        _ = tracker.applying(.prediction(F.prediction("g1", at: 10, end: 50)))
        _ = tracker.applying(.prediction(F.prediction("g1", at: 10, end: 60)))  // same id: replaces
        _ = tracker.applying(.prediction(F.prediction("g1", at: 10, end: 60, model: "m2")))  // another model
        let output = tracker.run("g1", ticks: [20], ruggedAt: 20)
        #expect(output.games.last?.predictionCount == 2)
        #expect(output.predictions.count == 2)
        #expect(output.predictions.map(\.predictedEndTick) == [60, 60])
    }

    @Test func predictionBeforeTheFirstUpdateWaits() throws {
        var tracker = F.tracker()
        let early = tracker.applying(.prediction(F.prediction("g1", at: 0, end: 90)))
        #expect(early.predictions.count == 1)
        #expect(early.predictions.first?.isResolved == false)
        #expect(early.games.isEmpty)
        let earlyBet = tracker.applying(.sideBet(F.sideBet("g1", at: 0)))
        #expect(earlyBet.sideBets.first?.isResolved == false)
        #expect(earlyBet.games.isEmpty)

        let start = tracker.run("g1", ticks: [0])
        let game = try #require(start.games.first)
        #expect(game.hadPredictions)
        #expect(game.predictionCount == 1)
        #expect(game.sideBetsPlaced == 1)
        #expect(start.predictions.isEmpty)

        let end = tracker.run("g1", ticks: 1...100, ruggedAt: 100)
        let prediction = try #require(end.predictions.first)
        #expect(prediction.actualEndTick == 100)
        #expect(prediction.errorMetrics == PredictionErrorMetrics(predictedEndTick: 90, actualEndTick: 100))
        #expect(prediction.errorMetrics?.rawError == -10)
        #expect(end.games.last?.predictionAccuracy == 1)
        let sideBet = try #require(end.sideBets.first)
        #expect(sideBet.actualOutcome == .lost)  // window [0, 39], ended at 100
        #expect(sideBet.payout == -1)
    }

    @Test func predictionForTheNextGameWaitsWhileAnotherRuns() throws {
        var tracker = F.tracker()
        _ = tracker.run("g1", ticks: 0...10)
        _ = tracker.applying(.prediction(F.prediction("g2", at: 0, end: 30)))
        let g1End = tracker.run("g1", ticks: [11], ruggedAt: 11)
        #expect(g1End.predictions.isEmpty)
        #expect(g1End.games.last?.predictionCount == 0)
        _ = tracker.run("g2", ticks: 0...29)
        let g2End = tracker.run("g3", ticks: [0])  // g2 ends at 29 when g3 starts
        #expect(g2End.predictions.map(\.actualEndTick) == [29])
        #expect(g2End.predictions.first?.errorMetrics?.rawError == 1)
        #expect(g2End.games.first { $0.gameID == "g2" }?.predictionAccuracy == 1)
    }

    @Test func latePredictionIsResolvedAtOnce() throws {
        var tracker = F.tracker()
        _ = tracker.run("g1", ticks: 0...10)
        _ = tracker.applying(.prediction(F.prediction("g1", at: 5, end: 150)))  // raw +50: out
        _ = tracker.run("g1", ticks: 11...100, ruggedAt: 100)

        let late = tracker.applying(.prediction(F.prediction("g1", at: 90, end: 130)), now: F.at(500))
        let prediction = try #require(late.predictions.first)
        #expect(late.predictions.count == 1)
        #expect(prediction.actualEndTick == 100)
        #expect(prediction.errorMetrics?.rawError == 30)
        #expect(prediction.errorMetrics?.e40 == 0.75)
        #expect(prediction.errorMetrics?.withinWindows == 1)
        let game = try #require(late.games.first)
        #expect(game.ended)
        #expect(game.predictionCount == 2)
        #expect(game.predictionAccuracy == 0.5)
        #expect(game.updatedAt == F.at(500))
        #expect(late.finishedGames.isEmpty)
    }

    @Test func latePredictionForAGameWithoutPredictions() throws {
        var tracker = F.tracker()
        _ = tracker.run("g1", ticks: 0...40, ruggedAt: 40)
        let late = tracker.applying(.prediction(F.prediction("g1", at: 0, end: 40)))
        let game = try #require(late.games.first)
        #expect(game.hadPredictions)
        #expect(game.predictionCount == 1)
        #expect(game.predictionAccuracy == 1)
    }

    @Test func resentLatePredictionCountsOnce() throws {
        var tracker = F.tracker()
        _ = tracker.run("g1", ticks: 0...10)
        _ = tracker.applying(.prediction(F.prediction("g1", at: 5, end: 10)))
        _ = tracker.run("g1", ticks: [100], ruggedAt: 100)
        // The same prediction again (a relay retry), then a new one twice.
        _ = tracker.applying(.prediction(F.prediction("g1", at: 5, end: 10)))
        _ = tracker.applying(.prediction(F.prediction("g1", at: 50, end: 100)))
        let output = tracker.applying(.prediction(F.prediction("g1", at: 50, end: 100)))
        #expect(output.predictions.first?.actualEndTick == 100)
        let game = try #require(output.games.first)
        #expect(game.predictionCount == 2)
        #expect(game.predictionAccuracy == 0.5)
    }

    @Test func resentLatePredictionReplacesItsEarlierVersion() throws {
        var tracker = F.tracker()
        _ = tracker.run("g1", ticks: 0...10)
        _ = tracker.applying(.prediction(F.prediction("g1", at: 5, end: 100)))  // within
        _ = tracker.run("g1", ticks: [100], ruggedAt: 100)
        var output = tracker.applying(.prediction(F.prediction("g1", at: 5, end: 300)))  // same id, now out
        #expect(output.predictions.first?.errorMetrics?.rawError == 200)
        #expect(output.games.first?.predictionCount == 1)
        #expect(output.games.first?.predictionAccuracy == 0)
        output = tracker.applying(.prediction(F.prediction("g1", at: 5, end: 90)))  // and back in
        #expect(output.games.first?.predictionCount == 1)
        #expect(output.games.first?.predictionAccuracy == 1)
    }

    @Test func resentLateSideBetWithAnotherRecommendation() throws {
        var tracker = F.tracker()
        _ = tracker.run("g1", ticks: 0...10)
        _ = tracker.applying(.sideBet(F.sideBet("g1", at: 5, .skip)))
        _ = tracker.run("g1", ticks: [30], ruggedAt: 30)
        var output = tracker.applying(.sideBet(F.sideBet("g1", at: 5, .bet)))
        #expect(output.sideBets.first?.payout == 4)
        #expect(output.games.first?.sideBetsPlaced == 1)
        output = tracker.applying(.sideBet(F.sideBet("g1", at: 5, .wait)))
        #expect(output.sideBets.first?.payout == nil)
        #expect(output.games.first?.sideBetsPlaced == 0)
    }

    @Test(arguments: [
        // (placed at, game ends at, expected)
        (100, 139, SideBetResult.won),  // last tick of the window
        (100, 140, .lost),              // first tick after it
        (100, 101, .won),               // first tick of the window
        (100, 120, .won),
        (100, 400, .lost),
        (0, 39, .won),
        (0, 40, .lost),
        (100, 100, .void),              // placed at the rug tick: betting had closed
        (100, 50, .void),               // placed after the rug
    ])
    func sideBetWindowEdge(_ placedAt: Int, _ endTick: Int, _ expected: SideBetResult) throws {
        var tracker = F.tracker()
        let first = min(placedAt, endTick)
        _ = tracker.run("g1", ticks: [0, first])
        _ = tracker.applying(.sideBet(F.sideBet("g1", at: placedAt)))
        let output = tracker.run("g1", ticks: [endTick], ruggedAt: endTick)
        let sideBet = try #require(output.sideBets.first)
        #expect(sideBet.actualEndTick == endTick)
        #expect(sideBet.actualOutcome == expected)
        #expect(sideBet.payout == [.won: 4, .lost: -1, .void: 0][expected])
        #expect(output.finishedGames.first?.sideBetsWon == (expected == .won ? 1 : 0))
        #expect(output.finishedGames.first?.sideBetsLost == (expected == .lost ? 1 : 0))
    }

    @Test func sideBetWindowFollowsTheRules() throws {
        var tracker = F.tracker(window: 10, multiplier: 3.5)
        _ = tracker.run("g1", ticks: 0...20)
        _ = tracker.applying(.sideBet(F.sideBet("g1", at: 20)))
        _ = tracker.applying(.sideBet(F.sideBet("g1", at: 19)))
        let output = tracker.run("g1", ticks: [29], ruggedAt: 29)
        #expect(output.sideBets.map(\.placedAtTick) == [19, 20])
        #expect(output.sideBets.map(\.actualOutcome) == [.lost, .won])
        #expect(output.sideBets.map(\.payout) == [-1, 2.5])
    }

    @Test func payoutsOnlyForBets() throws {
        var tracker = F.tracker()
        _ = tracker.run("g1", ticks: 0...100)
        _ = tracker.applying(.sideBet(F.sideBet("g1", at: 80, .bet)))
        _ = tracker.applying(.sideBet(F.sideBet("g1", at: 90, .skip)))
        _ = tracker.applying(.sideBet(F.sideBet("g1", at: 95, .wait)))
        let pending = tracker.applying(.sideBet(F.sideBet("g1", at: 10, .bet)))
        #expect(pending.games.first?.sideBetsPlaced == 2)
        let output = tracker.run("g1", ticks: [110], ruggedAt: 110)
        let byTick = Dictionary(uniqueKeysWithValues: output.sideBets.map { ($0.placedAtTick, $0) })
        #expect(byTick[10]?.actualOutcome == .lost)
        #expect(byTick[10]?.payout == -1)
        #expect(byTick[80]?.actualOutcome == .won)
        #expect(byTick[80]?.payout == 4)
        #expect(byTick[90]?.actualOutcome == .won)
        #expect(byTick[90]?.payout == nil)
        #expect(byTick[95]?.actualOutcome == .won)
        #expect(byTick[95]?.payout == nil)
        #expect(output.games.last?.sideBetsPlaced == 2)
        // Only the two BETs are results: the SKIP and WAIT that would have won are not counted.
        #expect(output.finishedGames.first?.sideBetsWon == 1)
        #expect(output.finishedGames.first?.sideBetsLost == 1)
    }

    @Test func lateSideBetIsResolvedAtOnce() throws {
        var tracker = F.tracker()
        _ = tracker.run("g1", ticks: 0...60, ruggedAt: 60)
        let won = tracker.applying(.sideBet(F.sideBet("g1", at: 21)), now: F.at(900))
        #expect(won.sideBets.first?.actualOutcome == .won)  // 60 <= 21 + 39
        #expect(won.sideBets.first?.payout == 4)
        #expect(won.sideBets.first?.actualEndTick == 60)
        #expect(won.games.first?.sideBetsPlaced == 1)
        #expect(won.games.first?.updatedAt == F.at(900))
        let lost = tracker.applying(.sideBet(F.sideBet("g1", at: 20)))
        #expect(lost.sideBets.first?.actualOutcome == .lost)  // 60 > 20 + 39
        #expect(lost.sideBets.first?.payout == -1)
        let skipped = tracker.applying(.sideBet(F.sideBet("g1", at: 30, .skip)))
        #expect(skipped.sideBets.first?.actualOutcome == .won)
        #expect(skipped.sideBets.first?.payout == nil)
    }

    @Test func sideBetsPlacedAfterTheRugAreVoidWithoutPayout() throws {
        var tracker = F.tracker()
        _ = tracker.run("g1", ticks: 0...60, ruggedAt: 60)
        let bet = tracker.applying(.sideBet(F.sideBet("g1", at: 61)))
        #expect(bet.sideBets.first?.actualOutcome == .void)
        #expect(bet.sideBets.first?.payout == 0)
        let skip = tracker.applying(.sideBet(F.sideBet("g1", at: 60, .skip)))
        #expect(skip.sideBets.first?.actualOutcome == .void)
        #expect(skip.sideBets.first?.payout == nil)
        // In the summary a VOID BET is neither won nor lost.
        let summary = GameSummary(game: try #require(bet.games.first), predictions: [], sideBets: bet.sideBets)
        #expect(summary.sideBetsWon == 0 && summary.sideBetsLost == 0)
    }

    @Test func resentLateSideBetCountsOnce() throws {
        var tracker = F.tracker()
        _ = tracker.run("g1", ticks: 0...10)
        _ = tracker.applying(.sideBet(F.sideBet("g1", at: 5)))
        _ = tracker.applying(.sideBet(F.sideBet("g1", at: 5)))  // retry while open: one bet
        _ = tracker.run("g1", ticks: [30], ruggedAt: 30)
        _ = tracker.applying(.sideBet(F.sideBet("g1", at: 5)))  // retry after the end
        let output = tracker.applying(.sideBet(F.sideBet("g1", at: 6)))
        #expect(output.sideBets.first?.actualOutcome == .won)
        #expect(output.games.first?.sideBetsPlaced == 2)
    }

    @Test func resolvedEventsKeepTheirFields() throws {
        var tracker = F.tracker()
        _ = tracker.run("g1", ticks: 0...10)
        let prediction = F.prediction("g1", at: 7, end: 77, model: "lstm-3")
        let sideBet = F.sideBet("g1", at: 8, .bet)
        _ = tracker.applying(.prediction(prediction))
        _ = tracker.applying(.sideBet(sideBet))
        let output = tracker.run("g1", ticks: [77], ruggedAt: 77)
        #expect(output.predictions == [prediction.resolved(actualEndTick: 77)])
        #expect(output.predictions.first?.modelVersion == "lstm-3")
        #expect(output.predictions.first?.createdAt == prediction.createdAt)
        #expect(output.sideBets == [sideBet.resolved(actualEndTick: 77, windowTicks: 40, payoutMultiplier: 5)])
    }

    @Test func openGamesWithoutUpdatesAreBounded() {
        var tracker = F.tracker()
        _ = tracker.run("live", ticks: 0...5)
        for index in 0..<(GameTracker.maxOpenGames + 10) {
            _ = tracker.applying(.prediction(F.prediction("future-\(index)", at: 0, end: 10)))
        }
        #expect(tracker.forgottenOpenGames == 11)  // 64 open at most, the running game included
        #expect(tracker.currentGame?.gameID == "live")
        // The running game was not forgotten: it still ends with its record.
        let output = tracker.run("live", ticks: [6], ruggedAt: 6)
        #expect(output.finishedGames.map(\.game.gameID) == ["live"])
    }
}
