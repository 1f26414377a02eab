import ArgumentParser
import Foundation
import Logging
import TEDCore
import TEDStore

/// `ted migrate`: checks (dry run) or changes the database schema with the files of `migrations/` (built into ted).
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Check (dry run) or apply the database migrations.",
        discussion: """
            Without a subcommand, adopts a database TED-V1 wrote (drops its unique indexes, rewrites its games to \
            _id = game_id) and applies every pending migration. Exit codes: 0 up to date or done, 1 error, \
            3 migrations pending or a TED-V1 database to adopt (--check-only).
            """,
        subcommands: [Status.self, Down.self])

    @OptionGroup var source: MigrationSource

    @Flag(help: "Report applied and pending migrations, collections, indexes and size; write nothing.")
    var checkOnly = false

    @Option(name: .customLong("to"), help: "Go up or down to this version (0 undoes everything).")
    var version: Int?

    @Flag(help: "Replace existing indexes that have the declared keys but other options.")
    var force = false

    func run() async throws {
        try await MigrationSession.run(source) { runner, settings in
            if checkOnly {
                try await Self.check(runner, upTo: version)
                return
            }
            let run: MigrationRunner.Run
            if let version {
                run = try await runner.migrate(to: version, force: force)
            } else {
                run = try await runner.up(force: force)
            }
            guard run.changedAnything else { return }
            print("✓ Migration completed successfully!")
            if !settings.persistenceEnabled && !run.applied.isEmpty {
                print("""

                    Next steps:
                      • Set PERSISTENCE_ENABLED=true in \(settings.envFilePath) to start saving data.
                        No restart needed: the running service picks the change up from the file.
                    """)
            }
        }
    }

    /// Prints the dry run's report and exits 3 when migrations are pending or a TED-V1 database awaits adoption.
    private static func check(_ runner: MigrationRunner, upTo version: Int?) async throws {
        let report = try await runner.checkOnly(upTo: version)
        print("Applied migrations:" + (report.status.applied.isEmpty ? " none" : ""))
        for row in report.status.applied { print("  \(row.label)  applied \(Timestamp.formatISO8601(row.appliedAt))") }
        print("Pending migrations:" + (report.pending.isEmpty ? " none" : ""))
        for migration in report.pending { print("  \(migration.label)") }
        print("Collections:")
        for collection in report.collections { printCollection(collection) }
        print("Database size: \(CommandOutput.formatBytes(report.databaseSizeBytes))")
        for row in report.status.appliedWithoutFile { print("⚠ \(row.label) is applied but has no file in the migrations directory") }
        if !report.tedV1.isEmpty {
            print("TED-V1 database detected: `ted migrate` would")
            for change in report.tedV1.plannedChanges { print("  \(change)") }
        }
        print("✓ Database verification complete (dry run: nothing was written)")
        guard report.status.checksumMismatches.isEmpty else {
            throw MigrationError.checksumMismatch(report.status.checksumMismatches)
        }
        guard !report.hasPendingWork else {
            if !report.pending.isEmpty { print("\(report.pending.count) migration(s) pending: run `ted migrate` to apply.") }
            if !report.tedV1.isEmpty { print("TED-V1 database to adopt: run `ted migrate` to adopt it.") }
            throw ExitCode(3)
        }
        print("✓ Database is up to date")
    }

    private static func printCollection(_ collection: CollectionReport) {
        guard collection.exists, let count = collection.documentCount else {
            print("  \(collection.name): missing")
            return
        }
        print("  \(collection.name): exists, \(count) document(s)" + (collection.matches ? ", indexes as declared" : ""))
        for index in collection.missingIndexes { print("    missing index \(index.summary)") }
        for difference in collection.differingIndexes {
            print("    index differs: existing \(difference.existing.summary), declared \(difference.expected.summary) (--force replaces it)")
        }
        for index in collection.unexpectedIndexes { print("    index no migration declares (slows inserts): \(index.summary)") }
    }

    /// `ted migrate status`: applied and pending migrations, and applied files that changed.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List applied and pending migrations.")

        @OptionGroup var source: MigrationSource

        func run() async throws {
            try await MigrationSession.run(source) { runner, _ in
                let status = try await runner.status()
                print("Current version: \(status.currentVersion.map(Migration.id(of:)) ?? "none")")
                for row in status.applied {
                    print("  applied  \(row.label)  \(Timestamp.formatISO8601(row.appliedAt))  \(row.durationMs) ms")
                }
                for migration in status.pending { print("  pending  \(migration.label)") }
                for row in status.appliedWithoutFile { print("⚠ \(row.label) is applied but has no file in the migrations directory") }
                guard status.checksumMismatches.isEmpty else { throw MigrationError.checksumMismatch(status.checksumMismatches) }
            }
        }
    }

    /// `ted migrate down`: undoes the most recent migrations with the `down` of their files.
    struct Down: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Undo the most recent migrations.")

        @OptionGroup var source: MigrationSource

        @Option(help: "How many migrations to undo, newest first.")
        var steps = 1

        func validate() throws {
            guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
        }

        func run() async throws {
            try await MigrationSession.run(source) { runner, _ in
                let run = try await runner.down(steps: steps)
                if !run.reverted.isEmpty { print("✓ Migration completed successfully!") }
            }
        }
    }
}

/// Where the migration files are: shared by `migrate` and its subcommands.
struct MigrationSource: ParsableArguments {
    @Option(help: "Directory of the migration files (default: $MIGRATIONS_DIR, else the migrations built into ted).")
    var migrationsDir: String?

    var files: MigrationFiles {
        MigrationFiles.resolve(explicit: migrationsDir, environment: ProcessInfo.processInfo.environment)
    }
}

/// Loads settings and files, opens and checks the store, runs one command with a printing runner, closes the
/// store, and turns every failure into a message and exit code 1.
enum MigrationSession {
    static func run(_ source: MigrationSource,
                    _ body: (MigrationRunner, Settings) async throws -> Void) async throws {
        let settings: Settings
        do {
            settings = try Settings.load()
        } catch {
            throw CommandOutput.failure("\(error)")
        }
        let migrations: [Migration]
        do {
            migrations = try source.files.load()
        } catch {
            throw CommandOutput.failure(error.description)
        }
        let store = try await open(settings)
        let runner = MigrationRunner(store: store, migrations: migrations) { event in print(event.description) }
        do {
            try await body(runner, settings)
            await store.close()
        } catch let error as MigrationError {
            await store.close()
            throw CommandOutput.failure(error.description)
        } catch {
            await store.close()
            throw error
        }
    }

    /// Opens the store and proves it answers, naming where it looked (never with the password) when it does not.
    private static func open(_ settings: Settings) async throws -> any DocumentStore {
        let target = switch settings.backend {
        case .mongodb: "MongoDB at \(settings.mongoURL.map(MongoURL.redacted) ?? "(MONGO_URL not set)")"
        case .sqlite: "SQLite database \(settings.sqlitePath)"
        }
        do throws(StoreError) {
            let store = try await StoreFactory.open(settings: settings, logger: Logger(label: "ted.migrate"))
            print(settings.backend == .mongodb ? "✓ MongoDB connection successful" : "✓ SQLite database opened")
            return store
        } catch {
            throw CommandOutput.failure("Cannot open \(target): \(MongoURL.scrub(error.message, url: settings.mongoURL))")
        }
    }
}
