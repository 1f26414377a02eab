import Foundation
import TEDCore
import TEDStore

/// Catch-up after a rollback: what the in-memory rings still hold from periods the flag was off, written through the
/// write path once an operator asks for it (never on its own: "off" means nothing is written, and turning the flag
/// on again does not change what was decided then). Ids are the records' natural keys, so a record the store
/// already has is "already stored", never a duplicate; a period is taken once, so a second catch-up adds nothing.
public enum CatchUp {
    public struct Result: Sendable, Equatable {
        /// Records handed to the write path, by collection name, every flushed collection present (counted
        /// `caught_up` in the accounting).
        public var counts: [String: Int]
        /// The off periods this catch-up took, oldest first.
        public var periods: [OffPeriods.Period]
    }

    public enum Outcome: Sendable, Equatable {
        case caughtUp(Result)
        /// Persistence is off (or has no store): nothing was taken or written.
        case disabled
    }

    /// The records of the rings that belong to `periods`: tick samples, predictions and side bets received in one,
    /// and finished games that were running during one (their end, at least, was never written; a game merge
    /// commutes, so sending one the store has whole changes nothing).
    static func records(ticks: [TickSample], games: [GameSummary], sideBets: [SideBet],
                        in periods: [OffPeriods.Period]) -> [StoreRecord] {
        guard !periods.isEmpty else { return [] }
        func received(_ date: Date) -> Bool { periods.contains { $0.contains(date) } }
        let finished = games.filter { summary in periods.contains { $0.overlaps(from: summary.game.createdAt, to: summary.game.updatedAt) } }
        return finished.map { StoreRecord.game($0.game) }
            + games.compactMap(\.lastPrediction).filter { received($0.createdAt) }.map(StoreRecord.prediction)
            + sideBets.filter { received($0.createdAt) }.map(StoreRecord.sideBet)
            + ticks.filter { received($0.createdAt) }.map(StoreRecord.tickSample)
    }
}

extension PersistenceRuntime {
    /// Queues what the rings hold from the off periods no catch-up took yet, and asks for a flush.
    public func catchUp() -> CatchUp.Outcome {
        guard flag.isEnabled, store != nil else { return .disabled }
        let periods = flag.takeOffPeriodsToCatchUp()
        let records = CatchUp.records(
            ticks: ingestor.latestTickSamples(ingestor.sizes.tickSamples),
            games: ingestor.latestGameSummaries(ingestor.sizes.finishedGames),
            sideBets: ingestor.latestSideBets(ingestor.sizes.sideBets), in: periods)
        ingestor.requeue(records, countedAs: .caughtUp)
        if !records.isEmpty { requestFlush() }
        let counts = Dictionary(grouping: records, by: \.collection).mapValues(\.count)
        return .caughtUp(CatchUp.Result(
            counts: Dictionary(uniqueKeysWithValues: CollectionName.flushed.map { ($0.rawValue, counts[$0] ?? 0) }), periods: periods))
    }
}
