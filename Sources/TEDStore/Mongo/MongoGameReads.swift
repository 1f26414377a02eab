import Foundation
import TEDCore

/// Game recordings in MongoDB: a game's tick samples found through the `_id` index (their keys share the prefix
/// `game_id:`), sorted by tick by the server; only the fields of a recorded tick travel back.
extension MongoStore {
    public func recordedTicks(ofGame gameID: String, afterTick: Int, limit: Int) async throws(StoreError) -> [RecordedTick] {
        guard limit > 0 else { return [] }  // MongoDB reads a limit of 0 as "no limit".
        let range = RecordedTick.idRange(ofGame: gameID)
        let query = try BSONCodec.encode([
            "_id": .document(["$gte": .string(range.lower), "$lt": .string(range.upper)]),
            "game_id": .string(gameID),
            "tick": .document(["$gt": .int64(Int64(afterTick))]),
        ])
        let options = try BSONCodec.encode([
            "projection": .document(["tick": .int32(1), "price": .int32(1), "timestamp": .int32(1)]),
            "sort": .document(["tick": .int32(1)]),
            "limit": .int64(Int64(limit)),
            "maxTimeMS": .int64(Self.readMaxTimeMS),
        ])
        return try await withCollection(.tickSamples, on: readPool) { [self] handle throws(StoreError) in
            try findRaw(handle, query: query, options: options, context: "read the ticks of game \(gameID)")
                .map { bytes throws(StoreError) in try RecordedTick(document: try BSONCodec.decode(bytes)) }
        }
    }
}
