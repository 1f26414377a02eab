import Foundation
import Logging
import Testing
import TEDCore
@testable import TEDStore

/// An SQLite database an older ted wrote (its record tables in the `(_id, created_at, doc)` layout, 0003 and later not
/// applied) read by this ted before `ted migrate`: every read of those tables fails with an error that names the
/// table and says to run `ted migrate` (not SQLite's "no such column"), and works once it has run.
@Suite struct UnmigratedLayoutTests {
    static let when = PredictionColumnsTests.when
    static let game = GameColumnsTests.game("g", end: 200, ended: true, rugged: true, accuracy: 0.75)
    static let prediction = PredictionColumnsTests.prediction(1)
    static let sideBet = SideBetColumnsTests.sideBet(1)
    static let ticks = (0..<3).map { TickSample(gameID: "g", tick: $0, price: 1 + Double($0) / 10, features: nil,
                                                timestamp: when.addingTimeInterval(Double($0)), createdAt: when) }

    /// Records of every kind written, then every SQLite-only version undone (0003 and later): their down steps convert
    /// each table to the document layout an older ted created and read, and the ledger stops at 0002, as that ted left it.
    static func oldDatabase() async throws -> (SQLiteStore, MigrationRunner) {
        let store = try PredictionColumnsTests.makeStore()
        let runner = try SQLiteLayoutMigrationTests.runner(store)
        try await runner.up()
        _ = try await store.write([.game(game)], to: .games)
        _ = try await store.write([.prediction(prediction)], to: .predictions)
        _ = try await store.write([.sideBet(sideBet)], to: .sideBets)
        _ = try await store.write(ticks.map(StoreRecord.tickSample), to: .tickSamples)
        try await runner.migrate(to: 2)
        #expect(try await SQLiteLayoutMigrationTests.columns(of: "games", store) == ["_id", "created_at", "doc"])
        return (store, runner)
    }

    /// The error of a read of `table` before `ted migrate`: retryable, naming the table and the command.
    static func expectMigrationNeeded(_ table: String, sourceLocation: SourceLocation = #_sourceLocation,
                                      _ read: () async throws -> Void) async {
        let error = await #expect(throws: StoreError.self, sourceLocation: sourceLocation) { try await read() }
        #expect(error?.message.hasPrefix("\(table) still has the documents layout of an older ted") == true,
                "\(error?.message ?? "no error")", sourceLocation: sourceLocation)
        #expect(error?.message.contains("run `ted migrate`") == true, sourceLocation: sourceLocation)
        #expect(error?.isRetryable == true, sourceLocation: sourceLocation)
    }

    @Test func everyReadOfAnUnmigratedTableSaysToRunTedMigrate() async throws {
        let (store, runner) = try await Self.oldDatabase()
        #expect(Set(try await store.tableLayouts().filter(\.isBehind).map(\.collection))
                .isSuperset(of: LayoutCheckTests.recordTables))

        // Reports, game reads, recordings, analytics, exports, the hourly aggregate and outcome resolution.
        await Self.expectMigrationNeeded("games") { _ = try await store.latestGames(limit: 5, before: nil) }
        await Self.expectMigrationNeeded("games") { _ = try await store.storedGame("g") }
        await Self.expectMigrationNeeded("games") { _ = try await store.storedGameDetail("g") }
        await Self.expectMigrationNeeded("tick_samples") { _ = try await store.recordedTicks(ofGame: "g", afterTick: -1, limit: 10) }
        await Self.expectMigrationNeeded("predictions") {
            _ = try await store.find(.predictions, where: .equals("game_id", .string("g")), sort: nil, limit: nil)
        }
        await Self.expectMigrationNeeded("predictions") {
            _ = try await store.analytics(AnalyticsQuery(hours: 24, until: Self.when.addingTimeInterval(3600)))
        }
        await Self.expectMigrationNeeded("side_bets") {
            _ = try await store.documentPage(of: .sideBets, matching: DocumentSelection(gameID: "g"), afterID: nil, limit: 10)
        }
        await Self.expectMigrationNeeded("games") {
            _ = try await store.aggregateHour(start: Self.when, end: Self.when.addingTimeInterval(3600))
        }
        await Self.expectMigrationNeeded("games") { try await store.resolveOutcomes(ofGames: ["g"], rules: OutcomeRules()) }
        // Reads that need only `_id` and `created_at`, which both layouts have, stay right (counts, retention).
        #expect(try await store.count(.tickSamples, where: .all) == Self.ticks.count)
        #expect(try await store.expiredCount(in: .tickSamples, before: Self.when.addingTimeInterval(1)) == Self.ticks.count)

        // Once migrated, the same reads find the records written before.
        #expect(try await runner.up().applied.first?.version == 3)
        #expect(try await runner.status().pending.isEmpty)
        #expect(try await store.tableLayouts().filter(\.isBehind).isEmpty)
        #expect(try await store.storedGame("g") == Self.game.document)
        #expect(try await store.recordedTicks(ofGame: "g", afterTick: -1, limit: 10).map(\.tick) == [0, 1, 2])
        #expect(try await store.find(.predictions, where: .equals("game_id", .string("g")), sort: nil, limit: nil)
                == [Self.prediction.document])
        #expect(try await store.documentPage(of: .sideBets, matching: DocumentSelection(gameID: "g"), afterID: nil, limit: 10)
                == [Self.sideBet.document])
        await store.close()
    }

    /// A read that fails for another reason than the layout keeps SQLite's own error.
    @Test func otherFailuresKeepTheirOwnMessage() async throws {
        let (store, _) = try await Self.oldDatabase()
        let error = await #expect(throws: StoreError.self) {
            try await store.connection.run { database throws(StoreError) in
                try database.execute(#"SELECT no_such_column FROM "locks""#)
            }
        }
        #expect(error?.message.contains("no such column: no_such_column") == true)
        #expect(error?.isRetryable == false)
        await store.close()
    }
}
