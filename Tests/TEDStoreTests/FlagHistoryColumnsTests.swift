import Foundation
import Logging
import Testing
import TEDCore
@testable import TEDStore

/// `flag_history` in SQLite's column layout (`SQLiteRecordColumns.flagHistory`,
/// `migrations/sqlite/0009_flag_history_columns.json`): a column per field of a change (`from` and `to`, which SQL
/// reserves, as `from_enabled` and `to_enabled`); every row reads back as the change kept, and a database written by
/// an older ted converts in place and back.
@Suite struct FlagHistoryColumnsTests {
    static let changes = [FlagHistoryStoreTests.change(0, to: false), FlagHistoryStoreTests.change(60, to: true, source: .sighup),
                          FlagHistoryStoreTests.change(30, to: false, host: "b \"q\"")]

    static let expectedColumns = ["_id", "at", "from_enabled", "to_enabled", "source", "token_fingerprint", "host",
                                  "created_at", "document"]

    @Test func changesReadBackFromTheColumns() async throws {
        let store = try PredictionColumnsTests.makeStore()
        try await store.appendFlagChanges(Self.changes)
        #expect(try await SQLiteLayoutMigrationTests.columns(of: "flag_history", store) == Self.expectedColumns)
        #expect(try await SQLiteLayoutMigrationTests.wholeDocuments(of: "flag_history", store) == [])
        #expect(try await store.latestFlagChanges(limit: 10) == [Self.changes[1], Self.changes[2], Self.changes[0]])
        let flags = try await store.connection.run { database throws(StoreError) in
            try database.rows(#"SELECT from_enabled, to_enabled, token_fingerprint FROM "flag_history" ORDER BY created_at"#) {
                "\($0.int64(0)) \($0.int64(1)) \($0.text(2) ?? "NULL")"
            }
        }
        #expect(flags == ["1 0 sha256:0123456789abcdef", "1 0 sha256:0123456789abcdef", "0 1 NULL"])
        #expect(try await store.count(.flagHistory, where: .equals("to", .bool(true))) == 1)
        await store.close()
    }

    /// Versions 0001 to 0008 applied, and `flag_history` as ted kept it then (its table, its index and each row's
    /// `doc`), with a row of another shape.
    @Test func anOldDatabaseConvertsInPlaceAndBack() async throws {
        var other = Self.changes[0].document
        other["_id"] = "legacy-1"
        other["from"] = "on"
        let documents = Self.changes.map(\.document) + [other]
        let store = try PredictionColumnsTests.makeStore()
        let runner = try SQLiteLayoutMigrationTests.runner(store)
        try await runner.migrate(to: 8)
        try await SQLiteLayoutMigrationTests.keepAsDocuments("flag_history", documents, indexSQL: [
            #"CREATE INDEX "flag_history__created_at_1" ON "flag_history" (created_at ASC)"#,
        ], in: store)

        let labels = SQLiteLayoutMigrationTests.layoutLabels(from: "0009_flag_history_columns")
        #expect(try await runner.up().applied.map(\.label) == labels)
        #expect(try await SQLiteLayoutMigrationTests.columns(of: "flag_history", store) == Self.expectedColumns)
        let stored = try await store.find(.flagHistory, where: .all, sort: DocumentSort("_id"), limit: nil)
        #expect(try PredictionColumnsTests.text(stored) == PredictionColumnsTests.text(PredictionColumnsTests.sorted(documents)))
        #expect(try await SQLiteLayoutMigrationTests.wholeDocuments(of: "flag_history", store) == ["legacy-1"])
        let indexes = try await store.connection.run { database throws(StoreError) in
            try database.rows("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'flag_history' AND sql IS NOT NULL") { $0.text(0) ?? "" }
        }
        #expect(indexes == [#"CREATE INDEX "flag_history__created_at_1" ON "flag_history" (created_at ASC)"#])
        #expect(try await runner.checkOnly().collections.allSatisfy(\.matches))
        let added = FlagHistoryStoreTests.change(90, to: true)
        try await store.appendFlagChanges([added])

        #expect(try await runner.down(steps: labels.count).reverted.map(\.label) == labels.reversed())
        #expect(try await SQLiteLayoutMigrationTests.columns(of: "flag_history", store) == ["_id", "created_at", "doc"])
        let docs = try await store.connection.run { database throws(StoreError) in
            try database.rows(#"SELECT doc FROM "flag_history" ORDER BY _id"#) { $0.text(0) ?? "" }
        }
        #expect(docs == (try PredictionColumnsTests.text(PredictionColumnsTests.sorted(documents + [added.document]))))
        #expect(try await runner.up().applied.count == labels.count)
        #expect(try await store.latestFlagChanges(limit: 1) == [added])
        await store.close()
    }
}
