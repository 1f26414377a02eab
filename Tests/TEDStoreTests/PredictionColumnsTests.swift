import Foundation
import Logging
import Testing
import TEDCore
@testable import TEDStore

/// `predictions` in SQLite's column layout (`SQLiteRecordColumns`, `migrations/sqlite/0004_prediction_columns.json`):
/// every row reads back as the document written (a prediction from its columns, anything else whole), the merge
/// keeps facts and only sets outcomes, filters work over the columns, and a database written by an older ted converts
/// in place and back.
@Suite struct PredictionColumnsTests {
    static let when = Date(timeIntervalSince1970: 1_767_225_600.25)

    static func prediction(_ i: Int, game: String = "g", model: String = "v1") -> Prediction {
        Prediction(gameID: game, predictedAtTick: i, predictedEndTick: 100 + i, confidence: Double(i) / 10,
                   uncertaintyBounds: i % 2 == 0 ? UncertaintyBounds(lower: 80, upper: 120.5) : nil,
                   featuresUsed: i % 3 == 0 ? nil : JSONObject([("volatility", .double(0.25)), ("n", .int(Int64(i))),
                                                               ("nested", .array([.null, .bool(true)]))]),
                   modelVersion: model, timestamp: when.addingTimeInterval(Double(i)),
                   createdAt: when.addingTimeInterval(Double(i) * 60))
    }

    /// Predictions as the service writes them, resolved and not, with text and numbers that need care.
    static let predictions: [Prediction] = [
        prediction(0), prediction(1).resolved(actualEndTick: 90), prediction(2, model: "2:m%"),
        prediction(3, game: "gäme \"q\" \\ \n").resolved(actualEndTick: 400, endInferred: true),
        prediction(4, model: ""), prediction(5, model: "unknown"),
    ]

    /// Predictions the columns cannot hold exactly (a REAL column reads NaN as NULL and -0.0 as 0.0).
    static let unusual: [Prediction] = {
        var nan = prediction(6)
        nan.confidence = .nan
        var negativeZero = prediction(7)
        negativeZero.confidence = -0.0
        return [nan, negativeZero]
    }()

    static func makeStore(_ path: String? = nil) throws -> SQLiteStore {
        try SQLiteStore(path: path ?? TestEnvironment.temporaryDirectory().appendingPathComponent("ted.sqlite").path,
                        logger: Logger(label: "test"))
    }

    /// NaN is not equal to itself: documents are compared by the text the general writer makes of them.
    static func text(_ documents: [Document]) throws -> [String] {
        try documents.map { String(decoding: try DocumentJSON.encode($0), as: UTF8.self) }
    }

    static func sorted(_ documents: [Document]) -> [Document] {
        documents.sorted { $0["_id"]!.stringValue! < $1["_id"]!.stringValue! }
    }

    static func wholeDocuments(_ store: SQLiteStore) async throws -> [String] {
        try await store.connection.run { database throws(StoreError) in
            try database.rows(#"SELECT _id FROM "predictions" WHERE document IS NOT NULL ORDER BY _id"#) { $0.text(0) ?? "" }
        }
    }

    static func columns(_ store: SQLiteStore) async throws -> [String] {
        try await store.connection.run { database throws(StoreError) in
            try database.rows("SELECT name FROM pragma_table_info('predictions')") { $0.text(0) ?? "" }
        }
    }

    /// The flush's path: each prediction is kept in the columns alone (those a REAL column cannot hold whole), reads
    /// back as its document, and a second write of the same record merges into the stored one, changing nothing.
    @Test func recordsReadBackAsTheirDocuments() async throws {
        let store = try Self.makeStore()
        let all = Self.predictions + Self.unusual
        #expect(try await store.write(all.map(StoreRecord.prediction), to: .predictions) == all.map { _ in .stored })
        #expect(try await store.write([.prediction(Self.predictions[0])], to: .predictions) == [.stored])
        let stored = try await store.find(.predictions, where: .all, sort: DocumentSort("_id"), limit: nil)
        #expect(try Self.text(stored) == Self.text(Self.sorted(all.map(\.document))))
        #expect(try await Self.wholeDocuments(store) == Self.unusual.map(\.id).sorted())
        #expect(try await Self.columns(store) == ["_id"] + SQLiteRecordColumns.predictions.columns.map(\.field) + ["document"])
        await store.close()
    }

    /// Facts are inserted once, an outcome is only ever set: a resolved version resolves the stored row, an older
    /// unresolved one (or one with other facts) changes nothing.
    @Test func theMergeSetsOutcomesAndKeepsFacts() async throws {
        let store = try Self.makeStore()
        let first = Self.prediction(8)
        #expect(try await store.write([.prediction(first)], to: .predictions) == [.stored])
        var otherFacts = first
        otherFacts.confidence = 0.99
        let resolved = otherFacts.resolved(actualEndTick: 150)
        #expect(try await store.write([.prediction(resolved)], to: .predictions) == [.stored])
        let expected = first.resolved(actualEndTick: 150)
        #expect(try await store.find(.predictions, where: .ids([first.id]), sort: nil, limit: nil) == [expected.document])
        #expect(try await store.write([.prediction(first), .prediction(first.resolved(actualEndTick: 10))], to: .predictions)
                == [.stored, .stored])
        #expect(try await store.find(.predictions, where: .ids([first.id]), sort: nil, limit: nil) == [expected.document])
        #expect(try await Self.wholeDocuments(store).isEmpty)
        await store.close()
    }

    /// Generic writes (a restore, a document written by hand): any document reads back unchanged, kept whole, with
    /// its fields in the columns where they have the column's type, so filters, sorts and retention still find it.
    @Test func documentsOfAnyShapeReadBackUnchangedAndFiltersUseTheColumns() async throws {
        let store = try Self.makeStore()
        let odd: [Document] = [
            ["_id": "old-1", "game_id": "legacy", "predicted_at_tick": .int32(3), "confidence": .int64(1),
             "created_at": .date(Self.when), "extra": .array([.bool(true), .null])],
            ["_id": "old-2", "resolved": "yes", "error_metrics": .document(["e40": .double(0.5)]), "created_at": "2020-01-01"],
            ["_id": "undated"],
        ]
        let written = Self.predictions.map(\.document)
        #expect(try await store.insert(written + odd, into: .predictions) == WriteOutcome(written: written.count + odd.count))
        let all = try await store.find(.predictions, where: .all, sort: DocumentSort("_id"), limit: nil)
        #expect(try Self.text(all) == Self.text(Self.sorted(written + odd)))
        #expect(try await Self.wholeDocuments(store) == odd.map { $0["_id"]!.stringValue! }.sorted())

        #expect(try await store.count(.predictions, where: .equals("game_id", "legacy")) == 1)
        #expect(try await store.count(.predictions, where: .equals("model_version", "2:m%")) == 1)
        #expect(try await store.count(.predictions, where: .equals("resolved", .bool(true))) == 2)
        #expect(try await store.count(.predictions, where: .equals("resolved", .bool(false))) == 4)
        #expect(try await store.count(.predictions, where: .equals("resolved", "yes")) == 0, "only a column's type is filtered on")
        #expect(try await store.count(.predictions, where: .equals("end_inferred", .bool(true))) == 1)
        #expect(try await store.count(.predictions, where: .equals("error_metrics.e40", .double(0.275))) == 1)
        #expect(try await store.count(.predictions, where: .equals("error_metrics", .null)) == 6, "null matches a missing field")
        #expect(try await store.count(.predictions, where: .equals("uncertainty_bounds.upper", .double(120.5))) == 3)
        #expect(try await store.count(.predictions, where: .equals("extra", .array([.bool(true), .null]))) == 1)
        let byConfidence = try await store.find(.predictions, where: .equals("game_id", "g"), sort: DocumentSort("confidence", ascending: false), limit: 1)
        #expect(byConfidence.map { $0["_id"] } == [.string(Self.predictions[5].id)])
        #expect(try await store.expiredCount(in: .predictions, before: Self.when.addingTimeInterval(61)) == 3)

        // An upsert replaces every column: the row of a prediction loses the whole document it had.
        var replaced = Self.prediction(9).document
        replaced["_id"] = "old-1"
        #expect(try await store.upsert([replaced], into: .predictions) == WriteOutcome(written: 1))
        #expect(try await store.find(.predictions, where: .ids(["old-1"]), sort: nil, limit: nil) == [replaced])
        #expect(try await store.count(.predictions, where: .equals("game_id", "legacy")) == 0)
        await store.close()
    }

    /// Versions 0001 to 0003 applied, and `predictions` as ted kept it then: its table and indexes as that ted
    /// created them (`game_id` through `json_extract`), and each row's `doc` the text it wrote.
    static func oldDatabase(_ documents: [Document]) async throws -> SQLiteStore {
        let store = try makeStore()
        try await SQLiteLayoutMigrationTests.runner(store).migrate(to: 3)
        let rows = try documents.map { document -> [SQLiteValue] in
            [.text(document["_id"]!.stringValue!), document["created_at"]?.dateValue.map { .int(Int64(($0.timeIntervalSince1970 * 1000).rounded())) } ?? .null,
             .text(String(decoding: try DocumentJSON.encode(document), as: UTF8.self))]
        }
        try await store.connection.run { database throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                try database.execute(#"DROP TABLE "predictions""#)
                try database.execute(#"CREATE TABLE "predictions" (_id TEXT PRIMARY KEY NOT NULL, created_at INTEGER, doc TEXT NOT NULL)"#)
                try database.execute(#"CREATE INDEX "predictions__created_at_1" ON "predictions" (created_at ASC)"#)
                try database.execute(#"CREATE INDEX "predictions__game_id_1" ON "predictions" (json_extract(doc, '$.game_id') ASC)"#)
                for row in rows { try database.execute(#"INSERT INTO "predictions" (_id, created_at, doc) VALUES (?1, ?2, ?3)"#, row) }
            }
        }
        return store
    }

    static func indexSQL(_ store: SQLiteStore) async throws -> [String] {
        try await store.connection.run { database throws(StoreError) in
            try database.rows("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'predictions' AND sql IS NOT NULL ORDER BY name") {
                $0.text(0) ?? ""
            }
        }
    }

    @Test func anOldDatabaseConvertsInPlaceAndBack() async throws {
        let documents = (Self.predictions + Self.unusual).map(\.document)
            + [["_id": "legacy-1", "game_id": "g", "confidence": "high", "source": "ted-v1"] as Document]
        let store = try await Self.oldDatabase(documents)
        let events = MigrationTests.EventLog()
        let runner = try SQLiteLayoutMigrationTests.runner(store, events: events)
        #expect(try await runner.checkOnly().pending.map(\.label) == SQLiteLayoutMigrationTests.layoutLabels(from: "0004_prediction_columns"))

        // Until it is migrated, the flush keeps its predictions (a retryable error) instead of refusing them.
        let late = Self.prediction(20)
        let error = await #expect(throws: StoreError.self) { try await store.write([.prediction(late)], to: .predictions) }
        #expect(error?.isRetryable == true && error?.message.contains("ted migrate") == true)

        #expect(try await runner.up().applied.map(\.label) == SQLiteLayoutMigrationTests.layoutLabels(from: "0004_prediction_columns"))
        #expect(events.lines.contains("✓ Converted predictions to the columns layout (\(documents.count) rows)"))
        #expect(try await Self.columns(store) == ["_id"] + SQLiteRecordColumns.predictions.columns.map(\.field) + ["document"])
        let stored = try await store.find(.predictions, where: .all, sort: DocumentSort("_id"), limit: nil)
        #expect(try Self.text(stored) == Self.text(Self.sorted(documents)))
        #expect(try await Self.wholeDocuments(store) == (["legacy-1"] + Self.unusual.map(\.id)).sorted())
        // The declared indexes are built again, over the columns.
        #expect(try await Self.indexSQL(store) == [#"CREATE INDEX "predictions__created_at_1" ON "predictions" (created_at ASC)"#,
                                                   #"CREATE INDEX "predictions__game_id_1" ON "predictions" (game_id ASC)"#])
        #expect(try await runner.checkOnly().collections.allSatisfy(\.matches))
        #expect(try await store.write([.prediction(late)], to: .predictions) == [.stored])
        #expect(try await store.count(.predictions, where: .equals("game_id", "g")) == documents.count)

        // Down: the document layout again, each `doc` the text the older ted reads.
        let labels = SQLiteLayoutMigrationTests.layoutLabels(from: "0004_prediction_columns")
        #expect(try await runner.down(steps: labels.count).reverted.map(\.label) == labels.reversed())
        #expect(try await Self.columns(store) == ["_id", "created_at", "doc"])
        let docs = try await store.connection.run { database throws(StoreError) in
            try database.rows(#"SELECT doc FROM "predictions" WHERE _id != ?1 ORDER BY _id"#, [.text(late.id)]) { $0.text(0) ?? "" }
        }
        #expect(docs == (try Self.text(Self.sorted(documents))))
        #expect(try await Self.indexSQL(store).last == #"CREATE INDEX "predictions__game_id_1" ON "predictions" (json_extract(doc, '$.game_id') ASC)"#)
        #expect(try await runner.up().applied.count == labels.count)
        #expect(try await store.count(.predictions, where: .all) == documents.count + 1)
        await store.close()
    }
}
