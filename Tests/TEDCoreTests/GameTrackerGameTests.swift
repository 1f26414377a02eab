import Foundation
import Testing
@testable import TEDCore

@Suite("GameTracker: games and tick samples")
struct GameTrackerGameTests {
    typealias F = TrackerFixtures

    @Test func gameStartsAtItsFirstUpdate() throws {
        var tracker = F.tracker()
        #expect(tracker.currentGame == nil)
        let output = tracker.applying(.gameState(F.state("g1", 5, 1.0)), now: F.at(5))
        #expect(output.games.count == 1)
        let game = try #require(output.games.first)
        #expect(game.gameID == "g1")
        #expect(game.startTick == 5)
        #expect(game.endTick == 5)
        #expect(game.peakPrice == 1.0)
        #expect(game.peakTick == 5)
        #expect(game.finalPrice == 1.0)
        #expect(!game.ended)
        #expect(!game.rugged)
        #expect(!game.hadPredictions)
        #expect(game.predictionCount == 0)
        #expect(game.predictionAccuracy == nil)
        #expect(game.createdAt == F.at(5))
        #expect(tracker.currentGame?.gameID == "g1")
        #expect(output.finishedGames.isEmpty)
    }

    @Test func peakTracksTheMaximum() throws {
        var tracker = F.tracker()
        var output = TrackerOutput()
        let prices: [(Int, Double)] = [(0, 1.0), (1, 1.5), (2, 3.25), (3, 2.0), (4, 3.25), (5, 0.4)]
        for (tick, price) in prices {
            tracker.apply(F.state("g1", tick, price), now: F.at(tick), into: &output)
        }
        let game = try #require(output.games.last)
        #expect(output.games.count == 1)  // one entry per game per output
        #expect(game.peakPrice == 3.25)
        #expect(game.peakTick == 2)  // the first time the peak was reached
        #expect(game.finalPrice == 0.4)
        #expect(game.endTick == 5)
        #expect(game.createdAt == F.at(0))
        #expect(game.updatedAt == F.at(5))
        #expect(tracker.currentGame == game)
    }

    @Test func gameEndsWhenRugged() throws {
        var tracker = F.tracker()
        let output = tracker.run("g1", ticks: 0...120, ruggedAt: 120)
        let game = try #require(output.games.last)
        #expect(game.gameID == "g1")
        #expect(game.ended)
        #expect(game.rugged)
        #expect(game.startTick == 0)
        #expect(game.endTick == 120)
        #expect(game.durationTicks == 121)  // ticks 0 to 120
        #expect(game.ticksSeen == 121 && game.completeness == 1)
        #expect(game.peakTick == 120)
        #expect(output.finishedGames.count == 1)
        #expect(output.finishedGames.first?.game == game)
        #expect(tracker.currentGame == nil)
        #expect(tracker.currentGameID == nil)
    }

    @Test func gameEndsWhenAnotherGameStarts() throws {
        var tracker = F.tracker()
        _ = tracker.run("g1", ticks: 0...75)
        let output = tracker.applying(.gameState(F.state("g2", 0, 1.0)), now: F.at(200))
        #expect(output.games.map(\.gameID) == ["g1", "g2"])
        let ended = output.games[0]
        #expect(ended.ended)
        #expect(!ended.rugged)
        #expect(ended.endTick == 75)  // the last tick seen
        #expect(ended.updatedAt == F.at(200))
        #expect(output.finishedGames.map(\.game.gameID) == ["g1"])
        let started = output.games[1]
        #expect(!started.ended)
        #expect(started.startTick == 0)
        #expect(tracker.currentGame?.gameID == "g2")
    }

    @Test func endTickIsTheHighestTickEvenAfterALateLowerTick() throws {
        var tracker = F.tracker()
        var output = tracker.run("g1", ticks: [0, 1, 2, 10, 4])
        #expect(output.games.last?.endTick == 10)
        #expect(output.games.last?.finalPrice == 1 + 10.0 / 100)
        output = tracker.applying(.gameState(F.state("g2", 0, 1)))
        #expect(output.games.first?.endTick == 10)
    }

    @Test func updatesForAnEndedGameAreIgnored() throws {
        var tracker = F.tracker()
        _ = tracker.run("g1", ticks: 0...50, ruggedAt: 50)
        var output = tracker.run("g1", ticks: 51...53)
        #expect(output.ignoredUpdates == 3)
        #expect(output.games.isEmpty)
        #expect(output.tickSamples.isEmpty)
        #expect(output.finishedGames.isEmpty)
        #expect(tracker.currentGame == nil)

        // A straggler of the previous game does not end the running one.
        _ = tracker.run("g2", ticks: 0...10)
        output = tracker.run("g1", ticks: [54])
        #expect(output.ignoredUpdates == 1)
        #expect(output.recordCount == 0)
        #expect(tracker.currentGame?.gameID == "g2")
        #expect(tracker.currentGame?.ended == false)
    }

    @Test func gameEndedByANewIDIgnoresItsLaterUpdates() {
        var tracker = F.tracker()
        _ = tracker.run("g1", ticks: 0...5)
        _ = tracker.run("g2", ticks: 0...5)
        let output = tracker.run("g1", ticks: [6])
        #expect(output.ignoredUpdates == 1)
        #expect(output.games.isEmpty)
        #expect(tracker.currentGame?.gameID == "g2")
    }

    @Test func everyTickSampledByDefault() {
        var tracker = F.tracker()
        let output = tracker.run("g1", ticks: 0..<10)
        #expect(output.tickSamples.map(\.tick) == Array(0..<10))
        let sample = output.tickSamples[3]
        #expect(sample.gameID == "g1")
        #expect(sample.price == 1 + 3.0 / 100)
        #expect(sample.timestamp == F.at(3))
        #expect(sample.createdAt == F.at(3))
        #expect(sample.id == "g1:3")
    }

    @Test func samplesEveryNTicks() {
        var tracker = F.tracker(sampleEvery: 5)
        let output = tracker.run("g1", ticks: 0...22)
        #expect(output.tickSamples.map(\.tick) == [0, 5, 10, 15, 20])
        #expect(output.ignoredUpdates == 0)
        // Skipped ticks are still applied to the game.
        #expect(output.games.last?.endTick == 22)
    }

    @Test func samplesOnMultiplesEvenWhenTicksAreSkipped() {
        var tracker = F.tracker(sampleEvery: 10)
        let output = tracker.run("g1", ticks: [3, 9, 10, 11, 19, 20, 35, 40])
        #expect(output.tickSamples.map(\.tick) == [10, 20, 40])
    }

    @Test func sampleCarriesFeatures() throws {
        var tracker = F.tracker()
        var update = F.state("g1", 0, 1)
        update.features = JSONObject([(key: "v", value: .double(0.5))])
        let output = tracker.applying(.gameState(update))
        #expect(output.tickSamples.first?.features == update.features)
    }

    @Test func resentTickIsNotSampledTwice() {
        var tracker = F.tracker()
        var output = tracker.run("g1", ticks: [0, 1, 2, 2, 3, 1])
        #expect(output.tickSamples.map(\.tick) == [0, 1, 2, 3])
        #expect(output.ignoredUpdates == 2)
        output = tracker.run("g1", ticks: [3])
        #expect(output.tickSamples.isEmpty)
        #expect(output.ignoredUpdates == 1)
    }

    @Test func aGameJoinedMidGameKnowsHowMuchOfItWasSeen() throws {
        var tracker = F.tracker(sampleEvery: 5)
        let output = tracker.run("g1", ticks: [40, 41, 41, 43, 44, 45, 46, 47, 48, 49], ruggedAt: 49)
        let game = try #require(output.games.last)
        #expect(game.firstTickSeen == 40 && game.startTick == 40)
        #expect(game.ticksSeen == 9)  // the re-sent 41 once; every tick counts, sampled or not
        #expect(game.durationTicks == 50)
        #expect(game.completeness == 9.0 / 50)
    }

    @Test func lateTicksAreSampledOnceLikeAnyOther() {
        var tracker = F.tracker()
        let output = tracker.run("g1", ticks: [0, 3, 1, 2, 3, 1])
        #expect(output.tickSamples.map(\.tick) == [0, 3, 1, 2])
        #expect(output.ignoredUpdates == 2)
        var sampled = F.tracker(sampleEvery: 5)
        #expect(sampled.run("g1", ticks: [0, 12, 5, 10, 7, 5]).tickSamples.map(\.tick) == [0, 5, 10])
    }

    @Test func pastTheBoundOnlyTicksBeyondTheHighestAreNew() {
        var seen = SeenTicks()
        let allNew = (0..<SeenTicks.capacity).allSatisfy { seen.insert($0 * 2, price: 1) }
        #expect(allNew && seen.isFull)
        let unknownBelow = seen.insert(1, price: 1)  // cannot be told from a tick seen past the bound: never sampled twice
        let beyond = seen.insert(SeenTicks.capacity * 2, price: 1)
        let beyondAgain = seen.insert(SeenTicks.capacity * 2, price: 1)
        #expect(!unknownBelow && beyond && !beyondAgain)
        #expect(seen.repeats(0, price: 1) && !seen.repeats(0, price: 2))
    }

    @Test func resentTickIsNotSampledTwiceWithSampling() {
        var tracker = F.tracker(sampleEvery: 5)
        let output = tracker.run("g1", ticks: [0, 5, 5, 6, 5, 10])
        #expect(output.tickSamples.map(\.tick) == [0, 5, 10])
    }

    @Test func ruggedOnTheFirstUpdate() throws {
        var tracker = F.tracker()
        let output = tracker.run("g1", ticks: [0], ruggedAt: 0)
        let game = try #require(output.games.last)
        #expect(game.ended && game.rugged)
        #expect(game.endTick == 0)
        #expect(output.tickSamples.count == 1)
    }

    @Test func manyGamesInSequence() {
        var tracker = F.tracker()
        var finished: [String] = []
        for index in 0..<1100 {
            let output = tracker.run("game-\(index)", ticks: 0...3, ruggedAt: 3)
            finished += output.finishedGames.map(\.game.gameID)
        }
        #expect(finished.count == 1100)
        #expect(finished.last == "game-1099")
    }
}
