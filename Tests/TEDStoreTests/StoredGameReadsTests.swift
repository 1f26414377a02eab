import Foundation
import Testing
import TEDCore
@testable import TEDStore

/// The stored games port (`StoredGameReads`) on both real stores, written through the record writes.
@Suite struct StoredGameReadsTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func game(_ id: String, at seconds: Double) -> GameRecord {
        GameRecord(gameID: id, startTick: 0, endTick: 80, peakPrice: 2, peakTick: 3, finalPrice: 0.1, ended: true, rugged: true,
                   hadPredictions: false, predictionCount: 0, predictionAccuracy: nil, sideBetsPlaced: 0,
                   createdAt: t0.addingTimeInterval(seconds), updatedAt: t0.addingTimeInterval(seconds))
    }

    static func prediction(_ game: String, _ tick: Int) -> Prediction {
        Prediction(gameID: game, predictedAtTick: tick, predictedEndTick: 100, confidence: 0.5, modelVersion: "m", timestamp: t0,
                   createdAt: t0)
    }

    static func sideBet(_ game: String, _ tick: Int) -> SideBet {
        SideBet(gameID: game, placedAtTick: tick, probability: 0.3, expectedValue: 0.2, confidence: 0.5, recommendation: .bet,
                timestamp: t0, createdAt: t0)
    }

    @Test(arguments: PortStores.Backend.allCases)
    func gamesArePagedNewestFirstBeforeADate(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        #expect(try await store.latestGames(limit: 10, before: nil) == [], "no collection yet")
        let games = [Self.game("b", at: 20), Self.game("a", at: 30), Self.game("c", at: 10)]
        _ = try await store.write(games.map(StoreRecord.game), to: .games)
        func ids(_ documents: [Document]) -> [String?] { documents.map { $0["_id"]?.stringValue } }
        #expect(ids(try await store.latestGames(limit: 10, before: nil)) == ["a", "b", "c"])
        #expect(ids(try await store.latestGames(limit: 2, before: nil)) == ["a", "b"])
        #expect(ids(try await store.latestGames(limit: 10, before: Self.t0.addingTimeInterval(30))) == ["b", "c"])
        #expect(try await store.latestGames(limit: 0, before: nil) == [])
        #expect(try await store.latestGames(limit: 1, before: nil).first.map { try StoreRecord(document: $0, collection: .games) }
                == .game(games[1]), "the stored document reads back as the record written")
        await store.close()
    }

    @Test(arguments: PortStores.Backend.allCases)
    func aGameComesWithItsOwnPredictionsAndSideBetsByTick(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        #expect(try await store.storedGameDetail("g") == nil, "no collection yet")
        _ = try await store.write([.game(Self.game("g", at: 0)), .game(Self.game("h", at: 0))], to: .games)
        let predictions = [Self.prediction("g", 30), Self.prediction("g", 5), Self.prediction("h", 1), Self.prediction("g", 12)]
        _ = try await store.write(predictions.map(StoreRecord.prediction), to: .predictions)
        _ = try await store.write([.sideBet(Self.sideBet("g", 40)), .sideBet(Self.sideBet("g", 8))], to: .sideBets)
        try await store.resolveOutcomes(ofGames: ["g"], rules: OutcomeRules())
        let detail = try #require(try await store.storedGameDetail("g"))
        #expect(detail.game["_id"] == "g")
        #expect(detail.game["prediction_count"]?.intValue == 3, "the counters the store resolved")
        #expect(detail.predictions.map { $0["predicted_at_tick"]?.intValue } == [5, 12, 30])
        #expect(detail.predictions.allSatisfy { $0["resolved"] == true && $0["actual_end_tick"]?.intValue == 80 })
        #expect(detail.sideBets.map { $0["placed_at_tick"]?.intValue } == [8, 40])
        #expect(try await store.storedGame("g") == detail.game)
        #expect(try await store.storedGameDetail("h")?.sideBets == [])
        #expect(try await store.storedGame("absent") == nil)
        #expect(try await store.storedGameDetail("absent") == nil)
        await store.close()
    }

    @Test(arguments: PortStores.Backend.allCases)
    func documentsComeBackAsStoredWithFieldsNoRecordCarries(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        // A game TED-V1 left (adopted: `_id` = game_id, its old ObjectId kept as `legacy_id`), without this service's
        // derived fields, and a prediction of it still under its old id.
        let game: Document = ["_id": "v1", "game_id": "v1", "legacy_id": "5f1d7a3b9c8e4a2b1c0d9e8f", "start_tick": 0,
                              "end_tick": 60, "created_at": .date(Self.t0)]
        _ = try await store.documents.insert([game], into: .games)
        let prediction: Document = ["_id": "5f1d7a3b9c8e4a2b1c0d9e90", "game_id": "v1", "predicted_at_tick": 3]
        _ = try await store.documents.insert([prediction], into: .predictions)
        #expect(try await store.storedGame("v1") == game)
        #expect(try await store.latestGames(limit: 5, before: nil) == [game])
        #expect(try await store.storedGameDetail("v1") == StoredGameDetail(game: game, predictions: [prediction], sideBets: []))
        await store.close()
    }
}
