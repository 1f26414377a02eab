import Foundation
import Logging
import Testing
import TEDCore
@testable import TEDStore

/// The record writes on both real stores: merges that commute, each record's own fate, outcomes resolved in the store.
@Suite struct RecordWriteTests {
    enum Backend: CaseIterable, Sendable { case mongodb, sqlite }

    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let logger = Logger(label: "test")

    func makeStore(_ backend: Backend) throws -> any DocumentStore {
        switch backend {
        case .mongodb: try MongoStore(url: TestEnvironment.mongoURL(), database: TestEnvironment.uniqueDatabaseName(), logger: logger)
        case .sqlite: try SQLiteStore(path: TestEnvironment.temporaryDirectory().appendingPathComponent("ted.sqlite").path, logger: logger)
        }
    }

    static func game(start: Int, end: Int, peak: (Double, Int), final: Double, ended: Bool = false, at seconds: Double) -> GameRecord {
        GameRecord(gameID: "g", startTick: start, endTick: end, peakPrice: peak.0, peakTick: peak.1, finalPrice: final,
                   ended: ended, rugged: ended, hadPredictions: false, predictionCount: 0, predictionAccuracy: nil,
                   sideBetsPlaced: 0, createdAt: t0.addingTimeInterval(seconds), updatedAt: t0.addingTimeInterval(seconds))
    }

    static func prediction(_ tick: Int, end: Int = 100) -> Prediction {
        Prediction(gameID: "g", predictedAtTick: tick, predictedEndTick: end, confidence: 0.5, modelVersion: "m", timestamp: t0, createdAt: t0)
    }

    static func sideBet(_ tick: Int, _ recommendation: Recommendation = .bet) -> SideBet {
        SideBet(gameID: "g", placedAtTick: tick, probability: 0.3, expectedValue: 0.2, confidence: 0.5,
                recommendation: recommendation, timestamp: t0, createdAt: t0)
    }

    func storedGame(_ store: any DocumentStore) async throws -> GameRecord {
        let document = try #require(try await store.storedGame("g"))
        guard case .game(let game) = try StoreRecord(document: document, collection: .games) else { throw StoreError(.corrupt, "not a game") }
        #expect(document["duration_ticks"]?.intValue == game.endTick + 1)
        #expect(document["first_tick_seen"]?.intValue == game.startTick)
        #expect(document["completeness"]?.doubleValue == game.completeness)
        return game
    }

    @Test(arguments: Backend.allCases)
    func gameVersionsInAnyOrderMergeToTheSameGame(_ backend: Backend) async throws {
        // The first half (flushed before a restart) and the second half (a new process saw only it) of one game.
        var versions = [
            Self.game(start: 0, end: 10, peak: (3.5, 7), final: 2.0, at: 10),
            Self.game(start: 0, end: 20, peak: (3.5, 7), final: 1.5, at: 20),
            Self.game(start: 15, end: 40, peak: (2.5, 30), final: 0.2, ended: true, at: 40),
        ]
        // Ticks each process saw: the larger count survives (a lower bound of all seen).
        versions[0].ticksSeen = 11
        versions[1].ticksSeen = 21
        versions[2].ticksSeen = 26
        let expected = versions.dropFirst().reduce(versions[0]) { $0.merged(with: $1) }
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]] {
            let store = try makeStore(backend)
            for index in order {
                #expect(try await store.write([.game(versions[index])], to: .games) == [.stored])
            }
            #expect(try await storedGame(store) == expected, "order \(order)")
            await store.close()
        }
        #expect(expected.startTick == 0 && expected.endTick == 40 && expected.peakPrice == 3.5 && expected.peakTick == 7)
        #expect(expected.ticksSeen == 26 && expected.completeness == 26.0 / 41)
    }

    @Test(arguments: Backend.allCases)
    func aSeenRugWinsOverAnInferredEndInAnyOrder(_ backend: Backend) async throws {
        var inferred = Self.game(start: 0, end: 30, peak: (2, 3), final: 1, ended: true, at: 10)
        inferred.rugged = false
        let rugged = Self.game(start: 0, end: 31, peak: (2, 3), final: 0.1, ended: true, at: 20)
        let open = Self.game(start: 0, end: 20, peak: (2, 3), final: 1.5, at: 5)
        for (order, expected) in [([open, inferred], true), ([inferred, open], true), ([inferred, rugged], false), ([rugged, inferred], false)] {
            let store = try makeStore(backend)
            for version in order { _ = try await store.write([.game(version)], to: .games) }
            let document = try #require(try await store.storedGame("g"))
            #expect(document["end_inferred"]?.boolValue == expected, "\(order.map(\.endTick))")
            #expect(try await storedGame(store).endInferred == expected)
            await store.close()
        }
    }

    @Test(arguments: Backend.allCases)
    func outcomesOfAnInferredEndAreMarkedInTheStore(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        _ = try await store.write([.prediction(Self.prediction(5, end: 100))], to: .predictions)
        _ = try await store.write([.sideBet(Self.sideBet(5))], to: .sideBets)
        var inferred = Self.game(start: 0, end: 80, peak: (2, 3), final: 0.1, ended: true, at: 2)
        inferred.rugged = false
        _ = try await store.write([.game(inferred)], to: .games)
        try await store.resolveOutcomes(ofGames: ["g"], rules: OutcomeRules())
        let prediction = try #require(try await store.documents.find(.predictions, where: .all, sort: nil, limit: nil).first)
        #expect(prediction["actual_end_tick"]?.intValue == 80)
        #expect(prediction["end_inferred"]?.boolValue == true)
        let sideBet = try #require(try await store.documents.find(.sideBets, where: .all, sort: nil, limit: nil).first)
        #expect(sideBet["actual_outcome"]?.stringValue == "LOST")
        #expect(sideBet["end_inferred"]?.boolValue == true)
        guard case .prediction(let decoded) = try StoreRecord(document: prediction, collection: .predictions) else { return }
        #expect(decoded.endInferred)
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func inferredEndsStayOutOfTheHourlyFiguresUnlessIncluded(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        let rules = OutcomeRules()
        let seen = Self.game(start: 0, end: 80, peak: (2, 3), final: 0.1, ended: true, at: 2)
        var inferred = seen
        inferred.gameID = "h"
        inferred.rugged = false
        _ = try await store.write([.game(seen), .game(inferred)], to: .games)
        // One exact prediction and one winning BET on each game.
        var other = Self.prediction(5, end: 80)
        other.gameID = "h"
        var otherBet = Self.sideBet(50)
        otherBet.gameID = "h"
        _ = try await store.write([.prediction(Self.prediction(5, end: 80)), .prediction(other)], to: .predictions)
        _ = try await store.write([.sideBet(Self.sideBet(50)), .sideBet(otherBet)], to: .sideBets)
        try await store.resolveOutcomes(ofGames: ["g", "h"], rules: rules)
        let start = Self.t0.addingTimeInterval(-3600), end = Self.t0.addingTimeInterval(3600)
        let figures = try await store.aggregateHour(start: start, end: end)
        #expect(figures.gamesAnalyzed == 1)
        #expect(figures.predictionsResolved == 1)
        #expect(figures.betsWon == 1)
        #expect(figures.netPayout == 4)
        let all = try await store.aggregateHour(start: start, end: end, includeInferred: true)
        #expect(all.gamesAnalyzed == 2)
        #expect(all.predictionsResolved == 2)
        #expect(all.betsWon == 2)
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func anOlderVersionNeverUnresolvesAnOutcome(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        let placed = Self.prediction(5)
        let bet = Self.sideBet(5)
        #expect(try await store.write([.prediction(placed.resolved(actualEndTick: 60))], to: .predictions) == [.stored])
        #expect(try await store.write([.prediction(placed)], to: .predictions) == [.stored])
        #expect(try await store.write([.sideBet(bet.resolved(actualEndTick: 30, windowTicks: 40, payoutMultiplier: 5))], to: .sideBets) == [.stored])
        #expect(try await store.write([.sideBet(bet)], to: .sideBets) == [.stored])
        let prediction = try #require(try await store.documents.find(.predictions, where: .all, sort: nil, limit: nil).first)
        #expect(prediction["resolved"]?.boolValue == true)
        #expect(prediction["actual_end_tick"]?.intValue == 60)
        #expect(prediction.value(at: "error_metrics.raw_error")?.intValue == 40)
        let sideBet = try #require(try await store.documents.find(.sideBets, where: .all, sort: nil, limit: nil).first)
        #expect(sideBet["actual_outcome"]?.stringValue == "WON")
        #expect(sideBet["payout"]?.doubleValue == 4)
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func aDuplicateOnAnotherUniqueIndexIsRefusedAloneAndAnIDDuplicateIsAlreadyStored(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        // An index another program left: unique on price.
        try await store.schema.createIndex(IndexSpec(name: "price_unique", keys: [("price", 1)], unique: true), on: .tickSamples)
        let samples = (0..<5).map { tick in
            StoreRecord.tickSample(TickSample(gameID: "g", tick: tick, price: tick == 3 ? 1.0 : Double(tick) + 1,
                                              features: nil, timestamp: Self.t0, createdAt: Self.t0))
        }
        let fates = try await store.write(samples, to: .tickSamples)
        #expect(fates.filter { $0 == .stored }.count == 4)
        guard case .refused(let error) = fates[3] else {
            Issue.record("tick 3 duplicates tick 0's price on a foreign unique index: expected refused, got \(fates[3])")
            return
        }
        #expect(!error.isRetryable)
        let again = try await store.write([samples[1]], to: .tickSamples)
        #expect(again == [.alreadyStored])
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 4)
        await store.close()
    }

    /// The pending queue does not fold a repeated tick sample (`CollectionName.recordsHaveVersions`): both versions
    /// can reach the store in one batch, and the repeat is "already stored", not an error.
    @Test(arguments: Backend.allCases)
    func aTickSampleTwiceInOneBatchIsStoredOnceAndAlreadyStoredOnce(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        let samples = [1, 1, 2].map { tick in
            StoreRecord.tickSample(TickSample(gameID: "g", tick: tick, price: Double(tick), features: nil,
                                              timestamp: Self.t0, createdAt: Self.t0))
        }
        #expect(try await store.write(samples, to: .tickSamples) == [.stored, .alreadyStored, .stored])
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 2)
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func outcomesStoredBeforeTheEndAreResolvedInTheStore(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        let rules = OutcomeRules(sideBetWindowTicks: 40, sideBetPayoutMultiplier: 5)
        // Stored unresolved, as a process killed before the rug left them.
        _ = try await store.write([.prediction(Self.prediction(5, end: 100)), .prediction(Self.prediction(10, end: 300)),
                                   .prediction(Self.prediction(15, end: 120))], to: .predictions)
        _ = try await store.write([.sideBet(Self.sideBet(5)), .sideBet(Self.sideBet(50)), .sideBet(Self.sideBet(55, .skip)),
                                  .sideBet(Self.sideBet(80)), .sideBet(Self.sideBet(85, .skip))], to: .sideBets)
        // A not yet ended game resolves nothing.
        _ = try await store.write([.game(Self.game(start: 0, end: 30, peak: (2, 3), final: 1, at: 1))], to: .games)
        try await store.resolveOutcomes(ofGames: ["g"], rules: rules)
        #expect(try await store.documents.count(.predictions, where: .equals("resolved", .bool(true))) == 0)

        _ = try await store.write([.game(Self.game(start: 20, end: 80, peak: (2, 3), final: 0.1, ended: true, at: 2))], to: .games)
        try await store.resolveOutcomes(ofGames: ["g"], rules: rules)
        try await store.resolveOutcomes(ofGames: ["g"], rules: rules)  // idempotent

        let predictions = try await store.documents.find(.predictions, where: .all, sort: DocumentSort("predicted_at_tick"), limit: nil)
        #expect(predictions.map { $0["actual_end_tick"]?.intValue } == [80, 80, 80])
        #expect(predictions.map { $0.value(at: "error_metrics.raw_error")?.intValue } == [20, 220, 40])
        #expect(predictions.map { $0.value(at: "error_metrics.e40")?.doubleValue } == [0.5, 5.5, 1])
        #expect(predictions.map { $0.value(at: "error_metrics.absolute_error")?.intValue } == [20, 220, 40])
        // The smallest k with |raw| ≤ 40·k: exactly 40 is within 1 window, as the accuracy counts it.
        #expect(predictions.map { $0.value(at: "error_metrics.within_windows")?.intValue } == [1, 6, 1])
        let sideBets = try await store.documents.find(.sideBets, where: .all, sort: DocumentSort("placed_at_tick"), limit: nil)
        // Placed at or after the rug (tick 80): VOID, a BET's payout 0.
        #expect(sideBets.map { $0["actual_outcome"]?.stringValue } == ["LOST", "WON", "WON", "VOID", "VOID"])
        #expect(sideBets.map { $0["payout"]?.doubleValue } == [-1, 4, nil, 0, nil])
        // Counters from what is stored: 3 predictions, 2 within one window, 3 BETs.
        let game = try await storedGame(store)
        #expect(game.predictionCount == 3)
        #expect(game.predictionAccuracy == 2.0 / 3.0)
        #expect(game.sideBetsPlaced == 3)
        #expect(game.startTick == 0)
        await store.close()
    }
}
