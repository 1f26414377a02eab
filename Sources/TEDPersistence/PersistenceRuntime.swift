import Foundation
import Logging
import Synchronization
import TEDCore
import TEDStore

/// What the HTTP layer may ask of the write path: the flag, the counts, the store's health. The HTTP layer
/// never talks to a store directly.
public final class PersistenceRuntime: Sendable {
    public let settings: Settings
    public let flag: PersistenceFlag
    public let ingestor: Ingestor
    public let store: (any DocumentStore)?
    public let statistics: FlushStatistics
    public let spool: Spool?
    public let startedAt: Date
    /// Every change of the flag, from the store and the local journal.
    public let flagHistory: FlagHistory
    /// Report queries at once (as many as the MongoDB store has read clients).
    public let reports = ReportGate(limit: 2)
    /// The last minutes of the write path, sampled by `TimelineSampler` (empty where no sampler runs).
    public let timeline = Timeline()
    private let requestFlushAction: @Sendable () -> Void
    /// Bounds `waitForRoom`: the clock of every background service, so a test moves it by hand.
    private let clock: any ServiceClock
    private let lastPing = Mutex<(at: ContinuousClock.Instant, reachable: Bool)?>(nil)

    public init(settings: Settings, flag: PersistenceFlag, ingestor: Ingestor, store: (any DocumentStore)?,
                statistics: FlushStatistics, spool: Spool? = nil, flagHistory: FlagHistory? = nil,
                requestFlush: @escaping @Sendable () -> Void = {}, clock: any ServiceClock = SystemClock()) {
        // Without one of its own (tests), a history that keeps this process's changes in memory.
        self.flagHistory = flagHistory ?? FlagHistory(inMemoryFor: flag, store: store, logger: Logger(label: "ted.flag-history"))
        self.spool = spool
        self.settings = settings
        self.flag = flag
        self.ingestor = ingestor
        self.store = store
        self.statistics = statistics
        self.startedAt = Date()
        self.requestFlushAction = requestFlush
        self.clock = clock
    }

    public var backendName: String { settings.backend == .mongodb ? "MongoDB" : "SQLite" }

    public func requestFlush() { requestFlushAction() }

    /// Why an ingest request must wait, under `OVERFLOW_POLICY=reject`.
    public struct Refusal: Sendable {
        public let reason: String
        public let retryAfterSeconds: Int
    }

    /// Nil when a request may be ingested. Only the reject policy refuses: when the records would have nowhere
    /// to go (durable: the spool is full; memory: the pending queue is full, which with a spool means the spool
    /// could not take more either).
    public func admission() -> Refusal? {
        guard settings.overflowPolicy == .reject, flag.isEnabled else { return nil }
        let spoolFull = spool?.isFull ?? true
        if settings.ingestDurability == .durable, spoolFull {
            return Refusal(reason: "the spool is full (SPOOL_MAX_BYTES) and the store is not draining it", retryAfterSeconds: 5)
        }
        if ingestor.pendingCount >= ingestor.pendingCapacity {
            return Refusal(reason: "the pending queue is full (PERSISTENCE_MAX_PENDING) and the store is not draining it", retryAfterSeconds: 5)
        }
        return nil
    }

    /// How a `waitForRoom` ended.
    public enum RoomWait: Sendable, Equatable {
        /// There was room, or nothing to wait for (flag off, durable mode, no spool, the spool full).
        case notNeeded
        /// The flush made room while the request waited.
        case roomMade
        /// The spool refused a spill for lack of room while the request waited: the queue's cap and the overflow
        /// policy apply.
        case spoolFull
        /// No room within the limit.
        case timedOut
        /// The request's task was cancelled.
        case cancelled
    }

    /// With a spool, memory holds twice the high-water mark at most while the spool has room: past it, an ingest
    /// request waits (at most `limit`) for the spill to make room, so a client faster than the disk is slowed to its
    /// pace instead of memory filling up to `PERSISTENCE_MAX_PENDING` and records being dropped or refused; `limit` is
    /// measured on the service clock. Returns
    /// at once when nothing is queued (flag off, durable mode), without a spool, or once the spool is full: then the
    /// pending queue's cap and the overflow policy apply. The ingestor wakes the request when the flush makes room;
    /// nothing polls.
    @discardableResult
    public func waitForRoom(for incoming: Int, limit: Duration = .seconds(2)) async -> RoomWait {
        guard flag.isEnabled, settings.ingestDurability == .memory, let spool, !spool.isFull else { return .notNeeded }
        // The spill starts at the high-water mark; the second half lets ingest go on while it runs.
        let ceiling = min(2 * ingestor.highWater, ingestor.pendingCapacity)
        // Room for twice the events: a game's rug also resolves its predictions and side bets, which may add records.
        // A request larger than the ceiling waits for an empty queue, not forever.
        let pendingAtMost = ceiling - min(2 * incoming, ceiling)
        guard ingestor.pendingCount > pendingAtMost else { return .notNeeded }
        ingestor.askForRoom()
        let ingestor = self.ingestor, clock = self.clock
        // Off the common path (the queue is past twice the high-water mark), so a timer task per waiting request is fine.
        return await withTaskGroup(of: RoomWait.self) { group in
            group.addTask {
                while !spool.isFull {
                    switch await ingestor.waitForRoom(pendingAtMost: pendingAtMost) {
                    case .room: return .roomMade
                    case .cancelled: return .cancelled
                    case .handedBack: continue
                    }
                }
                return .spoolFull
            }
            group.addTask {
                do {
                    try await clock.sleep(for: limit)
                    return .timedOut
                } catch {
                    return .cancelled
                }
            }
            let first = await group.next() ?? .cancelled
            group.cancelAll()
            return first
        }
    }

    /// Pings the store, at most once every two seconds (health checks may be scraped often), and waits for the answer
    /// at most `patience`: a server slow to answer counts as unreachable, so readiness answers in milliseconds.
    public func storeReachable(patience: Duration = .milliseconds(250)) async -> Bool {
        guard let store else { return false }
        let now = ContinuousClock.now
        if let cached = lastPing.withLock({ $0 }), now - cached.at < .seconds(2) { return cached.reachable }
        let reachable = await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await store.ping()) != nil }
            group.addTask {
                try? await Task.sleep(for: patience)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        lastPing.withLock { $0 = (now, reachable) }
        return reachable
    }
}
