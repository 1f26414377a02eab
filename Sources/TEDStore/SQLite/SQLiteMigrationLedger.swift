import Foundation
import TEDCore

/// The migration ledger in SQLite's `schema_migrations` table, through the store's own document reads and writes
/// (`DocumentCollections`): a missing table reads as empty and is not created.
extension SQLiteStore {
    public func appliedMigrations() async throws(StoreError) -> [AppliedMigration] {
        try await find(.schemaMigrations, where: .all, sort: DocumentSort("version"), limit: nil)
            .map { row throws(StoreError) in try MigrationLedgerDocuments.decode(row) }
    }

    public func recordMigration(_ migration: AppliedMigration) async throws(StoreError) {
        _ = try await insert([MigrationLedgerDocuments.encode(migration)], into: .schemaMigrations)
    }

    public func removeMigration(version: Int) async throws(StoreError) {
        _ = try await delete(from: .schemaMigrations, where: .ids([Migration.id(of: version)]), limit: 1)
    }
}
