import TEDCore
import TEDStore

/// Writes one batch of one collection, idempotently: tick samples are inserted if absent; predictions and
/// side bets replace their earlier version; games are merged with the stored game first, so a restart in
/// mid-game never resets its start, peak or counters.
public struct BatchWriter: Sendable {
    public let store: any DocumentStore

    public init(store: any DocumentStore) {
        self.store = store
    }

    public func write(_ records: [StoreRecord], to collection: CollectionName) async throws(StoreError) -> WriteOutcome {
        switch collection {
        case .tickSamples:
            return try await store.insert(records.map(\.document), into: collection)
        case .games:
            return try await store.upsert(try await mergedGames(records), into: collection)
        default:
            return try await store.upsert(records.map(\.document), into: collection)
        }
    }

    private func mergedGames(_ records: [StoreRecord]) async throws(StoreError) -> [Document] {
        let stored = try await store.find(.games, where: .ids(records.map(\.id)), sort: nil, limit: nil)
        var storedByID: [String: GameRecord] = [:]
        for document in stored {
            if case .game(let game) = try StoreRecord(document: document, collection: .games) {
                storedByID[game.gameID] = game
            }
        }
        return records.compactMap { record -> Document? in
            guard case .game(let game) = record else { return nil }
            return (storedByID[game.gameID].map(game.merged(withStored:)) ?? game).document
        }
    }
}
