import Foundation
import TEDCore

/// Collection snapshots in MongoDB: pages sorted by `_id` and counted by the server, on the read clients (a backup
/// or an export never takes a client the flush needs); a restore replaces each document by `_id` in one unordered
/// bulk write per page.
extension MongoStore {
    public func documentPage(of collection: CollectionName, matching selection: DocumentSelection, afterID: String?,
                             limit: Int) async throws(StoreError) -> [Document] {
        guard limit > 0 else { return [] }  // MongoDB reads a limit of 0 as "no limit".
        var query = Self.query(selection)
        if let afterID { query.append("_id", .document(["$gt": .string(afterID)])) }
        let encodedQuery = try BSONCodec.encode(query)
        let options = try BSONCodec.encode([
            "sort": .document(["_id": .int32(1)]), "limit": .int64(Int64(limit)), "maxTimeMS": .int64(Self.readMaxTimeMS),
        ])
        return try await withCollection(collection, on: readPool) { [self] handle throws(StoreError) in
            try findRaw(handle, query: encodedQuery, options: options, context: "read a page of \(collection)")
                .map { bytes throws(StoreError) in try BSONCodec.decode(bytes) }
        }
    }

    public func documentCount(of collection: CollectionName, matching selection: DocumentSelection) async throws(StoreError) -> Int {
        let query = try BSONCodec.encode(Self.query(selection))
        return try await withCollection(collection, on: readPool) { [self] handle throws(StoreError) in
            try count(handle, query: query, context: "count the documents of \(collection)")
        }
    }

    public func restoreDocuments(_ documents: [Document], into collection: CollectionName) async throws(StoreError) -> Int {
        try await upsert(documents, into: collection).total
    }

    /// The query of `selection`: a date range matches dates only, `game_id` the string only.
    private static func query(_ selection: DocumentSelection) -> Document {
        var query = Document()
        if let window = selection.window {
            var bounds = Document()
            if let from = window.from { bounds.append("$gte", .date(from)) }
            if let to = window.to { bounds.append("$lt", .date(to)) }
            if !bounds.isEmpty { query.append(window.field, .document(bounds)) }
        }
        if let gameID = selection.gameID { query.append("game_id", .string(gameID)) }
        return query
    }
}
