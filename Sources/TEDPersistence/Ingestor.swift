import Foundation
import Synchronization
import TEDBuffers
import TEDCore
import TEDStore

/// Capacities of the in-memory history.
public struct BufferSizes: Sendable {
    public var tickSamples: Int
    public var finishedGames: Int
    public var sideBets: Int

    public init(tickSamples: Int, finishedGames: Int, sideBets: Int) {
        self.tickSamples = tickSamples
        self.finishedGames = finishedGames
        self.sideBets = sideBets
    }

    public init(settings: Settings) {
        self.init(tickSamples: settings.streamRingSize, finishedGames: settings.predictionHistorySize,
                  sideBets: settings.sideBetHistorySize)
    }
}

/// The single entry point of accepted data: derives records, keeps recent history in the rings and, while
/// persistence is on, queues records for the flush. Touches memory only, so ingest never waits on a store.
public final class Ingestor: Sendable {
    struct State: Sendable {
        var tracker: GameTracker
        var ticks: RingBuffer<TickSample>
        var summaries: RingBuffer<GameSummary>
        var sideBets: RingBuffer<SideBet>
        var pending: PendingQueue
        var acceptedEvents: [EventKind: Int] = [:]
        var recordsDerived = 0
        var ignoredUpdates = 0
        var rejectedRequests: [String: Int] = [:]
    }

    public let flag: PersistenceFlag
    public let sizes: BufferSizes
    private let state: Mutex<State>

    public init(rules: OutcomeRules, sizes: BufferSizes, pendingCapacity: Int, flag: PersistenceFlag) {
        self.flag = flag
        self.sizes = sizes
        state = Mutex(State(
            tracker: GameTracker(rules: rules),
            ticks: RingBuffer(capacity: sizes.tickSamples),
            summaries: RingBuffer(capacity: sizes.finishedGames),
            sideBets: RingBuffer(capacity: sizes.sideBets),
            pending: PendingQueue(capacity: pendingCapacity)))
    }

    public convenience init(settings: Settings, flag: PersistenceFlag) {
        self.init(
            rules: OutcomeRules(sideBetWindowTicks: settings.sideBetWindowTicks,
                                sideBetPayoutMultiplier: settings.sideBetPayoutMultiplier,
                                sampleEveryTicks: settings.streamSampleEveryTicks),
            sizes: BufferSizes(settings: settings), pendingCapacity: settings.maxPending, flag: flag)
    }

    /// Applies validated events in order. Returns the records derived (what would be persisted).
    @discardableResult
    public func ingest(_ events: [IngestEvent], now: Date = Date()) -> Int {
        let persist = flag.isEnabled
        return state.withLock { state in
            var output = TrackerOutput()
            for event in events {
                state.tracker.apply(event, now: now, into: &output)
                state.acceptedEvents[event.kind, default: 0] += 1
            }
            state.ticks.append(contentsOf: output.tickSamples)
            state.summaries.append(contentsOf: output.finishedGames)
            for sideBet in output.sideBets {
                let id = sideBet.id
                if !sideBet.isResolved || !state.sideBets.replaceLast(lookingBack: state.sideBets.capacity, where: { $0.id == id }, with: sideBet) {
                    state.sideBets.append(sideBet)
                }
            }
            state.recordsDerived += output.recordCount
            state.ignoredUpdates += output.ignoredUpdates
            if persist {
                for game in output.games { state.pending.enqueue(.game(game)) }
                for prediction in output.predictions { state.pending.enqueue(.prediction(prediction)) }
                for sideBet in output.sideBets { state.pending.enqueue(.sideBet(sideBet)) }
                for sample in output.tickSamples { state.pending.enqueue(.tickSample(sample)) }
            }
            return output.recordCount
        }
    }

    /// Counts a refused request by reason (nothing of it was kept).
    public func recordRejected(reason: String) {
        state.withLock { $0.rejectedRequests[reason, default: 0] += 1 }
    }

    // MARK: The flush side

    public func takeBatch(limit: Int) -> PendingQueue.Batch? {
        state.withLock { $0.pending.takeBatch(limit: limit) }
    }

    public func complete(_ batch: PendingQueue.Batch) {
        state.withLock { $0.pending.complete(batch) }
    }

    public func putBack(_ batch: PendingQueue.Batch) {
        state.withLock { $0.pending.putBack(batch) }
    }

    public func handOff(_ batch: PendingQueue.Batch, to term: AccountingLedger.Term) {
        state.withLock { $0.pending.handOff(batch, to: term) }
    }

    // MARK: Reads (served from memory whatever the flag)

    public func latestTickSamples(_ limit: Int) -> [TickSample] { state.withLock { $0.ticks.latest(limit) } }
    public func latestGameSummaries(_ limit: Int) -> [GameSummary] { state.withLock { $0.summaries.latest(limit) } }
    public func latestSideBets(_ limit: Int) -> [SideBet] { state.withLock { $0.sideBets.latest(limit) } }
    public var currentGame: GameRecord? { state.withLock { $0.tracker.currentGame } }

    /// A game from memory: the running one or one of the finished games still in the history.
    public func game(id: String) -> (summary: GameRecord, predictions: [Prediction], sideBets: [SideBet])? {
        state.withLock { state in
            let sideBets = state.sideBets.latest(state.sideBets.count).filter { $0.gameID == id }
            if let current = state.tracker.currentGame, current.gameID == id {
                return (current, [], sideBets)
            }
            guard let summary = state.summaries.latest(state.summaries.count).last(where: { $0.game.gameID == id }) else { return nil }
            return (summary.game, summary.lastPrediction.map { [$0] } ?? [], sideBets)
        }
    }

    public struct Counters: Sendable {
        public var acceptedEvents: [EventKind: Int]
        public var recordsDerived: Int
        public var ignoredUpdates: Int
        public var rejectedRequests: [String: Int]
        public var pending: Int
        public var pendingByCollection: [CollectionName: Int]
        public var ledger: AccountingLedger
        public var ringCounts: (ticks: Int, finishedGames: Int, sideBets: Int)
    }

    public var counters: Counters {
        state.withLock { state in
            Counters(
                acceptedEvents: state.acceptedEvents, recordsDerived: state.recordsDerived,
                ignoredUpdates: state.ignoredUpdates, rejectedRequests: state.rejectedRequests, pending: state.pending.count,
                pendingByCollection: Dictionary(uniqueKeysWithValues: CollectionName.flushed.map { ($0, state.pending.count(of: $0)) }),
                ledger: state.pending.ledger,
                ringCounts: (state.ticks.count, state.summaries.count, state.sideBets.count))
        }
    }
}
