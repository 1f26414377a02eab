import Foundation
import Testing
@testable import TEDCore

/// Games that end without a rug seen: closed by another game, or by a silent feed.
@Suite("GameTracker: inferred ends")
struct InferredEndTests {
    typealias F = TrackerFixtures

    @Test func aGameClosedByAnotherGameHasAnInferredEndAndSoDoItsOutcomes() throws {
        var tracker = F.tracker()
        _ = tracker.run("g1", ticks: 0...50)
        _ = tracker.applying(.prediction(F.prediction("g1", at: 10, end: 60)))
        _ = tracker.applying(.sideBet(F.sideBet("g1", at: 20)))
        let output = tracker.run("g2", ticks: [0])
        let game = try #require(output.games.first { $0.gameID == "g1" })
        #expect(game.ended && !game.rugged && game.endInferred)
        #expect(output.predictions.map(\.endInferred) == [true])
        #expect(output.sideBets.map(\.endInferred) == [true])
        // Late records are resolved against the inferred end too.
        #expect(tracker.applying(.prediction(F.prediction("g1", at: 30, end: 60))).predictions.first?.endInferred == true)
        #expect(tracker.applying(.sideBet(F.sideBet("g1", at: 30))).sideBets.first?.endInferred == true)
        // Its summary counts no accuracy and no won or lost bet.
        let summary = try #require(output.finishedGames.first)
        #expect(summary.predictionCount == 1 && summary.withinOneWindow == 1)
        #expect(summary.accuracy == nil)
        #expect(summary.sideBetsWon == 0 && summary.sideBetsLost == 0)
    }

    @Test func aSeenRugIsNotInferred() throws {
        var tracker = F.tracker()
        _ = tracker.run("g1", ticks: 0...10)
        _ = tracker.applying(.prediction(F.prediction("g1", at: 5, end: 20)))
        let output = tracker.run("g1", ticks: [11], ruggedAt: 11)
        #expect(output.games.last?.endInferred == false)
        #expect(output.predictions.map(\.endInferred) == [false])
        #expect(output.finishedGames.first?.accuracy == 1)
    }

    @Test func aSilentGameIsEndedOnlyOnceItsFeedIsIdleLongEnough() throws {
        var tracker = F.tracker()
        _ = tracker.run("g1", ticks: 0...8)  // the last update at F.at(8)
        _ = tracker.applying(.sideBet(F.sideBet("g1", at: 5)))
        var output = TrackerOutput()
        #expect(tracker.endIdleGame(silentSince: F.at(8).addingTimeInterval(-0.001), now: F.at(100), into: &output) == nil)
        #expect(output.recordCount == 0)
        #expect(tracker.currentGame?.gameID == "g1")
        #expect(tracker.endIdleGame(silentSince: F.at(8), now: F.at(100), into: &output) == "g1")
        let game = try #require(output.games.last)
        #expect(game.endInferred && game.endTick == 8)
        #expect(output.sideBets.first?.endInferred == true)
        #expect(tracker.currentGame == nil && tracker.currentGameLastUpdate == nil)
        // Nothing left to end.
        var again = TrackerOutput()
        #expect(tracker.endIdleGame(silentSince: F.at(1000), now: F.at(1000), into: &again) == nil)
    }
}
