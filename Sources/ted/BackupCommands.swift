import ArgumentParser
import Foundation
import Logging
import TEDCore
import TEDPersistence
import TEDStore

/// `ted backup`: exports every data collection and the migration ledger to `BACKUP_DIR`, then keeps the newest
/// `BACKUP_KEEP` backups and points `BACKUP_DIR/latest` at the newest.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Back up the database to BACKUP_DIR (gzipped NDJSON of Extended JSON documents).",
        discussion: """
            Writes BACKUP_DIR/ted-<backend>-<UTC yyyyMMdd-HHmmss>.ndjson.gz, deletes all but the newest BACKUP_KEEP \
            backups and points BACKUP_DIR/latest at the newest. The service may keep running: documents written \
            during the backup may or may not be in it. Exit codes: 0 done, 1 error.
            """)

    @Option(help: "Directory of the backups (default: $BACKUP_DIR or ./backups).")
    var dir: String?

    @Option(help: "How many backups to keep, newest first (default: $BACKUP_KEEP or 30).")
    var keep: Int?

    func validate() throws {
        if let keep, keep < 1 { throw ValidationError("--keep must be at least 1") }
    }

    func run() async throws {
        try await BackupSession.run { store, settings in
            let writer = BackupWriter(store: store, directory: dir ?? settings.backupDirectory, keep: keep ?? settings.backupKeep,
                                      database: settings.backend == .mongodb ? settings.mongoDatabase : nil)
            let start = ContinuousClock.now
            let result = try await writer.write()
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print("✓ Backup written: \(result.path) (\(CommandOutput.formatBytes(result.bytes)), \(String(format: "%.1f", seconds)) s)")
            for collection in result.header.collections { print("  \(collection.name): \(collection.count) document(s)") }
            for name in result.removed { print("  removed old backup \(name)") }
        }
    }
}

/// `ted restore latest|FILE [--drop]`: brings a backup back into the configured database.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup into the configured database.",
        discussion: """
            Checks the whole backup first (a truncated or damaged file is refused before anything changes). \
            With --drop, drops the data collections and the migration ledger; then applies the migrations and \
            upserts the backed-up documents by _id, so restoring twice gives the same database. Without --drop, \
            documents not in the backup are kept. Stop the service (or turn persistence off) first with --drop. \
            A backup of either backend restores into either backend. Exit codes: 0 done, 1 error.
            """)

    @Argument(help: "`latest` (BACKUP_DIR/latest) or the path of a backup file.")
    var backup: String

    @Flag(help: "Drop the data collections and the migration ledger before restoring.")
    var drop = false

    @OptionGroup var source: MigrationSource

    func run() async throws {
        try await BackupSession.run { store, settings in
            let file = try BackupFiles.resolve(backup, directory: settings.backupDirectory)
            print("Restoring \(file) into \(store.location)\(drop ? " (dropping the existing data first)" : "")")
            // BackupRestorer reads a directory: the built-in migrations are written to a temporary one.
            let migrations = try source.files.materialized()
            defer { if case .embedded = source.files { try? FileManager.default.removeItem(atPath: migrations) } }
            let restorer = BackupRestorer(store: store, migrationsDirectory: migrations) { line in print(line) }
            let result = try await restorer.restore(file: file, drop: drop)
            print("✓ Restore completed (backup of \(result.header.backend) taken \(Timestamp.formatISO8601(result.header.createdAt)))")
            for collection in result.restored { print("  \(collection.name): \(collection.count) document(s)") }
        }
    }
}

/// `ted verify [--backup latest|FILE]`: the database against the migrations, and optionally a backup's counts.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that every collection and index the migrations declare exists (e.g. after a restore).",
        discussion: """
            Prints the document count and the missing or differing indexes of each collection, and each SQLite \
            table whose layout (documents or columns) is not the one the migration ledger says; writes nothing. \
            With --backup, also compares the counts with that backup's header. Exit codes: 0 everything is as \
            declared (and matches the backup), 1 otherwise.
            """)

    @OptionGroup var source: MigrationSource

    @Option(help: "Also compare the document counts with this backup (`latest` or a file).")
    var backup: String?

    func run() async throws {
        try await MigrationSession.run(source) { runner, settings in
            let report = try await runner.checkOnly()
            var problems: [String] = []
            print("Collections:")
            for collection in report.collections {
                guard collection.exists, let count = collection.documentCount else {
                    print("  \(collection.name): missing")
                    problems.append("collection \(collection.name) is missing")
                    continue
                }
                print("  \(collection.name): \(count) document(s)" + (collection.matches ? ", indexes as declared" : ""))
                for index in collection.missingIndexes {
                    print("    missing index \(index.summary)")
                    problems.append("index \(index.summary) of \(collection.name) is missing")
                }
                for difference in collection.differingIndexes {
                    print("    index differs: existing \(difference.existing.summary), declared \(difference.expected.summary)")
                    problems.append("index \(difference.expected.summary) of \(collection.name) differs")
                }
            }
            // SQLite's tables against the ledger's layouts (MongoDB has none: nothing is printed).
            for difference in try await runner.layoutDifferences() {
                print("Layout differs: \(difference.summary)")
                problems.append("layout of \(difference.collection) differs from the ledger's")
            }
            if !report.pending.isEmpty {
                print("Pending migrations: " + report.pending.map(\.label).joined(separator: ", "))
                problems.append("\(report.pending.count) migration(s) pending: run `ted migrate`")
            }
            if let backup {
                let file: String
                let header: BackupHeader
                do throws(BackupError) {
                    file = try BackupFiles.resolve(backup, directory: settings.backupDirectory)
                    header = try await BackupReader.readHeader(file)
                } catch {
                    throw CommandOutput.failure(error.message)
                }
                print("Backup \(file) (\(header.backend), taken \(Timestamp.formatISO8601(header.createdAt))):")
                let counts = Dictionary(report.collections.map { ($0.name, $0.documentCount ?? 0) }, uniquingKeysWith: { a, _ in a })
                for expected in header.collections where expected.name != .schemaMigrations {
                    let actual = counts[expected.name] ?? 0
                    let same = actual == expected.count
                    print("  \(expected.name): backup \(expected.count), database \(actual)\(same ? "" : "  ✗ differs")")
                    if !same { problems.append("\(expected.name) has \(actual) document(s), the backup \(expected.count)") }
                }
            }
            guard problems.isEmpty else {
                FileHandle.standardError.write(Data(("✗ Verification failed:\n" + problems.map { "  \($0)\n" }.joined()).utf8))
                throw ExitCode.failure
            }
            print("✓ Database verified: every declared collection and index exists" + (backup == nil ? "" : ", counts match the backup"))
        }
    }
}

/// Loads the settings, opens and pings the store, runs one command, closes the store, and turns every failure
/// into a message on standard error and exit code 1.
enum BackupSession {
    static func run(_ body: (any DocumentStore, Settings) async throws -> Void) async throws {
        let settings = try SettingsLoader.loadOrExit(environment: ProcessInfo.processInfo.environment)
        let store: any DocumentStore
        do throws(StoreError) {
            store = try await StoreFactory.open(settings: settings, logger: Logger(label: "ted.backup"))
        } catch {
            throw CommandOutput.failure("Cannot open the \(settings.backend.rawValue) store: \(MongoURL.scrub(error.message, url: settings.mongoURL))")
        }
        do {
            try await body(store, settings)
            await store.close()
        } catch let error as BackupError {
            await store.close()
            throw CommandOutput.failure(MongoURL.scrub(error.message, url: settings.mongoURL))
        } catch let error as StoreError {
            await store.close()
            throw CommandOutput.failure(MongoURL.scrub(error.message, url: settings.mongoURL))
        } catch {
            await store.close()
            throw error
        }
    }
}
