import Foundation
import TEDCore

/// The migration ledger in MongoDB's `schema_migrations`: read sorted by `version` by the server (a missing
/// collection reads as empty and is not created), a row inserted once by `_id`, removed by `_id`.
extension MongoStore {
    public func appliedMigrations() async throws(StoreError) -> [AppliedMigration] {
        let query = try BSONCodec.encode([:])
        let options = try BSONCodec.encode(["sort": .document(["version": .int32(1)]), "maxTimeMS": .int64(Self.readMaxTimeMS)])
        return try await withCollection(.schemaMigrations, on: readPool) { [self] handle throws(StoreError) in
            try findRaw(handle, query: query, options: options, context: "read the migration ledger")
                .map { bytes throws(StoreError) in try MigrationLedgerDocuments.decode(try BSONCodec.decode(bytes)) }
        }
    }

    public func recordMigration(_ migration: AppliedMigration) async throws(StoreError) {
        _ = try await insert([MigrationLedgerDocuments.encode(migration)], into: .schemaMigrations)
    }

    public func removeMigration(version: Int) async throws(StoreError) {
        let selector = try BSONCodec.encode(["_id": .string(Migration.id(of: version))])
        _ = try await withCollection(.schemaMigrations) { [self] handle throws(StoreError) in
            try deleteMany(handle, selector, context: "remove migration \(Migration.id(of: version)) from the ledger")
        }
    }
}
