import Foundation
import Logging
import TEDCore
import Testing
@testable import TEDStore

/// The migrations built into ted: the same bytes as `migrations/`, and the default when no directory is configured.
@Suite struct EmbeddedMigrationsTests {
    static let migrationsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("migrations")

    /// `migrations/` is the source; a change there without the same change in EmbeddedMigrations.swift (or the
    /// reverse) would give the binary another checksum than the files and fail here.
    @Test func theBuiltInFilesAreByteIdenticalToTheMigrationsDirectory() throws {
        // The top level and the backends' folders (`sqlite/…`), as the loader reads them.
        let names = try FileManager.default.subpathsOfDirectory(atPath: Self.migrationsDirectory.path)
            .filter { $0.hasSuffix(".json") }.sorted()
        #expect(EmbeddedMigrations.files.map(\.name).sorted() == names, "every file of migrations/ must be in EmbeddedMigrations.swift")
        for file in EmbeddedMigrations.files {
            let onDisk = try Data(contentsOf: Self.migrationsDirectory.appendingPathComponent(file.name))
            #expect(Array(file.contents.utf8) == Array(onDisk), "EmbeddedMigrations.swift differs from migrations/\(file.name)")
        }
        let builtIn = try MigrationFiles.embedded.load()
        let fromDirectory = try MigrationLoader.load(directory: Self.migrationsDirectory.path)
        #expect(builtIn.map(\.checksum) == fromDirectory.map(\.checksum))
    }

    @Test func withoutADirectoryConfiguredTheBuiltInFilesAreUsed() {
        #expect(MigrationFiles.resolve(explicit: nil, environment: [:]) == .embedded)
        #expect(MigrationFiles.resolve(explicit: nil, environment: ["MIGRATIONS_DIR": " "]) == .embedded)
        #expect(MigrationFiles.resolve(explicit: nil, environment: ["MIGRATIONS_DIR": "/srv/m"]) == .directory("/srv/m"))
        #expect(MigrationFiles.resolve(explicit: "/opt/m", environment: ["MIGRATIONS_DIR": "/srv/m"]) == .directory("/opt/m"))
    }

    /// What `ted migrate` does from a working directory without `migrations/`: nothing configured, nothing read
    /// from disk, the ledger records each version with its file's checksum.
    @Test func migratingWithNothingConfiguredAppliesTheBuiltInMigrations() async throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(path: directory.appendingPathComponent("ted.sqlite").path, logger: Logger(label: "test"))
        let migrations = try MigrationFiles.resolve(explicit: nil, environment: [:]).load()
        let runner = MigrationRunner(store: store, migrations: migrations)
        let run = try await runner.up()
        #expect(run.applied.map(\.label) == ["0001_initial", "0002_flag_history"] + SQLiteLayoutMigrationTests.layoutLabels)
        let status = try await runner.status()
        #expect(status.applied.map(\.version) == Array(1...(2 + SQLiteLayoutMigrationTests.layoutLabels.count)))
        #expect(status.pending.isEmpty && status.checksumMismatches.isEmpty)
        let onDisk = try Data(contentsOf: Self.migrationsDirectory.appendingPathComponent("0001_initial.json"))
        #expect(status.applied.first?.checksum == SHA256.hex(Array(onDisk)))
        #expect(try await store.schema.collectionNames().contains("predictions"))
        await store.close()
    }

    /// `ted backup`/`restore` read a directory: the built-in files written to one load as the built-in ones.
    @Test func theMaterializedFilesKeepTheBackendsFolders() throws {
        let directory = try MigrationFiles.embedded.materialized()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let loaded = try MigrationLoader.load(directory: directory)
        #expect(loaded == (try MigrationFiles.embedded.load()))
        #expect(loaded.map(\.backend) == [nil, nil] + SQLiteLayoutMigrationTests.layoutLabels.map { _ in .sqlite })
    }
}
