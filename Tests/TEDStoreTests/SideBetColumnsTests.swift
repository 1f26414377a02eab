import Foundation
import Logging
import Testing
import TEDCore
@testable import TEDStore

/// `side_bets` in SQLite's column layout (`SQLiteRecordColumns.sideBets`, `migrations/sqlite/0005_side_bet_columns.json`):
/// every row reads back as the document written, the merge keeps facts and only sets outcomes, filters work over the
/// columns, and a database written by an older ted converts in place and back.
@Suite struct SideBetColumnsTests {
    static let when = PredictionColumnsTests.when

    static func sideBet(_ i: Int, game: String = "g", _ recommendation: Recommendation = .bet) -> SideBet {
        SideBet(gameID: game, placedAtTick: i, probability: Double(i) / 10, expectedValue: Double(i) / 4 - 1,
                confidence: 0.5, recommendation: recommendation, timestamp: when.addingTimeInterval(Double(i)),
                createdAt: when.addingTimeInterval(Double(i) * 60))
    }

    /// Side bets as the service writes them: won, lost, void, skipped, unresolved.
    static let sideBets: [SideBet] = [
        sideBet(0), sideBet(1).resolved(actualEndTick: 20, windowTicks: 40, payoutMultiplier: 5),
        sideBet(2).resolved(actualEndTick: 300, windowTicks: 40, payoutMultiplier: 5, endInferred: true),
        sideBet(3, game: "gäme \"q\"").resolved(actualEndTick: 3, windowTicks: 40, payoutMultiplier: 5),
        sideBet(4, .skip).resolved(actualEndTick: 20, windowTicks: 40, payoutMultiplier: 5), sideBet(5, .wait),
    ]

    /// Side bets the columns cannot hold exactly (a REAL column reads NaN as NULL and -0.0 as 0.0).
    static let unusual: [SideBet] = {
        var nan = sideBet(6)
        nan.probability = .nan
        var negativeZero = sideBet(7)
        negativeZero.expectedValue = -0.0
        return [nan, negativeZero]
    }()

    static func wholeDocuments(_ store: SQLiteStore) async throws -> [String] {
        try await store.connection.run { database throws(StoreError) in
            try database.rows(#"SELECT _id FROM "side_bets" WHERE document IS NOT NULL ORDER BY _id"#) { $0.text(0) ?? "" }
        }
    }

    static func columns(_ store: SQLiteStore) async throws -> [String] {
        try await store.connection.run { database throws(StoreError) in
            try database.rows("SELECT name FROM pragma_table_info('side_bets')") { $0.text(0) ?? "" }
        }
    }

    @Test func recordsReadBackAsTheirDocumentsAndFiltersUseTheColumns() async throws {
        let store = try PredictionColumnsTests.makeStore()
        let all = Self.sideBets + Self.unusual
        #expect(try await store.write(all.map(StoreRecord.sideBet), to: .sideBets) == all.map { _ in .stored })
        let odd: Document = ["_id": "old-1", "game_id": "legacy", "recommendation": .int64(1), "payout": .int64(4)]
        #expect(try await store.insert([odd], into: .sideBets) == WriteOutcome(written: 1))
        let stored = try await store.find(.sideBets, where: .all, sort: DocumentSort("_id"), limit: nil)
        #expect(try PredictionColumnsTests.text(stored) == PredictionColumnsTests.text(PredictionColumnsTests.sorted(all.map(\.document) + [odd])))
        #expect(try await Self.wholeDocuments(store) == (Self.unusual.map(\.id) + ["old-1"]).sorted())
        #expect(try await Self.columns(store) == ["_id"] + SQLiteRecordColumns.sideBets.columns.map(\.field) + ["document"])

        #expect(try await store.count(.sideBets, where: .equals("recommendation", "BET")) == 6)
        #expect(try await store.count(.sideBets, where: .equals("actual_outcome", "WON")) == 2, "a skipped bet is resolved too")
        #expect(try await store.count(.sideBets, where: .equals("actual_outcome", "VOID")) == 1)
        #expect(try await store.count(.sideBets, where: .equals("resolved", .bool(true))) == 4)
        #expect(try await store.count(.sideBets, where: .equals("payout", .double(-1))) == 1)
        #expect(try await store.count(.sideBets, where: .equals("payout", .null)) == 5, "null matches a null field")
        #expect(try await store.count(.sideBets, where: .equals("payout", .int64(4))) == 2, "numbers compare across types")
        #expect(try await store.count(.sideBets, where: .equals("end_inferred", .bool(true))) == 1)
        let sorted = try await store.find(.sideBets, where: .equals("game_id", "g"), sort: DocumentSort("placed_at_tick", ascending: false), limit: 1)
        #expect(sorted.map { $0["_id"] } == [.string(Self.unusual[1].id)])
        await store.close()
    }

    /// Facts are inserted once, an outcome is only ever set: an older unresolved version and a later other outcome
    /// change nothing.
    @Test func theMergeSetsOutcomesAndKeepsFacts() async throws {
        let store = try PredictionColumnsTests.makeStore()
        let first = Self.sideBet(8)
        #expect(try await store.write([.sideBet(first)], to: .sideBets) == [.stored])
        var otherFacts = first
        otherFacts.probability = 0.99
        let resolved = otherFacts.resolved(actualEndTick: 20, windowTicks: 40, payoutMultiplier: 5)
        #expect(try await store.write([.sideBet(resolved)], to: .sideBets) == [.stored])
        let expected = first.merged(with: resolved)
        #expect(expected.actualOutcome == .won && expected.probability == first.probability)
        #expect(try await store.find(.sideBets, where: .ids([first.id]), sort: nil, limit: nil) == [expected.document])
        let later = first.resolved(actualEndTick: 900, windowTicks: 40, payoutMultiplier: 5)
        #expect(try await store.write([.sideBet(first), .sideBet(later)], to: .sideBets) == [.stored, .stored])
        #expect(try await store.find(.sideBets, where: .ids([first.id]), sort: nil, limit: nil) == [expected.document])
        #expect(try await Self.wholeDocuments(store).isEmpty)
        await store.close()
    }

    /// Versions 0001 to 0004 applied, and `side_bets` as ted kept it then (its table, its indexes and each row's `doc`).
    @Test func anOldDatabaseConvertsInPlaceAndBack() async throws {
        let documents = (Self.sideBets + Self.unusual).map(\.document)
            + [["_id": "legacy-1", "game_id": "g", "payout": "lots", "source": "ted-v1"] as Document]
        let store = try PredictionColumnsTests.makeStore()
        let runner = try SQLiteLayoutMigrationTests.runner(store)
        try await runner.migrate(to: 4)
        let rows = try documents.map { document -> [SQLiteValue] in
            [.text(document["_id"]!.stringValue!), document["created_at"]?.dateValue.map { .int(Int64(($0.timeIntervalSince1970 * 1000).rounded())) } ?? .null,
             .text(String(decoding: try DocumentJSON.encode(document), as: UTF8.self))]
        }
        try await store.connection.run { database throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                try database.execute(#"DROP TABLE "side_bets""#)
                try database.execute(#"CREATE TABLE "side_bets" (_id TEXT PRIMARY KEY NOT NULL, created_at INTEGER, doc TEXT NOT NULL)"#)
                try database.execute(#"CREATE INDEX "side_bets__game_id_1" ON "side_bets" (json_extract(doc, '$.game_id') ASC)"#)
                for row in rows { try database.execute(#"INSERT INTO "side_bets" (_id, created_at, doc) VALUES (?1, ?2, ?3)"#, row) }
            }
        }
        let late = Self.sideBet(20)
        let error = await #expect(throws: StoreError.self) { try await store.write([.sideBet(late)], to: .sideBets) }
        #expect(error?.isRetryable == true && error?.message.contains("ted migrate") == true)

        let labels = SQLiteLayoutMigrationTests.layoutLabels(from: "0005_side_bet_columns")
        #expect(try await runner.up().applied.map(\.label) == labels)
        #expect(try await Self.columns(store) == ["_id"] + SQLiteRecordColumns.sideBets.columns.map(\.field) + ["document"])
        let stored = try await store.find(.sideBets, where: .all, sort: DocumentSort("_id"), limit: nil)
        #expect(try PredictionColumnsTests.text(stored) == PredictionColumnsTests.text(PredictionColumnsTests.sorted(documents)))
        #expect(try await Self.wholeDocuments(store) == (["legacy-1"] + Self.unusual.map(\.id)).sorted())
        #expect(try await store.write([.sideBet(late)], to: .sideBets) == [.stored])
        #expect(try await store.count(.sideBets, where: .equals("game_id", "g")) == documents.count)

        #expect(try await runner.down(steps: labels.count).reverted.map(\.label) == labels.reversed())
        #expect(try await Self.columns(store) == ["_id", "created_at", "doc"])
        let docs = try await store.connection.run { database throws(StoreError) in
            try database.rows(#"SELECT doc FROM "side_bets" WHERE _id != ?1 ORDER BY _id"#, [.text(late.id)]) { $0.text(0) ?? "" }
        }
        #expect(docs == (try PredictionColumnsTests.text(PredictionColumnsTests.sorted(documents))))
        #expect(try await runner.up().applied.count == labels.count)
        await store.close()
    }
}
