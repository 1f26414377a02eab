import Foundation
import Logging
import Testing
import TEDCore
import TEDStore
import TEDTestSupport
@testable import ted

/// What `serve` says at start about the database's schema: "up to date" only when it is, and a warning naming the
/// versions when a newer ted migrated the database (a binary rolled back without its schema), with the version to
/// take it back to.
@Suite struct StartupMigrationsTests {
    static func migratedStore() async throws -> SQLiteStore {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ted-startup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory.appendingPathComponent("ted.sqlite").path, logger: Logger(label: "test"))
        try await MigrationRunner(store: store, migrations: try MigrationFiles.embedded.load()).applyPending()
        return store
    }

    @Test func anUpToDateDatabaseIsSaidToBe() async throws {
        let store = try await Self.migratedStore()
        let log = LogRecorder()
        await StartupMigrations.check(store: store, settings: try Settings(values: [:]), logger: log.logger)
        #expect(log.messages == ["Schema is up to date"])
        await store.close()
    }

    @Test func aDatabaseANewerTedMigratedIsNamedNotUpToDate() async throws {
        let store = try await Self.migratedStore()
        // The newest version this ted has for SQLite, and one after it that only a newer ted could have applied.
        let latestKnown = try #require(try MigrationFiles.embedded.load().filter { $0.applies(to: .sqlite) }.map(\.version).max())
        let newer = AppliedMigration(version: latestKnown + 1, name: "from_a_newer_ted", checksum: "sha", appliedAt: Date(), durationMs: 1)
        try await store.recordMigration(newer)
        let log = LogRecorder()
        await StartupMigrations.check(store: store, settings: try Settings(values: [:]), logger: log.logger)
        #expect(!log.messages.contains("Schema is up to date"))
        let warning = try #require(log.messages.first { $0.contains("does not know") })
        #expect(warning.contains(newer.label))
        #expect(warning.contains("`ted migrate --to \(latestKnown)`"))
        await store.close()
    }
}
