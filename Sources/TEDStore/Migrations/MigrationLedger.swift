import Foundation

/// A row of the ledger `schema_migrations`: this version ran, from a file with this checksum.
public struct AppliedMigration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let checksum: String
    public let appliedAt: Date
    public let durationMs: Int

    public var id: String { Migration.id(of: version) }
    public var label: String { "\(id)_\(name)" }

    init(document: Document) throws(StoreError) {
        guard let version = document["version"]?.intValue, let name = document["name"]?.stringValue,
              let checksum = document["checksum"]?.stringValue, let appliedAt = document["applied_at"]?.dateValue else {
            throw StoreError(.corrupt, "schema_migrations row \(document["_id"]?.stringValue ?? "?") lacks version, name, checksum or applied_at")
        }
        self.version = version
        self.name = name
        self.checksum = checksum
        self.appliedAt = appliedAt
        durationMs = document["duration_ms"]?.intValue ?? 0
    }
}

/// Reads and writes the ledger. Reading never creates it: a dry run must leave a fresh database empty.
struct MigrationLedger {
    let store: any DocumentStore

    func applied() async throws(StoreError) -> [AppliedMigration] {
        guard try await store.schema.collectionNames().contains(CollectionName.schemaMigrations.rawValue) else { return [] }
        let rows = try await store.find(.schemaMigrations, where: .all, sort: DocumentSort("version"), limit: nil)
        return try rows.map { (row) throws(StoreError) in try AppliedMigration(document: row) }
    }

    /// Created explicitly before the first row, as SQLite has no implicit tables.
    func ensureExists() async throws(StoreError) {
        try await SchemaSteps(schema: store.schema).ensureCollection(CollectionSpec(name: .schemaMigrations))
    }

    /// Written only once every step of the version succeeded, so a crash before it means "re-run the version".
    func record(_ migration: Migration, appliedAt: Date, durationMs: Int) async throws(StoreError) {
        let row: Document = [
            "_id": .string(migration.id), "version": .int64(Int64(migration.version)), "name": .string(migration.name),
            "checksum": .string(migration.checksum), "applied_at": .date(appliedAt), "duration_ms": .int64(Int64(durationMs)),
        ]
        _ = try await store.insert([row], into: .schemaMigrations)
    }

    func remove(_ migration: Migration) async throws(StoreError) {
        _ = try await store.delete(from: .schemaMigrations, where: .ids([migration.id]), limit: 1)
    }
}
