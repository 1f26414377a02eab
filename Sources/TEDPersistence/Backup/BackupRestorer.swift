import Foundation
import TEDCore
import TEDStore

/// Restores a backup into the configured store, whatever store it came from:
/// 1. loads the migrations and checks the whole backup (nothing is touched if either is wrong);
/// 2. with `drop`, drops the data collections, the flag history and the ledger;
/// 3. applies the migrations, so every collection and index exists and the ledger matches the files;
/// 4. upserts the documents of the data collections in batches (restoring twice gives the same database).
///
/// The backed-up ledger rows are not copied (step 3 wrote the ledger): their versions are compared with the
/// migrations directory, and a difference is a warning.
public struct BackupRestorer: Sendable {
    public struct Result: Sendable, Equatable {
        public let header: BackupHeader
        /// Documents written per data collection, in file order.
        public let restored: [CollectionCount]
        /// Migrations applied before the documents went in.
        public let appliedMigrations: [String]
        public let warnings: [String]

        public func count(of collection: CollectionName) -> Int? { restored.first { $0.name == collection }?.count }
    }

    public let store: any DocumentStore
    public let migrationsDirectory: String
    public let batchSize: Int
    public let scratchDirectory: String?
    let report: @Sendable (String) -> Void

    /// `report` receives a line per step (for the command's output).
    public init(store: any DocumentStore, migrationsDirectory: String, batchSize: Int = 2000,
                scratchDirectory: String? = nil, report: @escaping @Sendable (String) -> Void = { _ in }) {
        self.store = store
        self.migrationsDirectory = migrationsDirectory
        self.batchSize = max(1, batchSize)
        self.scratchDirectory = scratchDirectory
        self.report = report
    }

    public func restore(file: String, drop: Bool) async throws(BackupError) -> Result {
        let runner: MigrationRunner
        do {
            runner = try MigrationRunner(store: store, directory: migrationsDirectory) { [report] event in report(event.description) }
        } catch {
            throw BackupError(error.description)
        }
        let reader = try await BackupReader.open(file, scratchDirectory: scratchDirectory)
        defer { reader.close() }
        let header = try reader.validate()
        report("✓ Backup \(file) is complete: " + header.collections.map(\.description).joined(separator: ", "))

        if drop {
            for collection in BackupWriter.collections {
                do {
                    try await store.schema.dropCollection(collection)
                } catch {
                    throw BackupError("cannot drop \(collection): \(error.message)")
                }
            }
            report("✓ Dropped the data collections, the flag history and the migration ledger")
        }

        let applied: [String]
        do {
            applied = try await runner.applyPending().applied.map(\.label)
        } catch {
            throw BackupError("migrations failed before the restore: \(error.description)")
        }

        var restored: [CollectionName: Int] = [:]
        var ledgerRows: [Document] = []
        try await reader.forEachBatch(size: batchSize) { (collection, documents) throws(BackupError) in
            guard collection != .schemaMigrations else {
                ledgerRows += documents
                return
            }
            do throws(StoreError) {
                // A backup holds whole collections in one format for both stores: each document is put back as it
                // is, replacing the one of the same `_id`, whatever the collection.
                restored[collection, default: 0] += try await store.restoreDocuments(documents, into: collection)
            } catch {
                let written: Int = restored[collection] ?? 0
                let reason: String = error.message
                throw BackupError("cannot restore \(collection) (\(written) documents written so far; restoring again is safe): \(reason)")
            }
        }
        let counts = header.collections.filter { $0.name != .schemaMigrations }.map {
            CollectionCount($0.name, restored[$0.name] ?? 0)
        }
        let warnings = ledgerWarnings(ledgerRows, migrations: runner.migrations)
        warnings.forEach { report("⚠ \($0)") }
        return Result(header: header, restored: counts, appliedMigrations: applied, warnings: warnings)
    }

    /// The backed-up ledger against the migrations directory. A backend's own versions (`migrations/sqlite/`) change
    /// how that store keeps documents, not the documents: a backup from the other store lacks them, and neither
    /// their presence nor their absence is a difference.
    func ledgerWarnings(_ rows: [Document], migrations: [Migration]) -> [String] {
        let storeOwn = Set(((try? MigrationLoader.load(directory: migrationsDirectory)) ?? migrations)
            .filter { $0.backend != nil }.map(\.version))
        let backedUp = Dictionary(rows.compactMap { row in row["version"]?.intValue.map { ($0, row) } }.filter { !storeOwn.contains($0.0) },
                                  uniquingKeysWith: { first, _ in first })
        let files = Dictionary(migrations.filter { $0.backend == nil }.map { ($0.version, $0) }, uniquingKeysWith: { first, _ in first })
        var warnings: [String] = []
        let onlyInBackup = backedUp.keys.filter { files[$0] == nil }.sorted()
        if !onlyInBackup.isEmpty {
            warnings.append("the backup was taken with migrations \(onlyInBackup.map(Migration.id(of:)).joined(separator: ", ")) "
                + "applied, which the migrations directory \(migrationsDirectory) does not have: use the migrations of the "
                + "release that took the backup")
        }
        let onlyInFiles = files.keys.filter { backedUp[$0] == nil }.sorted()
        if !onlyInFiles.isEmpty {
            warnings.append("migrations \(onlyInFiles.map(Migration.id(of:)).joined(separator: ", ")) were not applied "
                + "when the backup was taken: the restored documents predate them")
        }
        let changed = backedUp.compactMap { version, row -> String? in
            guard let file = files[version], let checksum = row["checksum"]?.stringValue, checksum != file.checksum else { return nil }
            return file.fileName
        }.sorted()
        if !changed.isEmpty {
            warnings.append("migration files changed since the backup was taken: \(changed.joined(separator: ", "))")
        }
        return warnings
    }
}
