import Foundation
import Logging
import Testing
import TEDCore
@testable import TEDStore

/// `ted verify`'s layout check (`MigrationRunner.layoutDifferences`): each SQLite table's layout in the file against
/// the one its ledger says (0003 and later applied: columns; not applied: documents); MongoDB has no layouts.
@Suite struct LayoutCheckTests {
    static let recordTables: [CollectionName] = [.games, .predictions, .sideBets, .tickSamples]

    @Test func aMigratedDatabaseAndAnOlderTedsOneBothMatchTheirLedger() async throws {
        let (store, runner) = try await UnmigratedLayoutTests.oldDatabase()
        #expect(try await runner.layoutDifferences().isEmpty, "documents, and 0003 and later not applied")
        let layouts = try await store.tableLayouts()
        #expect(layouts.filter { Self.recordTables.contains($0.collection) }.map(\.stored) == [.documents, .documents, .documents, .documents])
        #expect(layouts.filter { Self.recordTables.contains($0.collection) }.allSatisfy { $0.current == .columns && $0.isBehind })

        try await runner.up()
        #expect(try await runner.layoutDifferences().isEmpty, "columns, and 0003 and later applied")
        #expect(try await store.tableLayouts().filter { Self.recordTables.contains($0.collection) }.map(\.stored)
                == [.columns, .columns, .columns, .columns])
        await store.close()
    }

    /// A table converted back behind the ledger's back (here by the store itself; in life, a table copied from an
    /// older file): the ledger says 0006 applied, the file has documents.
    @Test func aTableBehindItsAppliedMigrationIsReported() async throws {
        let store = try PredictionColumnsTests.makeStore()
        let runner = try SQLiteLayoutMigrationTests.runner(store)
        try await runner.up()
        _ = try await store.write([.game(UnmigratedLayoutTests.game)], to: .games)
        #expect(try await store.changeLayout(of: .games, to: .documents) == 1)

        let differences = try await runner.layoutDifferences()
        #expect(differences.map(\.collection) == [.games])
        let games = try #require(differences.first)
        #expect(games.stored == .documents && games.expected == .columns && games.applied && games.migration.version == 6)
        #expect(games.summary == "games has the documents layout, the ledger says columns (0006_game_columns applied): "
                + "convert it again with `ted migrate --to 5` then `ted migrate`")

        // What the summary says to do brings the two together again.
        try await runner.migrate(to: 5)
        try await runner.up()
        #expect(try await runner.layoutDifferences().isEmpty)
        #expect(try await store.storedGame("g") == UnmigratedLayoutTests.game.document)
        await store.close()
    }

    /// A fresh file taken only to 0002 by this ted has its record tables in columns from 0001, ahead of its ledger.
    @Test func tablesAheadOfTheirPendingMigrationsAreReported() async throws {
        let store = try PredictionColumnsTests.makeStore()
        let runner = try SQLiteLayoutMigrationTests.runner(store)
        try await runner.migrate(to: 2)
        // (Only the record tables: other tables may get columns from later versions too.)
        let differences = try await runner.layoutDifferences().filter { Self.recordTables.contains($0.collection) }
        #expect(differences.map(\.collection) == Self.recordTables)
        #expect(differences.allSatisfy { $0.stored == .columns && $0.expected == .documents && !$0.applied })
        #expect(differences.map(\.migration.version) == [6, 4, 5, 3])
        #expect(differences.first?.summary
                == "games has the columns layout, the ledger says documents (0006_game_columns not applied): run `ted migrate`")
        try await runner.up()
        #expect(try await runner.layoutDifferences().isEmpty)
        await store.close()
    }

    /// MongoDB keeps documents one way: no layouts, nothing to compare.
    @Test func mongoDBHasNoLayouts() async throws {
        let store = try MongoStore(url: try TestEnvironment.mongoURL(), database: TestEnvironment.uniqueDatabaseName("ted_layout_check"),
                                   logger: Logger(label: "test"))
        let runner = MigrationRunner(store: store, migrations: try MigrationFiles.embedded.load())
        try await runner.up()
        _ = try await store.write([.game(UnmigratedLayoutTests.game)], to: .games)
        #expect(try await store.tableLayouts().isEmpty)
        #expect(try await runner.layoutDifferences().isEmpty)
        await store.close()
    }
}
