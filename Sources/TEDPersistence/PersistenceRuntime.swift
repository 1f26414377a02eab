import Foundation
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
    public let startedAt: Date
    private let requestFlushAction: @Sendable () -> Void
    private let lastPing = Mutex<(at: ContinuousClock.Instant, reachable: Bool)?>(nil)

    public init(settings: Settings, flag: PersistenceFlag, ingestor: Ingestor, store: (any DocumentStore)?,
                statistics: FlushStatistics, requestFlush: @escaping @Sendable () -> Void = {}) {
        self.settings = settings
        self.flag = flag
        self.ingestor = ingestor
        self.store = store
        self.statistics = statistics
        self.startedAt = Date()
        self.requestFlushAction = requestFlush
    }

    public var backendName: String { settings.backend == .mongodb ? "MongoDB" : "SQLite" }

    public func requestFlush() { requestFlushAction() }

    /// Pings the store, at most once every two seconds (health checks may be scraped often).
    public func storeReachable() async -> Bool {
        guard let store else { return false }
        let now = ContinuousClock.now
        if let cached = lastPing.withLock({ $0 }), now - cached.at < .seconds(2) { return cached.reachable }
        let reachable: Bool
        do {
            try await store.ping()
            reachable = true
        } catch {
            reachable = false
        }
        lastPing.withLock { $0 = (now, reachable) }
        return reachable
    }
}
