import Foundation
import Logging
import TEDCore
import TEDStore

/// At start: warn about pending migrations and keep serving, or apply them under the migration lock with
/// `MIGRATE_ON_START=true`; warn too about a database a newer ted migrated (a binary rolled back without its schema).
/// A store that cannot be reached is only logged: persistence must not stop the service.
enum StartupMigrations {
    static func check(store: any DocumentStore, settings: Settings, logger: Logger) async {
        let files = MigrationFiles.resolve(explicit: nil, environment: ProcessInfo.processInfo.environment)
        do {
            let runner = MigrationRunner(store: store, migrations: try files.load())
            let status = try await runner.status()
            let pending = status.pending.count
            let tedV1 = try await runner.tedV1Findings()
            if !status.appliedWithoutFile.isEmpty { warnAhead(status.appliedWithoutFile, known: runner.migrations, logger: logger) }
            guard pending > 0 || !tedV1.isEmpty else {
                if status.appliedWithoutFile.isEmpty {
                    logger.info("Schema is up to date", metadata: ["migrations": "\(runner.migrations.count)"])
                }
                return
            }
            if settings.migrateOnStart {
                let run = try await runner.applyPending()
                logger.notice("Applied pending migrations at start",
                              metadata: ["applied": "\(run.applied.map(\.version))", "adopted_ted_v1": "\(run.adoptedTEDV1)"])
            } else if pending > 0 {
                logger.warning("\(pending) pending migration(s): run `ted migrate` (or set MIGRATE_ON_START=true)")
            } else {
                // Its unique indexes refuse this service's records, which would all go to the dead-letter.
                logger.warning("The database is one TED-V1 wrote: run `ted migrate` (or set MIGRATE_ON_START=true) to adopt it")
            }
        } catch {
            logger.warning("Could not check migrations at start: \(error)")
        }
    }

    /// Versions in the ledger that this ted has no file for: a newer ted migrated the database, and this one may
    /// read or write its tables in a shape they no longer have. Only the newer ted can revert them (it has their
    /// `down` steps), so the warning says which version to take the database back to.
    private static func warnAhead(_ unknown: [AppliedMigration], known: [Migration], logger: Logger) {
        let latest = known.map(\.version).max() ?? 0
        logger.warning("""
            The database has \(unknown.count) migration(s) this ted does not know (\(unknown.map(\.label).joined(separator: ", "))): \
            a newer ted migrated it. Run that ted, or revert them with it (`ted migrate --to \(latest)`) before running this one
            """, metadata: ["unknown_versions": "\(unknown.map(\.version))", "latest_known": "\(latest)"])
    }
}
