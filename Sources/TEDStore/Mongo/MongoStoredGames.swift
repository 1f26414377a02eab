import Foundation
import TEDCore

/// Stored games in MongoDB: pages by the `created_at` index, a game by `_id`, its predictions and side bets by their
/// `game_id` index, sorted by the server.
extension MongoStore {
    public func latestGames(limit: Int, before: Date?) async throws(StoreError) -> [Document] {
        guard limit > 0 else { return [] }  // MongoDB reads a limit of 0 as "no limit".
        let query: Document = before.map { ["created_at": .document(["$lt": .date($0)])] } ?? [:]
        return try await documents(.games, query, sort: ["created_at": .int32(-1)], limit: limit)
    }

    public func storedGame(_ gameID: String) async throws(StoreError) -> Document? {
        try await documents(.games, ["_id": .string(gameID)], sort: [:], limit: 1).first
    }

    public func storedGameDetail(_ gameID: String) async throws(StoreError) -> StoredGameDetail? {
        guard let game = try await storedGame(gameID) else { return nil }
        let ofGame: Document = ["game_id": .string(gameID)]
        return StoredGameDetail(
            game: game,
            predictions: try await documents(.predictions, ofGame, sort: ["predicted_at_tick": .int32(1)], limit: nil),
            sideBets: try await documents(.sideBets, ofGame, sort: ["placed_at_tick": .int32(1)], limit: nil))
    }

    /// The documents of `collection` matching `query`, on the read clients.
    private func documents(_ collection: CollectionName, _ query: Document, sort: Document,
                           limit: Int?) async throws(StoreError) -> [Document] {
        let encodedQuery = try BSONCodec.encode(query)
        var options: Document = ["maxTimeMS": .int64(Self.readMaxTimeMS)]
        if !sort.isEmpty { options["sort"] = .document(sort) }
        if let limit { options["limit"] = .int64(Int64(limit)) }
        let encodedOptions = try BSONCodec.encode(options)
        return try await withCollection(collection, on: readPool) { [self] handle throws(StoreError) in
            try findRaw(handle, query: encodedQuery, options: encodedOptions, context: "read \(collection)")
                .map { bytes throws(StoreError) in try BSONCodec.decode(bytes) }
        }
    }
}
