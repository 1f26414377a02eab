import Foundation
import Testing
@testable import TEDCore

@Suite struct FeedGeneratorTests {
    /// Events of `games` whole games.
    static func games(_ games: Int, seed: UInt64) -> [FeedGenerator.Event] {
        var generator = FeedGenerator(seed: seed)
        var events: [FeedGenerator.Event] = []
        while generator.gamesFinished < games { events += generator.nextTick() }
        return events
    }

    @Test func theSameSeedGivesTheSameFeed() {
        let a = Self.games(5, seed: 42)
        let b = Self.games(5, seed: 42)
        #expect(a == b)
        #expect(a.map(\.json.serializedString) == b.map(\.json.serializedString))
        let c = Self.games(5, seed: 43)
        #expect(a != c)
    }

    @Test func theRandomStreamIsFixed() {
        // Pinned so a change to the generator (and with it every seeded feed) is noticed.
        var random = Xoshiro256StarStar(seed: 0)
        let first = (0..<3).map { _ in random.next() }
        var again = Xoshiro256StarStar(seed: 0)
        #expect(first == (0..<3).map { _ in again.next() })
        #expect(Set(first).count == 3)
        var uniform = Xoshiro256StarStar(seed: 7)
        for _ in 0..<10_000 {
            let u = uniform.nextDouble()
            #expect(u >= 0 && u < 1)
        }
    }

    @Test func everyEventPassesValidationOnBothEndpoints() throws {
        let events = Self.games(20, seed: 2026)
        let decoder = EventDecoder()
        let receivedAt = Date()
        // As one JSON array, the way `ted simulate --as-fast-as-possible` batches them (NDJSON carries the same objects).
        let array = JSONValue.array(events.map(\.json))
        guard case .array(let parsed) = try JSONParser.parse(array.serialized) else { Issue.record("not an array"); return }
        let decoded = try decoder.decodeEvents(parsed, receivedAt: receivedAt)
        #expect(decoded.count == events.count)
        for (event, ingest) in zip(events, decoded) {
            switch (event, ingest) {
            case (.gameState(let e), .gameState(let d)):
                #expect(d.gameID == e.gameID && d.tick == e.tick && d.price == e.price && d.rugged == e.rugged)
                #expect(d.timestamp == e.timestamp)
            case (.prediction(let e), .prediction(let d)):
                #expect(d.predictedEndTick == e.predictedEndTick && d.modelVersion == e.modelVersion)
                #expect(d.predictedEndTick > d.predictedAtTick)
            case (.sideBet(let e), .sideBet(let d)):
                #expect(d.placedAtTick == e.placedAtTick && d.probability == e.probability)
                #expect(d.recommendation == (e.recommendation == "BET" ? .bet : .skip))
            default:
                Issue.record("decoded \(ingest.kind) for \(event)")
            }
        }
        // NDJSON.
        let ndjson = events.map(\.json.serializedString).joined(separator: "\n")
        let lines = try IngestBody.events(from: Array(ndjson.utf8), ndjson: true, maxEvents: 1_000_000)
        #expect(try decoder.decodeEvents(lines, receivedAt: receivedAt).count == events.count)
        // The raw rugs.fun shape of /api/game-state.
        let states = events.compactMap(\.rugsGameStateJSON)
        #expect(states.count == events.filter { if case .gameState = $0 { true } else { false } }.count)
        for (index, state) in states.enumerated() {
            let reparsed = try JSONParser.parse(state.serialized)
            _ = try decoder.decodeRugsGameState(reparsed, index: index, receivedAt: receivedAt)
        }
    }

    @Test func everyGameEndsWithOneRuggedTickAndTicksRunInOrder() {
        let events = Self.games(30, seed: 9)
        var states: [String: [FeedGenerator.GameState]] = [:]
        var order: [String] = []
        for case .gameState(let state) in events {
            if states[state.gameID] == nil { order.append(state.gameID) }
            states[state.gameID, default: []].append(state)
        }
        #expect(order.count == 30)
        #expect(Set(order).count == 30)
        for id in order {
            let ticks = states[id]!
            #expect(ticks.map(\.tick) == Array(0..<ticks.count), "game \(id) skips or repeats a tick")
            #expect(ticks.last!.rugged && !ticks.last!.active)
            #expect(ticks.dropLast().allSatisfy { !$0.rugged && $0.active })
            #expect(ticks.allSatisfy { $0.price >= 0 })
        }
        // Nothing of a game follows its rug: the events of the games do not interleave.
        var seen: Set<String> = []
        var previous: String?
        for event in events where event.gameID != previous {
            #expect(!seen.contains(event.gameID), "game \(event.gameID) resumes after another game")
            seen.insert(event.gameID)
            previous = event.gameID
        }
    }

    @Test func predictionsComeEveryTickButTheRugAndEstimateTheRugTick() {
        let events = Self.games(30, seed: 11)
        var rugTick: [String: Int] = [:]
        var stateTicks: [String: Int] = [:]
        var predictions: [FeedGenerator.PredictionSignal] = []
        for event in events {
            switch event {
            case .gameState(let s):
                stateTicks[s.gameID, default: 0] += 1
                if s.rugged { rugTick[s.gameID] = s.tick }
            case .prediction(let p): predictions.append(p)
            case .sideBet: break
            }
        }
        #expect(predictions.count == stateTicks.values.reduce(0, +) - 30)
        var absoluteErrors: [Double] = []
        for p in predictions {
            #expect((0...1).contains(p.confidence))
            #expect(p.lower <= p.upper)
            absoluteErrors.append(Double(abs(p.predictedEndTick - rugTick[p.gameID]!)))
        }
        // A noisy estimate, not a guess: the median error is well under the mean game length.
        let median = absoluteErrors.sorted()[absoluteErrors.count / 2]
        let meanLength = Double(rugTick.values.reduce(0, +)) / Double(rugTick.count)
        #expect(median < meanLength / 2)
    }

    @Test func sideBetsRespectTheCooldownAndTheirExpectedValue() {
        var configuration = FeedGenerator.Configuration(seed: 5)
        configuration.sideBetChancePerTick = 1  // a signal as soon as the cooldown allows
        var generator = FeedGenerator(configuration: configuration)
        var bets: [FeedGenerator.SideBetSignal] = []
        while generator.gamesFinished < 40 {
            for case .sideBet(let bet) in generator.nextTick() { bets.append(bet) }
        }
        #expect(!bets.isEmpty)
        let byGame = Dictionary(grouping: bets, by: \.gameID)
        for (_, gameBets) in byGame {
            let ticks = gameBets.map(\.placedAtTick)
            #expect(ticks == ticks.sorted())
            #expect(ticks.first! >= configuration.firstSideBetTick)
            for (a, b) in zip(ticks, ticks.dropFirst()) {
                #expect(b - a >= configuration.sideBetCooldownTicks, "side bets at \(a) and \(b)")
            }
        }
        for bet in bets {
            #expect((0...1).contains(bet.probability) && (0...1).contains(bet.confidence))
            #expect(abs(bet.expectedValue - (bet.probability * 5 - 1)) < 1e-3)
            #expect(bet.recommendation == (bet.expectedValue > 0 ? "BET" : "SKIP"))
        }
        #expect(Set(bets.map(\.recommendation)) == ["BET", "SKIP"])
    }

    @Test func gameLengthsFollowTheHazard() {
        var generator = FeedGenerator(seed: 123)
        var lengths: [Int] = []
        var ticks = 0
        while lengths.count < 400 {
            let events = generator.nextTick()
            ticks += 1
            if case .gameState(let s) = events[0], s.rugged {
                lengths.append(s.tick)
            }
        }
        // h(t) = 0.005 + 0.00002·t gives a mean length near 140 ticks.
        let mean = Double(lengths.reduce(0, +)) / Double(lengths.count)
        #expect((100...190).contains(mean), "mean game length \(mean)")
        #expect(lengths.allSatisfy { $0 >= 1 && $0 <= generator.configuration.maxGameTicks })
        #expect(generator.ticksGenerated == ticks)
    }

    @Test func theWindowProbabilityMatchesTheHazard() {
        let generator = FeedGenerator(seed: 1)
        let p = generator.rugProbabilityWithinWindow(afterTick: 0)
        var survival = 1.0
        for t in 1...39 { survival *= 1 - (0.005 + 0.00002 * Double(t)) }
        #expect(abs(p - (1 - survival)) < 1e-12)
        #expect(generator.rugProbabilityWithinWindow(afterTick: 4_990) == 1)
    }
}
