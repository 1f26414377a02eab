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
        var roomWaiters = RoomWaiters()
    }

    public let flag: PersistenceFlag
    public let rules: OutcomeRules
    public let sizes: BufferSizes
    public let pendingCapacity: Int
    /// Pending records from which every ingest calls the high-water handler.
    public let highWater: Int
    private let state: Mutex<State>
    /// `state.pending.count` as of the last change, readable without the lock: every ingest request reads it
    /// (`PersistenceRuntime.waitForRoom`, `admission`) besides taking the lock once to keep its records, and reading
    /// it under the lock doubled the lock's acquisitions on the request path while persistence is on: the two event
    /// loops then met on it a few times a second at 2,000 requests/s (`FUTEX_LOCK_PI` in `perf record -e
    /// syscalls:sys_enter_futex -g`), each time one loop sleeping in the kernel until the other let go. Stored by
    /// every locked change of the queue (`changingPending`).
    private let pendingGauge = Atomic<Int>(0)
    /// Durable mode: records go to the spool before the request is acknowledged.
    private let durableSink: GroupCommitter?
    /// Called when the pending queue reaches `highWater`, so the flush can move records to the spool.
    private let highWaterHandler = Mutex<(@Sendable () -> Void)?>(nil)

    /// `highWater` defaults to, and never passes, half of `pendingCapacity`.
    public init(rules: OutcomeRules, sizes: BufferSizes, pendingCapacity: Int, highWater: Int? = nil,
                dropsWhenFull: Bool = true, flag: PersistenceFlag, durableSink: GroupCommitter? = nil) {
        self.flag = flag
        self.rules = rules
        self.sizes = sizes
        self.pendingCapacity = pendingCapacity
        let half = (pendingCapacity + 1) / 2
        self.highWater = min(highWater ?? half, half)
        self.durableSink = durableSink
        state = Mutex(State(
            tracker: GameTracker(rules: rules),
            ticks: RingBuffer(capacity: sizes.tickSamples),
            summaries: RingBuffer(capacity: sizes.finishedGames),
            sideBets: RingBuffer(capacity: sizes.sideBets),
            pending: PendingQueue(capacity: pendingCapacity, dropsWhenFull: dropsWhenFull)))
    }

    /// With a spool, records pending past `SPOOL_HIGH_WATER` (at most half the queue) move there, so memory stays
    /// small while the store is slower than ingest; without one, half the queue only starts a flush early.
    public convenience init(settings: Settings, flag: PersistenceFlag, spooling: Bool = false, durableSink: GroupCommitter? = nil) {
        self.init(
            rules: OutcomeRules(settings: settings),
            sizes: BufferSizes(settings: settings), pendingCapacity: settings.maxPending,
            highWater: spooling ? settings.spoolHighWater : nil,
            dropsWhenFull: settings.overflowPolicy == .dropOldest, flag: flag, durableSink: durableSink)
    }

    public func onHighWater(_ handler: @escaping @Sendable () -> Void) {
        highWaterHandler.withLock { $0 = handler }
    }

    /// Calls the high-water handler: the flush starts now and, with a spool, moves what is pending there.
    public func askForRoom() {
        highWaterHandler.withLock { $0 }?()
    }

    /// What one ingest did: how many records it derived, and in durable mode the commit to wait for; or why it
    /// kept nothing of the request.
    public struct Receipt: Sendable {
        public let derived: Int
        public let durable: GroupCommitter.Ticket?
        public var refused: ClosedGameConflict? = nil
    }

    /// Applies validated events in order and keeps what they derive: always in the rings, and while persistence
    /// is on in the pending queue (or, in durable mode, in the spool). A request with a new update of a rugged game
    /// is refused whole (`Receipt.refused`), checked under the same lock as it would be applied.
    @discardableResult
    public func ingest(_ events: [IngestEvent], now: Date = Date()) -> Receipt {
        keep(now: now) { state, output in
            if let conflict = state.tracker.closedGameConflict(in: events) { return conflict }
            for event in events {
                state.tracker.apply(event, now: now, into: &output)
                state.acceptedEvents[event.kind, default: 0] += 1
            }
            return nil
        }
    }

    /// Ends the running game, its end inferred, when no update of it arrived since `cutoff` (`IdleGameMonitor`), and
    /// keeps what that derives as an ingest does. Returns the game it ended, the receipt of what it kept, and when
    /// the game running afterwards last had an update.
    @discardableResult
    public func endIdleGame(silentSince cutoff: Date, now: Date = Date()) -> (ended: String?, receipt: Receipt, lastUpdate: Date?) {
        var ended: String?
        let receipt = keep(now: now) { state, output in
            ended = state.tracker.endIdleGame(silentSince: cutoff, now: now, into: &output)
            return nil
        }
        return (ended, receipt, state.withLock { $0.tracker.currentGameLastUpdate })
    }

    /// Runs `derive` on the tracker and keeps its output: in the rings, and while persistence is on in the pending
    /// queue (or the durable spool); nothing when it refuses.
    @discardableResult
    private func keep(now: Date, _ derive: (inout State, inout TrackerOutput) -> ClosedGameConflict?) -> Receipt {
        let persist = flag.isEnabled
        let receipt = changingPending { state -> (Receipt, pending: Int) in
            var output = TrackerOutput()
            if let refused = derive(&state, &output) {
                return (Receipt(derived: 0, durable: nil, refused: refused), state.pending.count)
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
            guard persist else { return (Receipt(derived: output.recordCount, durable: nil), state.pending.count) }
            if let durableSink {
                let records = output.storeRecords
                for record in records {
                    state.pending.account(.accepted, record.collection, 1)
                    state.pending.account(.spooled, record.collection, 1)
                }
                // Records an earlier commit could not make durable are committed first, with this request's: a 202 says
                // that everything acknowledged so far is on disk, including a retry of a request that got a 503 (whose
                // events the tracker has already seen, so it derives nothing new).
                var committing: [StoreRecord] = []
                while let kept = state.pending.takeBatch(limit: Int.max) {
                    state.pending.handOff(kept, to: .spooled)
                    committing += kept.records
                }
                committing += records
                guard !committing.isEmpty else { return (Receipt(derived: 0, durable: nil), state.pending.count) }
                return (Receipt(derived: records.count, durable: durableSink.enqueue(committing)), state.pending.count)
            }
            // Straight from the tracker's output: gathering the records into one array first cost five allocations
            // under the lock that every request takes.
            output.forEachStoreRecord { state.pending.enqueue($0, at: now) }
            return (Receipt(derived: output.recordCount, durable: nil), state.pending.count)
        }
        if receipt.pending >= highWater { askForRoom() }
        return receipt.0
    }

    /// A durable commit failed: keep its records in memory instead (they stay accounted for, not durable).
    public func keepInMemory(_ records: [StoreRecord]) {
        changingPending { state in
            for record in records {
                state.pending.account(.spooled, record.collection, -1)
                state.pending.enqueue(record, accepted: false)
            }
        }
    }

    /// Records replayed from the spool were stored or refused (`superseded`: older versions the batch skipped).
    public func spoolDrained(_ collection: CollectionName, stored: Int, rejected: Int = 0, superseded: Int) {
        state.withLock { state in
            state.pending.account(.spooled, collection, -(stored + rejected + superseded))
            state.pending.account(.stored, collection, stored)
            state.pending.account(.rejected, collection, rejected)
            state.pending.account(.superseded, collection, superseded)
        }
    }

    /// Records taken back from the dead-letter to be written again: counted `recovered`, like the spool's.
    public func redrive(_ records: [StoreRecord]) {
        requeue(records, countedAs: .recovered)
    }

    /// Queues records that did not come in through ingest (re-driven letters, a catch-up), counted under `term`
    /// instead of `accepted`, so the accounting identity names where they came from.
    public func requeue(_ records: [StoreRecord], countedAs term: AccountingLedger.Term) {
        changingPending { state in
            for record in records {
                state.pending.account(term, record.collection, 1)
                state.pending.enqueue(record, accepted: false)
            }
        }
    }

    /// Records found in the spool at start, from an earlier run.
    public func spoolRecovered(_ counts: [CollectionName: Int]) {
        state.withLock { state in
            for (collection, n) in counts {
                state.pending.account(.recovered, collection, n)
                state.pending.account(.spooled, collection, n)
            }
        }
    }

    /// Counts a refused request by reason (nothing of it was kept).
    public func recordRejected(reason: String) {
        state.withLock { $0.rejectedRequests[reason, default: 0] += 1 }
    }

    // MARK: The flush side

    public func takeBatch(limit: Int, excluding: Set<CollectionName> = []) -> PendingQueue.Batch? {
        state.withLock { $0.pending.takeBatch(limit: limit, excluding: excluding) }
    }

    public func settle(_ batch: PendingQueue.Batch, fates: [RecordFate]) {
        makingRoom { $0.settle(batch, fates: fates) }
    }

    /// A spill could not hand the batch on: every waiter is woken to look again, whether the spool is full now (then
    /// waiting for room is pointless) or the records this dropped as superseded made room.
    public func putBack(_ batch: PendingQueue.Batch) {
        let waiters = changingPending { state in
            state.pending.putBack(batch)
            return state.roomWaiters.removeAll()
        }
        for waiter in waiters { waiter.resume(returning: .handedBack) }
    }

    public func handOff(_ batch: PendingQueue.Batch, to term: AccountingLedger.Term) {
        makingRoom { $0.handOff(batch, to: term) }
    }

    /// Runs `change` under the lock and then records the pending count it left (`pendingGauge`). Every change of
    /// `state.pending` that can add or remove records goes through here.
    private func changingPending<Result: Sendable>(_ change: (inout State) -> Result) -> Result {
        state.withLock { state in
            let result = change(&state)
            pendingGauge.store(state.pending.count, ordering: .relaxed)
            return result
        }
    }

    /// Runs a change of the pending queue that may shrink it, and wakes the requests the smaller count lets in.
    private func makingRoom(_ change: (inout PendingQueue) -> Void) {
        let ready = changingPending { state in
            change(&state.pending)
            return state.roomWaiters.ready(pending: state.pending.count)
        }
        for waiter in ready { waiter.resume(returning: .room) }
    }

    /// Returns once at most `limit` records are pending (`.room`), once a spill hands its records back
    /// (`.handedBack`), or once the task is cancelled. The flush wakes it: settling a batch, handing one to the spool.
    func waitForRoom(pendingAtMost limit: Int) async -> RoomWaiters.Wake {
        let id = state.withLock { $0.roomWaiters.takeID() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<RoomWaiters.Wake, Never>) in
                let now = state.withLock { state -> RoomWaiters.Wake? in
                    if Task.isCancelled { return .cancelled }
                    if state.pending.count <= limit { return .room }
                    state.roomWaiters.add(id: id, pendingAtMost: limit, continuation: continuation)
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            state.withLock { $0.roomWaiters.remove(id: id) }?.resume(returning: .cancelled)
        }
    }

    /// Requests waiting for room now.
    var roomWaiterCount: Int { state.withLock { $0.roomWaiters.count } }

    // MARK: Reads (served from memory whatever the flag)

    public func latestTickSamples(_ limit: Int) -> [TickSample] { state.withLock { $0.ticks.latest(limit) } }
    public func latestGameSummaries(_ limit: Int) -> [GameSummary] { state.withLock { $0.summaries.latest(limit) } }
    public func latestSideBets(_ limit: Int) -> [SideBet] { state.withLock { $0.sideBets.latest(limit) } }
    public var pendingCount: Int { pendingGauge.load(ordering: .relaxed) }
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
        /// When the oldest record waiting in memory was queued, by collection.
        public var oldestPendingAt: [CollectionName: Date]
        public var ledger: AccountingLedger
        public var ringCounts: (ticks: Int, finishedGames: Int, sideBets: Int)
    }

    public var counters: Counters {
        state.withLock { state in
            Counters(
                acceptedEvents: state.acceptedEvents, recordsDerived: state.recordsDerived,
                ignoredUpdates: state.ignoredUpdates, rejectedRequests: state.rejectedRequests, pending: state.pending.count,
                pendingByCollection: Dictionary(uniqueKeysWithValues: CollectionName.flushed.map { ($0, state.pending.count(of: $0)) }),
                oldestPendingAt: CollectionName.flushed.reduce(into: [:]) { $0[$1] = state.pending.oldestQueuedAt($1) },
                ledger: state.pending.ledger,
                ringCounts: (state.ticks.count, state.summaries.count, state.sideBets.count))
        }
    }
}
