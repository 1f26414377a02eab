import Foundation
import TEDCore

/// Retention in MongoDB: `{created_at: {$lt: cutoff}}` (a date range matches dates only), counted and sorted by the
/// server; deletes go oldest first through the `_id`s of one sorted page.
extension MongoStore {
    public func expiredCount(in collection: CollectionName, before cutoff: Date) async throws(StoreError) -> Int {
        let query = try BSONCodec.encode(Self.createdBefore(cutoff))
        return try await withCollection(collection, on: readPool) { [self] handle throws(StoreError) in
            try count(handle, query: query, context: "count expired documents of \(collection)")
        }
    }

    public func oldestExpired(in collection: CollectionName, before cutoff: Date) async throws(StoreError) -> Date? {
        try await firstDate("created_at", of: collection, where: Self.createdBefore(cutoff), ascending: true)
    }

    public func deleteExpired(from collection: CollectionName, before cutoff: Date, limit: Int) async throws(StoreError) -> Int {
        try await deleteOldestFirst(from: collection, matching: try BSONCodec.encode(Self.createdBefore(cutoff)), limit: limit)
    }

    static func createdBefore(_ cutoff: Date) -> Document { ["created_at": .document(["$lt": .date(cutoff)])] }

    /// Deletes up to `limit` documents matching `query`, oldest `created_at` first (then by `_id`); returns how many.
    /// The `_id`s of the page travel back raw, so ids of any BSON type (TED-V1's ObjectIds) match again.
    func deleteOldestFirst(from collection: CollectionName, matching query: [UInt8], limit: Int) async throws(StoreError) -> Int {
        guard limit > 0 else { return 0 }
        let options = try BSONCodec.encode([
            "projection": .document(["_id": .int32(1)]),
            "sort": .document(["created_at": .int32(1), "_id": .int32(1)]),
            "limit": .int64(Int64(limit)),
        ])
        let context = "delete from \(collection)"
        return try await withCollection(collection) { [self] handle throws(StoreError) in
            var ids: [RawBSONValue] = []
            for document in try findRaw(handle, query: query, options: options, context: context) {
                if let id = try BSONCodec.rawField("_id", in: document) { ids.append(id) }
            }
            guard !ids.isEmpty else { return 0 }
            return try deleteMany(handle, try BSONCodec.encodeIn(field: "_id", values: ids), context: context)
        }
    }
}
