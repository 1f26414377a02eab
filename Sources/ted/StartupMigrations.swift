import Foundation
import Logging
import TEDCore
import TEDStore

/// At start: warn about pending migrations and keep serving, or apply them under the migration lock with
/// `MIGRATE_ON_START=true`. A store that cannot be reached is only logged: persistence must not stop the service.
enum StartupMigrations {
    static func check(store: any DocumentStore, settings: Settings, logger: Logger) async {
        let files = MigrationFiles.resolve(explicit: nil, environment: ProcessInfo.processInfo.environment)
        do {
            let runner = MigrationRunner(store: store, migrations: try files.load())
            let pending = try await runner.pendingCount()
            let tedV1 = try await runner.tedV1Findings()
            guard pending > 0 || !tedV1.isEmpty else {
                logger.info("Schema is up to date", metadata: ["migrations": "\(runner.migrations.count)"])
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
}
