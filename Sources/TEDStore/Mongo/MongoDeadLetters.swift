import Foundation
import TEDCore

/// The dead-letter in MongoDB: one `dead_letters` document per refused record (`DeadLetterDocument`), replaced by
/// `_id` when the record is refused again, listed through the server's sort on `created_at`.
extension MongoStore {
    public func addDeadLetters(_ letters: [DeadLetter]) async throws(StoreError) {
        // Letters are few (records refused for good): one replace each keeps it plain.
        let documents = try letters.map { letter throws(StoreError) in try DeadLetterDocument.encode(letter) }
        try await replaceByID(documents, in: .deadLetters, context: "keep a dead letter")
    }

    public func deadLetters(limit: Int) async throws(StoreError) -> [DeadLetter] {
        guard limit > 0 else { return [] }  // MongoDB reads a limit of 0 as "no limit".
        let query = try BSONCodec.encode([:])
        let options = try BSONCodec.encode([
            "sort": .document(["created_at": .int32(1), "_id": .int32(1)]), "limit": .int64(Int64(limit)),
            "maxTimeMS": .int64(Self.readMaxTimeMS),
        ])
        return try await withCollection(.deadLetters, on: readPool) { [self] handle throws(StoreError) in
            try findRaw(handle, query: query, options: options, context: "list dead letters")
                .map { bytes throws(StoreError) in DeadLetterDocument.decode(try BSONCodec.decode(bytes)) }
        }
    }

    public func deadLetterCount() async throws(StoreError) -> Int {
        let query = try BSONCodec.encode([:])
        return try await withCollection(.deadLetters, on: readPool) { [self] handle throws(StoreError) in
            try count(handle, query: query, context: "count dead letters")
        }
    }

    public func purgeDeadLetters() async throws(StoreError) -> Int {
        try await deleteDeadLetters(try BSONCodec.encode([:]), context: "purge dead letters")
    }

    public func removeDeadLetters(of collection: CollectionName, recordIDs: [String]) async throws(StoreError) {
        guard !recordIDs.isEmpty else { return }
        let ids = recordIDs.map { DocumentValue.string(DeadLetterDocument.id(of: collection, recordID: $0)) }
        _ = try await deleteDeadLetters(try BSONCodec.encode(["_id": .document(["$in": .array(ids)])]),
                                        context: "remove dead letters")
    }

    private func deleteDeadLetters(_ selector: [UInt8], context: String) async throws(StoreError) -> Int {
        try await withCollection(.deadLetters) { [self] handle throws(StoreError) in
            try deleteMany(handle, selector, context: context)
        }
    }
}
