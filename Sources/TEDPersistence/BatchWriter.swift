import TEDCore
import TEDStore

/// Writes one batch of one collection and says what became of each record. The store's writes commute (facts
/// inserted once, outcomes only set, games merged monotonically), so batches may be written in any order, again, or
/// by two instances. After facts are written, the outcomes of the games they belong to are resolved in the store.
public struct BatchWriter: Sendable {
    public let store: any DocumentStore
    public let rules: OutcomeRules

    public init(store: any DocumentStore, rules: OutcomeRules) {
        self.store = store
        self.rules = rules
    }

    /// What became of a batch: each record's fate in order, and the error of the outcome resolution when it failed
    /// for a reason a retry would not cure (the records are stored all the same).
    public struct Result: Sendable {
        public var fates: [RecordFate]
        public var resolutionError: StoreError?
    }

    public func write(_ records: [StoreRecord], to collection: CollectionName) async -> Result {
        var fates = await fates(of: records, in: collection)
        let games = Self.gamesToResolve(records, fates: fates, in: collection)
        guard !games.isEmpty else { return Result(fates: fates) }
        do throws(StoreError) {
            try await store.resolveOutcomes(ofGames: games, rules: rules)
        } catch where error.isRetryable {
            // Stored but not resolved: written again later (a no-op) so the resolution runs again.
            for index in fates.indices where fates[index] == .stored || fates[index] == .alreadyStored {
                fates[index] = .retryable(error)
            }
        } catch {
            return Result(fates: fates, resolutionError: error)
        }
        return Result(fates: fates)
    }

    /// The store's fates; when it refuses a whole call for a reason a retry would not cure, one record may be at
    /// fault: halve the batch until it is found, so it alone is refused and nothing waits behind it.
    private func fates(of records: [StoreRecord], in collection: CollectionName) async -> [RecordFate] {
        do throws(StoreError) {
            return try await store.write(records, to: collection)
        } catch where error.isRetryable {
            return Array(repeating: .retryable(error), count: records.count)
        } catch {
            guard records.count > 1 else { return [.refused(error)] }
            let half = records.count / 2
            return await fates(of: Array(records[..<half]), in: collection) + fates(of: Array(records[half...]), in: collection)
        }
    }

    /// Games whose outcomes may now be resolvable, or whose counters may have changed: ended games just written, or
    /// the games of predictions and side bets just written (the store resolves and recounts those whose game it holds
    /// as ended; resolved ones count too, since the game's own write may have come before them).
    private static func gamesToResolve(_ records: [StoreRecord], fates: [RecordFate], in collection: CollectionName) -> [String] {
        // Tick samples change no outcome, and they are most of what is written.
        guard collection != .tickSamples else { return [] }
        var ids: [String] = []
        var seen: Set<String> = []
        for (record, fate) in zip(records, fates) where fate == .stored || fate == .alreadyStored {
            let id: String? = switch record {
            case .game(let game): game.ended ? game.gameID : nil
            case .prediction(let prediction): prediction.gameID
            case .sideBet(let sideBet): sideBet.gameID
            case .tickSample: nil
            }
            if let id, seen.insert(id).inserted { ids.append(id) }
        }
        return ids
    }
}
