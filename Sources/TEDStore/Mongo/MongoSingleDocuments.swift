import CLibMongoC
import Foundation
import TEDCore

/// Reads and writes of one document at a time, which the ports' small collections (locks, metrics, dead letters)
/// are made of, and the one `delete_many` every delete goes through.
extension MongoStore {
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
