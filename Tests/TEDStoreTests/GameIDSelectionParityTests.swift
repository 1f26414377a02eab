import Foundation
import Logging
import Testing
import TEDCore
@testable import TEDStore

/// Documents restored from an older database (TED-V1's, or written by hand) that SQLite's columns cannot hold keep
/// their whole document there; every public path that selects by `game_id` (export's `--game`, a game's detail, and
/// outcome resolution, which reads the same way) selects them as MongoDB does: a `game_id` string matches only a
/// `game_id` string, so a numeric `game_id` is found by neither store, and a string one is found in both even when
/// the rest of the document does not fit the columns.
@Suite struct GameIDSelectionParityTests {
    static let when = Date(timeIntervalSince1970: 1_767_225_600)

    static let ticks: [Document] = [
        ["_id": "v1-number", "game_id": .int64(5), "tick": .int32(1), "price": .double(1.5), "timestamp": .date(when), "created_at": .date(when)],
        ["_id": "v1-string", "game_id": "5", "tick": .double(2), "price": .double(1.6), "timestamp": .date(when), "created_at": .date(when),
         "source": "ted-v1"],
        ["_id": "5:0000000003", "game_id": "5", "tick": .int64(3), "price": .double(1.7), "timestamp": .date(when), "created_at": .date(when)],
    ]
    static let predictions: [Document] = [
        ["_id": "p-number", "game_id": .int64(5), "predicted_at_tick": .int64(1), "model_version": "v1", "created_at": .date(when)],
        ["_id": "p-string", "game_id": "5", "predicted_at_tick": .int64(2), "model_version": "v1", "created_at": .date(when)],
    ]
    static let game: Document = ["_id": "5", "game_id": "5", "end_tick": "unknown", "created_at": .date(when)]

    @Test(arguments: PortStores.Backend.allCases)
    func aGameIDSelectsTheSameRestoredDocumentsInBothStores(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        try await MigrationRunner(store: store, migrations: try MigrationFiles.embedded.load()).up()
        #expect(try await store.restoreDocuments(Self.ticks, into: .tickSamples) == 3)
        #expect(try await store.restoreDocuments(Self.predictions, into: .predictions) == 2)
        #expect(try await store.restoreDocuments([Self.game], into: .games) == 1)

        let selection = DocumentSelection(gameID: "5")
        let exported = try await store.documentPage(of: .tickSamples, matching: selection, afterID: nil, limit: 10)
        #expect(exported.compactMap { $0["_id"]?.stringValue } == ["5:0000000003", "v1-string"])
        #expect(exported.last == Self.ticks[1], "the document kept whole comes back as restored")
        #expect(try await store.documentCount(of: .tickSamples, matching: selection) == 2)
        #expect(try await store.documentCount(of: .predictions, matching: selection) == 1)

        let detail = try #require(try await store.storedGameDetail("5"))
        #expect(detail.game == Self.game)
        #expect(detail.predictions == [Self.predictions[1]])
        await store.close()
    }

    /// Outcome resolution selects a game's predictions the same way: the restored one with a string `game_id` (kept
    /// whole in SQLite: it carries a field no prediction has) is resolved in both stores, the numeric one in neither,
    /// and the fields only the restored documents have survive the rewrite (as MongoDB's `$set` keeps them).
    @Test(arguments: PortStores.Backend.allCases)
    func outcomeResolutionSelectsTheSameRestoredPredictionsInBothStores(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        try await MigrationRunner(store: store, migrations: try MigrationFiles.embedded.load()).up()
        let game = GameRecord(gameID: "7", startTick: 0, endTick: 90, peakPrice: 2, peakTick: 45, finalPrice: 0, ended: true,
                              rugged: true, hadPredictions: false, predictionCount: 0, predictionAccuracy: nil,
                              sideBetsPlaced: 0, createdAt: Self.when, updatedAt: Self.when)
        var restored = PredictionColumnsTests.prediction(1, game: "7").document
        restored.append("source", "ted-v1")
        var numeric = PredictionColumnsTests.prediction(2, game: "7").document
        numeric["game_id"] = .int64(7)
        var gameDocument = game.document
        gameDocument.append("legacy_id", "65f0c0ffee0000000000abcd")
        #expect(try await store.restoreDocuments([gameDocument], into: .games) == 1)
        #expect(try await store.restoreDocuments([restored, numeric], into: .predictions) == 2)

        try await store.resolveOutcomes(ofGames: ["7"], rules: OutcomeRules())
        let after = try await store.documentPage(of: .predictions, matching: .all, afterID: nil, limit: 10)
        let byID = Dictionary(uniqueKeysWithValues: after.map { ($0["_id"]!.stringValue!, $0) })
        let resolved = try #require(byID[restored["_id"]!.stringValue!])
        #expect(resolved["resolved"] == .bool(true))
        #expect(resolved["actual_end_tick"]?.intValue == 90)
        #expect(resolved["source"] == .string("ted-v1"), "a field the record does not know survives the resolution")
        #expect(byID[numeric["_id"]!.stringValue!] == numeric, "a numeric game_id is not this game's")
        let stored = try #require(try await store.storedGame("7"))
        #expect(stored["prediction_count"]?.intValue == 1)
        #expect(stored["legacy_id"] == .string("65f0c0ffee0000000000abcd"))
        await store.close()
    }

    /// A later version of a restored game (the game running at a cut-over goes on) merges into it, keeping the
    /// fields only the restored document has, in both stores.
    @Test(arguments: PortStores.Backend.allCases)
    func aMergeIntoARestoredGameKeepsItsOtherFields(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        try await MigrationRunner(store: store, migrations: try MigrationFiles.embedded.load()).up()
        let first = GameRecord(gameID: "8", startTick: 0, endTick: 40, peakPrice: 1.8, peakTick: 20, finalPrice: 1.2,
                               ended: false, rugged: false, hadPredictions: false, predictionCount: 0, predictionAccuracy: nil,
                               sideBetsPlaced: 0, createdAt: Self.when, updatedAt: Self.when)
        var restored = first.document
        restored.append("legacy_id", "65f0c0ffee0000000000abcd")
        #expect(try await store.restoreDocuments([restored], into: .games) == 1)

        var later = first
        later.endTick = 90
        later.updatedAt = Self.when.addingTimeInterval(60)
        #expect(try await store.write([.game(later)], to: .games) == [.stored])
        let stored = try #require(try await store.storedGame("8"))
        #expect(stored["end_tick"]?.intValue == 90)
        #expect(stored["legacy_id"] == .string("65f0c0ffee0000000000abcd"))
        await store.close()
    }
}
