import Foundation

/// One layout of the ledger rows for both stores (and their backups): `{_id: "<version as 4 digits>", version,
/// name, checksum, applied_at, duration_ms}`.
enum MigrationLedgerDocuments {
    static func encode(_ migration: AppliedMigration) -> Document {
        [
            "_id": .string(migration.id), "version": .int64(Int64(migration.version)), "name": .string(migration.name),
            "checksum": .string(migration.checksum), "applied_at": .date(migration.appliedAt),
            "duration_ms": .int64(Int64(migration.durationMs)),
        ]
    }

    static func decode(_ document: Document) throws(StoreError) -> AppliedMigration {
        guard let version = document["version"]?.intValue, let name = document["name"]?.stringValue,
              let checksum = document["checksum"]?.stringValue, let appliedAt = document["applied_at"]?.dateValue else {
            throw StoreError(.corrupt, "schema_migrations row \(document["_id"]?.stringValue ?? "?") lacks version, name, checksum or applied_at")
        }
        return AppliedMigration(version: version, name: name, checksum: checksum, appliedAt: appliedAt,
                                durationMs: document["duration_ms"]?.intValue ?? 0)
    }
}
