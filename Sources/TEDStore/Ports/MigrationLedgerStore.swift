import Foundation

// A port of the migrations (`MigrationRunner`, through `MigrationLedger`), in the store module with them.

/// A row of the ledger `schema_migrations`: this version ran, from a file with this checksum.
public struct AppliedMigration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let checksum: String
    public let appliedAt: Date
    public let durationMs: Int

    public init(version: Int, name: String, checksum: String, appliedAt: Date, durationMs: Int) {
        self.version = version
        self.name = name
        self.checksum = checksum
        self.appliedAt = appliedAt
        self.durationMs = durationMs
    }

    public var id: String { Migration.id(of: version) }
    public var label: String { "\(id)_\(name)" }
}

/// The migration ledger: which versions of the schema ran, one row each, kept in the store they changed.
public protocol MigrationLedgerStore: Sendable {
    /// The applied migrations, by version; none when there is no ledger. Reading never creates it: a dry run must
    /// leave a fresh database empty.
    func appliedMigrations() async throws(StoreError) -> [AppliedMigration]
    /// Keeps `migration` in the ledger; a version already kept is left as it is.
    func recordMigration(_ migration: AppliedMigration) async throws(StoreError)
    /// Removes the row of `version`, if kept (its down steps ran).
    func removeMigration(version: Int) async throws(StoreError)
}
