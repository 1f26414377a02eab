import Foundation
import Logging
import Synchronization

/// Where the current value of `PERSISTENCE_ENABLED` came from.
public enum FlagSource: String, Sendable {
    case envFile = "env_file"
    case environment
    case api
    case `default`
}

/// The rollback switch. Read on every ingest and before every flush batch, so a change takes effect at once.
public final class PersistenceFlag: Sendable {
    public struct Snapshot: Sendable, Equatable {
        public var enabled: Bool
        public var source: FlagSource
        public var changedAt: Date
        /// Changes since start, by source.
        public var changes: [String: Int]
    }

    private let state: Mutex<Snapshot>
    private let enabledBit: Atomic<Bool>
    /// Called after each change, once its log lines are out: the background tasks announce themselves after
    /// `Persistence is ENABLED`, as the deployment guide shows them.
    private let observers = Mutex<(next: Int, all: [Int: @Sendable (Bool) -> Void])>((0, [:]))
    private let logger: Logger
    private let backendName: String

    public init(enabled: Bool, source: FlagSource, backendName: String, logger: Logger) {
        state = Mutex(Snapshot(enabled: enabled, source: source, changedAt: Date(), changes: [:]))
        enabledBit = Atomic(enabled)
        self.logger = logger
        self.backendName = backendName
    }

    /// Lock-free: the ingest hot path reads it.
    public var isEnabled: Bool { enabledBit.load(ordering: .acquiring) }

    public var snapshot: Snapshot { state.withLock { $0 } }

    /// Sets the flag; returns whether the value changed. The source is recorded even when the value stays.
    @discardableResult
    public func set(_ enabled: Bool, source: FlagSource) -> Bool {
        let changed = state.withLock { snapshot -> Bool in
            let changed = snapshot.enabled != enabled
            snapshot.source = source
            if changed {
                snapshot.enabled = enabled
                snapshot.changedAt = Date()
                snapshot.changes[source.rawValue, default: 0] += 1
                enabledBit.store(enabled, ordering: .releasing)
            }
            return changed
        }
        if changed {
            logger.notice("Persistence flag changed", metadata: ["enabled": "\(enabled)", "source": "\(source.rawValue)"])
            logState()
            for observer in observers.withLock({ Array($0.all.values) }) { observer(enabled) }
        }
        return changed
    }

    /// Calls `observer` with the new value after every change until `removeObserver` is given the returned token.
    public func addObserver(_ observer: @escaping @Sendable (Bool) -> Void) -> Int {
        observers.withLock { observers in
            defer { observers.next += 1 }
            observers.all[observers.next] = observer
            return observers.next
        }
    }

    public func removeObserver(_ token: Int) {
        _ = observers.withLock { $0.all.removeValue(forKey: token) }
    }

    /// The lines operators grep for.
    public func logState() {
        if isEnabled {
            logger.notice("Persistence is ENABLED. Data will be saved to \(backendName).")
        } else {
            logger.notice("Persistence is DISABLED. Running in-memory only.")
        }
    }
}
