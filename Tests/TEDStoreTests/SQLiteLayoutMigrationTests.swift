import Foundation
import Logging
import Testing
import TEDCore
@testable import TEDStore

/// `migrations/sqlite/0003_tick_sample_columns.json`: a database written by a ted before the column layout converts
/// in place, every row to exactly the document it was; down converts back; MongoDB never sees the version.
@Suite struct SQLiteLayoutMigrationTests {
    static let when = Date(timeIntervalSince1970: 1_767_225_600.5)

    /// What an older ted wrote: tick samples, with features, annotations and a NaN, and a document of another shape.
    static let documents: [Document] = {
        var documents: [Document] = (0..<25).map { (i: Int) -> Document in sample(i).document }
        documents.append(["_id": "legacy-1", "game_id": "g0", "tick": .int32(99), "price": .double(.nan), "source": "ted-v1"])
        return documents
    }()

    static func sample(_ i: Int) -> TickSample {
        let features: JSONObject? = i % 4 == 0 ? nil : Self.features(i)
        let timestamp = when.addingTimeInterval(Double(i))
        let createdAt = when.addingTimeInterval(Double(i) * 60)
        return TickSample(gameID: "g\(i % 3)", tick: i, price: Double(i) / 7, features: features, timestamp: timestamp, createdAt: createdAt)
    }

    static func features(_ i: Int) -> JSONObject {
        let nested: JSONValue = .array([.null, .bool(true)])
        return JSONObject([("volatility", .double(0.01 * Double(i))), ("rank", .int(Int64(i))),
                           ("low", .int(-2_000_000_000_000_000_000)), ("nested", nested)])
    }

    static func makeStore() throws -> SQLiteStore {
        try SQLiteStore(path: TestEnvironment.temporaryDirectory().appendingPathComponent("ted.sqlite").path, logger: Logger(label: "test"))
    }

    /// SQLite's own migrations (`migrations/sqlite/`), in order: what a database migrated to 0002 has still to run.
    static let layoutLabels = ["0003_tick_sample_columns", "0004_prediction_columns", "0005_side_bet_columns",
                               "0006_game_columns", "0007_metrics_hourly_columns", "0008_dead_letter_columns",
                               "0009_flag_history_columns"]

    /// Those from `first` on.
    static func layoutLabels(from first: String) -> [String] { Array(layoutLabels.drop { $0 != first }) }

    static func runner(_ store: SQLiteStore, events: MigrationTests.EventLog = MigrationTests.EventLog()) throws -> MigrationRunner {
        MigrationRunner(store: store, migrations: try MigrationFiles.embedded.load()) { events.append($0) }
    }

    /// NaN is not equal to itself: documents are compared by the text the general writer makes of them.
    static func text(_ documents: [Document]) throws -> [String] {
        try documents.map { String(decoding: try DocumentJSON.encode($0), as: UTF8.self) }
    }

    static var sortedText: [String] {
        get throws { try text(documents.sorted { $0["_id"]!.stringValue! < $1["_id"]!.stringValue! }) }
    }

    /// Versions 0001 and 0002 applied, and `tick_samples` as ted kept it then: its table and index as that ted
    /// created them, and each row's `doc` the text it wrote (`DocumentJSON`).
    static func oldDatabase() async throws -> SQLiteStore {
        let store = try makeStore()
        try await runner(store).migrate(to: 2)
        let rows = try documents.map { document -> [SQLiteValue] in
            [.text(document["_id"]!.stringValue!), document["created_at"]?.dateValue.map { .int(Int64(($0.timeIntervalSince1970 * 1000).rounded())) } ?? .null,
             .text(String(decoding: try DocumentJSON.encode(document), as: UTF8.self))]
        }
        try await store.connection.run { database throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                try database.execute(#"DROP TABLE "tick_samples""#)
                try database.execute(#"CREATE TABLE IF NOT EXISTS "tick_samples" (_id TEXT PRIMARY KEY NOT NULL, created_at INTEGER, doc TEXT NOT NULL)"#)
                try database.execute(#"CREATE INDEX "tick_samples__created_at_1" ON "tick_samples" (created_at ASC)"#)
                for row in rows { try database.execute(#"INSERT INTO "tick_samples" (_id, created_at, doc) VALUES (?1, ?2, ?3)"#, row) }
            }
        }
        return store
    }

    /// Puts `table` back as a ted before its column layout kept it: the document table, the indexes `indexSQL`, and
    /// each document the text that ted wrote in `doc`.
    static func keepAsDocuments(_ table: String, _ documents: [Document], indexSQL: [String], in store: SQLiteStore) async throws {
        let rows = try documents.map { document -> [SQLiteValue] in
            [.text(document["_id"]!.stringValue!), document["created_at"]?.dateValue.map { .int(Int64(($0.timeIntervalSince1970 * 1000).rounded())) } ?? .null,
             .text(String(decoding: try DocumentJSON.encode(document), as: UTF8.self))]
        }
        let quoted = SQLiteTable.quote(table)
        try await store.connection.run { database throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                try database.execute("DROP TABLE IF EXISTS \(quoted)")
                try database.execute("CREATE TABLE \(quoted) (_id TEXT PRIMARY KEY NOT NULL, created_at INTEGER, doc TEXT NOT NULL)")
                for index in indexSQL { try database.execute(index) }
                for row in rows { try database.execute("INSERT INTO \(quoted) (_id, created_at, doc) VALUES (?1, ?2, ?3)", row) }
            }
        }
    }

    /// The `_id`s of the rows of `table` that keep their whole document, in order.
    static func wholeDocuments(of table: String, _ store: SQLiteStore) async throws -> [String] {
        let sql = "SELECT _id FROM \(SQLiteTable.quote(table)) WHERE document IS NOT NULL ORDER BY _id"
        return try await store.connection.run { database throws(StoreError) in try database.rows(sql) { $0.text(0) ?? "" } }
    }

    static func columns(of table: String, _ store: SQLiteStore) async throws -> [String] {
        try await store.connection.run { database throws(StoreError) in
            try database.rows("SELECT name FROM pragma_table_info(?1)", [.text(table)]) { $0.text(0) ?? "" }
        }
    }

    static func indexSQL(_ store: SQLiteStore) async throws -> [String] {
        try await store.connection.run { database throws(StoreError) in
            try database.rows("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tick_samples' AND sql IS NOT NULL") { $0.text(0) ?? "" }
        }
    }

    @Test func anOldDatabaseConvertsInPlaceAndBack() async throws {
        let store = try await Self.oldDatabase()
        let events = MigrationTests.EventLog()
        let runner = try Self.runner(store, events: events)
        let report = try await runner.checkOnly()
        #expect(report.pending.map(\.label) == Self.layoutLabels)

        // Until it is migrated, the flush keeps its tick samples (a retryable error) instead of refusing them.
        let sample = TickSample(gameID: "late", tick: 1, price: 2, features: nil, timestamp: Self.when, createdAt: Self.when)
        let error = await #expect(throws: StoreError.self) { try await store.write([.tickSample(sample)], to: .tickSamples) }
        #expect(error?.isRetryable == true && error?.message.contains("ted migrate") == true)

        #expect(try await runner.up().applied.map(\.label) == Self.layoutLabels)
        #expect(events.lines.contains("✓ Converted tick_samples to the columns layout (\(Self.documents.count) rows)"))
        #expect(try await Self.columns(of: "tick_samples", store)
                == ["_id", "game_id", "tick", "price", "features", "timestamp", "created_at", "document"])
        let stored = try await store.find(.tickSamples, where: .all, sort: DocumentSort("_id"), limit: nil)
        #expect(try Self.text(stored) == Self.sortedText)
        let kept = try await store.connection.run { database throws(StoreError) in
            try database.rows(#"SELECT _id FROM "tick_samples" WHERE document IS NOT NULL"#) { $0.text(0) ?? "" }
        }
        #expect(kept == ["legacy-1"], "only the document that is not a tick sample is kept whole")
        // The declared index is built again, over the column.
        #expect(try await Self.indexSQL(store) == [#"CREATE INDEX "tick_samples__created_at_1" ON "tick_samples" (created_at ASC)"#])
        #expect(try await runner.checkOnly().collections.allSatisfy(\.matches))
        #expect(try await store.write([.tickSample(sample)], to: .tickSamples) == [.stored])

        // Down: the document layout again, each `doc` the text the older ted reads.
        #expect(try await runner.down(steps: Self.layoutLabels.count).reverted.map(\.label) == Self.layoutLabels.reversed())
        #expect(try await Self.columns(of: "tick_samples", store) == ["_id", "created_at", "doc"])
        let docs = try await store.connection.run { database throws(StoreError) in
            try database.rows(#"SELECT doc FROM "tick_samples" WHERE _id != 'late:1' ORDER BY _id"#) { $0.text(0) ?? "" }
        }
        #expect(docs == (try Self.sortedText))
        #expect(try await Self.indexSQL(store) == [#"CREATE INDEX "tick_samples__created_at_1" ON "tick_samples" (created_at ASC)"#])
        #expect(try await runner.up().applied.count == Self.layoutLabels.count)
        #expect(try await store.count(.tickSamples, where: .all) == Self.documents.count + 1)
        await store.close()
    }

    /// A fresh database creates the column tables in the column layout at 0001: 0003 to 0007 find nothing to convert.
    @Test func aFreshDatabaseHasTheColumnsFromTheStart() async throws {
        let store = try Self.makeStore()
        let events = MigrationTests.EventLog()
        #expect(try await Self.runner(store, events: events).up().applied.count == 2 + Self.layoutLabels.count)
        #expect(events.lines.contains("✓ tick_samples already has the columns layout"))
        #expect(events.lines.contains("✓ predictions already has the columns layout"))
        #expect(events.lines.contains("✓ side_bets already has the columns layout"))
        #expect(events.lines.contains("✓ games already has the columns layout"))
        #expect(events.lines.contains("✓ metrics_hourly already has the columns layout"))
        #expect(events.lines.contains("✓ dead_letters already has the columns layout"))
        #expect(events.lines.contains("✓ flag_history already has the columns layout"))
        #expect(try await Self.columns(of: "tick_samples", store).contains("game_id"))
        await store.close()
    }

    /// MongoDB keeps documents: the SQLite version is neither applied, nor pending, nor listed there.
    @Test func mongoDBNeverSeesTheSQLiteVersion() async throws {
        let store = try MongoStore(url: try TestEnvironment.mongoURL(), database: TestEnvironment.uniqueDatabaseName("ted_layouts"),
                                   logger: Logger(label: "test"))
        let runner = MigrationRunner(store: store, migrations: try MigrationFiles.embedded.load())
        #expect(runner.migrations.map(\.label) == ["0001_initial", "0002_flag_history"])
        #expect(try await runner.checkOnly().pending.map(\.label) == ["0001_initial", "0002_flag_history"])
        #expect(try await runner.up().applied.count == 2)
        #expect(try await runner.status().pending.isEmpty)
        await store.close()
    }
}
