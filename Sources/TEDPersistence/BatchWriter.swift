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

    /// A batch made ready for its write. Documents are built ahead, so the flush can build the next batch's while
    /// the store takes the previous one; games are merged with the stored game only at their turn, after every
    /// earlier write.
    public enum Prepared: Sendable {
        case insert([Document], into: CollectionName)
        case upsert([Document], into: CollectionName)
        case games([StoreRecord])
    }

    public func prepare(_ records: [StoreRecord], to collection: CollectionName) -> Prepared {
        switch collection {
        case .tickSamples: .insert(records.map(\.document), into: collection)
        case .games: .games(records)
        default: .upsert(records.map(\.document), into: collection)
        }
    }

    public func write(_ prepared: Prepared) async throws(StoreError) -> WriteOutcome {
        switch prepared {
        case .insert(let documents, let collection): try await store.insert(documents, into: collection)
        case .upsert(let documents, let collection): try await store.upsert(documents, into: collection)
        case .games(let records): try await store.upsert(try await mergedGames(records), into: .games)
        }
    }

    public func write(_ records: [StoreRecord], to collection: CollectionName) async throws(StoreError) -> WriteOutcome {
        try await write(prepare(records, to: collection))
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
