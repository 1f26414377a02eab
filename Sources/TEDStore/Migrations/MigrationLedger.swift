import Foundation

/// Reads and writes the ledger through the store's `MigrationLedgerStore` port. Reading never creates it: a dry run
/// must leave a fresh database empty.
struct MigrationLedger {
    let store: any DocumentStore

    func applied() async throws(StoreError) -> [AppliedMigration] {
        try await store.appliedMigrations()
    }

    /// Created explicitly before the first row, as SQLite has no implicit tables.
    func ensureExists() async throws(StoreError) {
        try await SchemaSteps(schema: store.schema).ensureCollection(CollectionSpec(name: .schemaMigrations))
    }

    /// Written only once every step of the version succeeded, so a crash before it means "re-run the version".
    func record(_ migration: Migration, appliedAt: Date, durationMs: Int) async throws(StoreError) {
        try await store.recordMigration(AppliedMigration(version: migration.version, name: migration.name,
                                                         checksum: migration.checksum, appliedAt: appliedAt,
                                                         durationMs: durationMs))
    }

    func remove(_ migration: Migration) async throws(StoreError) {
        try await store.removeMigration(version: migration.version)
    }
}
