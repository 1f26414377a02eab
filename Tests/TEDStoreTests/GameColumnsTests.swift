import Foundation
import Logging
import Testing
import TEDCore
@testable import TEDStore

/// `games` in SQLite's column layout (`SQLiteRecordColumns.games`, `migrations/sqlite/0006_game_columns.json`): every
/// row reads back as the document written, versions merge monotonically over the columns, the game reads use them,
/// and a database written by an older ted converts in place and back.
@Suite struct GameColumnsTests {
    static let when = PredictionColumnsTests.when

    static func game(_ id: String, end: Int, ended: Bool = false, rugged: Bool = false, accuracy: Double? = nil,
                     at minutes: Double = 0) -> GameRecord {
        GameRecord(gameID: id, startTick: 0, endTick: end, peakPrice: 2.5, peakTick: end / 2, finalPrice: 0.01,
                   ended: ended, rugged: rugged, hadPredictions: accuracy != nil, predictionCount: accuracy == nil ? 0 : 4,
                   predictionAccuracy: accuracy, sideBetsPlaced: 1, createdAt: when.addingTimeInterval(minutes * 60),
                   updatedAt: when.addingTimeInterval(minutes * 60 + 1), ticksSeen: max(end, 0))
    }

    /// Games as the service writes them: running, rugged, ended without a seen rug, one with no tick yet (a NaN
    /// completeness, which a REAL column cannot hold: its row keeps the whole document).
    static let games: [GameRecord] = [
        game("a", end: 10), game("b", end: 200, ended: true, rugged: true, accuracy: 0.75, at: 1),
        game("c \"ü\"", end: 50, ended: true, at: 2), game("d", end: -1, at: 3),
    ]

    static func wholeDocuments(_ store: SQLiteStore) async throws -> [String] {
        try await store.connection.run { database throws(StoreError) in
            try database.rows(#"SELECT _id FROM "games" WHERE document IS NOT NULL ORDER BY _id"#) { $0.text(0) ?? "" }
        }
    }

    static func columns(_ store: SQLiteStore) async throws -> [String] {
        try await store.connection.run { database throws(StoreError) in
            try database.rows("SELECT name FROM pragma_table_info('games')") { $0.text(0) ?? "" }
        }
    }

    @Test func recordsReadBackMergeAndServeTheGameReads() async throws {
        let store = try PredictionColumnsTests.makeStore()
        #expect(try await store.write(Self.games.map(StoreRecord.game), to: .games) == Self.games.map { _ in .stored })
        let stored = try await store.find(.games, where: .all, sort: DocumentSort("_id"), limit: nil)
        #expect(try PredictionColumnsTests.text(stored) == PredictionColumnsTests.text(PredictionColumnsTests.sorted(Self.games.map(\.document))))
        #expect(try await Self.wholeDocuments(store) == ["d"])
        #expect(try await Self.columns(store) == ["_id"] + SQLiteRecordColumns.games.columns.map(\.field) + ["document"])

        // A later version of "a" (ended, seen rug) merges into the row; an older one changes nothing.
        let later = Self.game("a", end: 90, ended: true, rugged: true, at: 0)
        #expect(try await store.write([.game(later), .game(Self.games[0])], to: .games) == [.stored, .stored])
        #expect(try await store.storedGame("a") == Self.games[0].merged(with: later).document)

        #expect(try await store.latestGames(limit: 2, before: nil).map { $0["_id"] } == [.string("d"), .string(Self.games[2].id)])
        #expect(try await store.count(.games, where: .equals("ended", .bool(true))) == 3)
        #expect(try await store.count(.games, where: .equals("prediction_accuracy", .double(0.75))) == 1)
        #expect(try await store.expiredCount(in: .games, before: Self.when.addingTimeInterval(61)) == 2)
        await store.close()
    }

    /// Versions 0001 to 0005 applied, and `games` as ted kept it then (its table, its index and each row's `doc`).
    @Test func anOldDatabaseConvertsInPlaceAndBack() async throws {
        let documents = Self.games.map(\.document) + [["_id": "legacy-1", "game_id": "legacy-1", "end_tick": "?"] as Document]
        let store = try PredictionColumnsTests.makeStore()
        let runner = try SQLiteLayoutMigrationTests.runner(store)
        try await runner.migrate(to: 5)
        let rows = try documents.map { document -> [SQLiteValue] in
            [.text(document["_id"]!.stringValue!), document["created_at"]?.dateValue.map { .int(Int64(($0.timeIntervalSince1970 * 1000).rounded())) } ?? .null,
             .text(String(decoding: try DocumentJSON.encode(document), as: UTF8.self))]
        }
        try await store.connection.run { database throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                try database.execute(#"DROP TABLE "games""#)
                try database.execute(#"CREATE TABLE "games" (_id TEXT PRIMARY KEY NOT NULL, created_at INTEGER, doc TEXT NOT NULL)"#)
                try database.execute(#"CREATE INDEX "games__created_at_1" ON "games" (created_at ASC)"#)
                for row in rows { try database.execute(#"INSERT INTO "games" (_id, created_at, doc) VALUES (?1, ?2, ?3)"#, row) }
            }
        }
        let late = Self.game("late", end: 5)
        let error = await #expect(throws: StoreError.self) { try await store.write([.game(late)], to: .games) }
        #expect(error?.isRetryable == true && error?.message.contains("ted migrate") == true)

        let labels = SQLiteLayoutMigrationTests.layoutLabels(from: "0006_game_columns")
        #expect(try await runner.up().applied.map(\.label) == labels)
        #expect(try await Self.columns(store) == ["_id"] + SQLiteRecordColumns.games.columns.map(\.field) + ["document"])
        let stored = try await store.find(.games, where: .all, sort: DocumentSort("_id"), limit: nil)
        #expect(try PredictionColumnsTests.text(stored) == PredictionColumnsTests.text(PredictionColumnsTests.sorted(documents)))
        #expect(try await Self.wholeDocuments(store) == ["d", "legacy-1"])
        #expect(try await store.write([.game(late)], to: .games) == [.stored])

        #expect(try await runner.down(steps: labels.count).reverted.map(\.label) == labels.reversed())
        #expect(try await Self.columns(store) == ["_id", "created_at", "doc"])
        let docs = try await store.connection.run { database throws(StoreError) in
            try database.rows(#"SELECT doc FROM "games" WHERE _id != 'late' ORDER BY _id"#) { $0.text(0) ?? "" }
        }
        #expect(docs == (try PredictionColumnsTests.text(PredictionColumnsTests.sorted(documents))))
        #expect(try await runner.up().applied.count == labels.count)
        await store.close()
    }
}
