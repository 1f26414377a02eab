import CLibMongoC
import Foundation
import TEDCore

/// The flag history in MongoDB: each change inserted once by its deterministic `_id` (a duplicate key is a change
/// synced before), listed through the server's sort on `created_at`.
extension MongoStore {
    public func appendFlagChanges(_ changes: [FlagChange]) async throws(StoreError) {
        guard !changes.isEmpty else { return }
        let documents = try changes.map { change throws(StoreError) in try BSONCodec.encode(change.document) }
        try await withCollection(.flagHistory) { [self] handle throws(StoreError) in
            // Changes are few (an operator's switches): one insert each keeps the duplicate case plain.
            for document in documents {
                try withBSONView(document) { document throws(StoreError) in
                    var error = bson_error_t()
                    guard mongoc_collection_insert_one(handle, document, nil, nil, &error)
                        || ted_bson_error_code(&error) == Self.duplicateKey
                    else { throw pool.storeError(&error, "keep a flag change") }
                }
            }
        }
    }

    public func latestFlagChanges(limit: Int) async throws(StoreError) -> [FlagChange] {
        guard limit > 0 else { return [] }  // MongoDB reads a limit of 0 as "no limit".
        let query = try BSONCodec.encode([:])
        let options = try BSONCodec.encode([
            "sort": .document(["created_at": .int32(-1), "_id": .int32(-1)]), "limit": .int64(Int64(limit)),
            "maxTimeMS": .int64(Self.readMaxTimeMS),
        ])
        return try await withCollection(.flagHistory, on: readPool) { [self] handle throws(StoreError) in
            try findRaw(handle, query: query, options: options, context: "list the flag history")
                .map { bytes throws(StoreError) in try FlagChange(document: try BSONCodec.decode(bytes)) }
        }
    }
}
