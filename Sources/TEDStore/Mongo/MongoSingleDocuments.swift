import CLibMongoC
import Foundation
import TEDCore

/// Reads and writes of one document at a time, which the ports' small collections (locks, metrics, dead letters)
/// are made of, and the one `delete_many` every delete goes through.
extension MongoStore {
    /// The document of `collection` whose `_id` is `id`, read on the read clients like every read (status shows
    /// leases: it must never take a client the flush needs); nil when there is none.
    func document(_ id: String, in collection: CollectionName) async throws(StoreError) -> Document? {
        let query = try BSONCodec.encode(["_id": .string(id)])
        let options = try BSONCodec.encode(["limit": .int64(1), "maxTimeMS": .int64(Self.readMaxTimeMS)])
        return try await withCollection(collection, on: readPool) { [self] handle throws(StoreError) in
            try findRaw(handle, query: query, options: options, context: "read \(id) in \(collection)")
                .first.map { bytes throws(StoreError) in try BSONCodec.decode(bytes) }
        }
    }

    /// Replaces (or inserts) each document by its `_id`, one `replace_one` with `upsert` each: for the few documents
    /// of the ports' small collections.
    func replaceByID(_ documents: [Document], in collection: CollectionName, context: String) async throws(StoreError) {
        guard !documents.isEmpty else { return }
        let selectors = try documents.map { document throws(StoreError) in
            guard let id = document["_id"] else { throw StoreError(.operationFailed, "\(context): a document has no _id") }
            return try BSONCodec.encode(["_id": id])
        }
        let encoded = try documents.map { document throws(StoreError) in try BSONCodec.encode(document) }
        let options = try BSONCodec.encode(["upsert": true])
        try await withCollection(collection) { [self] handle throws(StoreError) in
            try withBSONView(options) { options throws(StoreError) in
                for (selector, document) in zip(selectors, encoded) {
                    try withBSONView(selector) { selector throws(StoreError) in
                        try withBSONView(document) { document throws(StoreError) in
                            var error = bson_error_t()
                            guard mongoc_collection_replace_one(handle, selector, document, options, nil, &error) else {
                                throw pool.storeError(&error, context)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The lowest (or highest) date in `field` among the documents of `collection` matching `query`, sorted by the
    /// server, only that field travelling back; nil when none matches or it is not a date.
    func firstDate(_ field: String, of collection: CollectionName, where query: Document,
                   ascending: Bool) async throws(StoreError) -> Date? {
        let encodedQuery = try BSONCodec.encode(query)
        let options = try BSONCodec.encode([
            "projection": .document(["_id": .int32(0), field: .int32(1)]),
            "sort": .document([field: .int32(ascending ? 1 : -1)]), "limit": .int64(1), "maxTimeMS": .int64(Self.readMaxTimeMS),
        ])
        return try await withCollection(collection, on: readPool) { [self] handle throws(StoreError) in
            try findRaw(handle, query: encodedQuery, options: options, context: "find the first \(field) of \(collection)")
                .first.flatMap { bytes throws(StoreError) in try BSONCodec.decode(bytes)[field]?.dateValue }
        }
    }

    /// Runs `delete_many` with `selector` on a pool thread's collection handle; returns how many were deleted.
    func deleteMany(_ handle: OpaquePointer, _ selector: [UInt8], context: String) throws(StoreError) -> Int {
        try withBSONView(selector) { selector throws(StoreError) in
            try withReply { reply throws(StoreError) in
                var error = bson_error_t()
                guard mongoc_collection_delete_many(handle, selector, nil, reply, &error) else {
                    throw pool.storeError(&error, context)
                }
                return try BSONCodec.decodeReply(copyBSON(reply))["deletedCount"]?.intValue ?? 0
            }
        }
    }
}
