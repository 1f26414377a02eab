import Foundation
import Logging
import TEDCore
import Synchronization

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
    /// When the flag was off since start (what a catch-up may take from the rings), at the exact instants of the
    /// changes; and the time of the last change recorded in the history, in whole milliseconds.
    private let changeLog: Mutex<(offPeriods: OffPeriods, lastRecordedMillis: Int64)>
    /// Records each change (the flag history); called before the observers, once the value is set.
    private let recorder = Mutex<(@Sendable (FlagChange) -> Void)?>(nil)
    private let enabledBit: Atomic<Bool>
    /// Called after each change, once its log lines are out: the background tasks announce themselves after
    /// `Persistence is ENABLED`, as the deployment guide shows them.
    private let observers = Mutex<(next: Int, all: [Int: @Sendable (Bool) -> Void])>((0, [:]))
    private let logger: Logger
    private let backendName: String

    public init(enabled: Bool, source: FlagSource, backendName: String, logger: Logger) {
        let now = Date()
        state = Mutex(Snapshot(enabled: enabled, source: source, changedAt: now, changes: [:]))
        changeLog = Mutex((OffPeriods(startedAt: now, enabled: enabled), 0))
        enabledBit = Atomic(enabled)
        self.logger = logger
        self.backendName = backendName
    }

    /// Lock-free: the ingest hot path reads it.
    public var isEnabled: Bool { enabledBit.load(ordering: .acquiring) }

    public var snapshot: Snapshot { state.withLock { $0 } }

    /// Sets the flag; returns whether the value changed. The source is recorded even when the value stays.
    /// `tokenFingerprint` names the admin token of an API change (`FlagChange.fingerprint(ofToken:)`), never the token.
    @discardableResult
    public func set(_ enabled: Bool, source: FlagSource, tokenFingerprint: String? = nil) -> Bool {
        let change = state.withLock { snapshot -> FlagChange? in
            let changed = snapshot.enabled != enabled
            snapshot.source = source
            guard changed else { return nil }
            let now = Date()
            snapshot.enabled = enabled
            snapshot.changedAt = now
            snapshot.changes[source.rawValue, default: 0] += 1
            enabledBit.store(enabled, ordering: .releasing)
            // Under the same lock, so the periods follow the changes in their order. The periods keep the exact
            // instant (records received a fraction of a millisecond apart fall on the right side); the history gets
            // whole milliseconds, each change later than the one before, since it orders and keys changes by their
            // time and a script flipping the flag may change it twice within one millisecond.
            let at = changeLog.withLock { log -> Date in
                log.offPeriods.record(enabled: enabled, at: now)
                log.lastRecordedMillis = max(FlagChange.milliseconds(now), log.lastRecordedMillis + 1)
                return Date(timeIntervalSince1970: Double(log.lastRecordedMillis) / 1000)
            }
            return FlagChange(at: at, from: !enabled, to: enabled, source: source, tokenFingerprint: tokenFingerprint)
        }
        guard let change else { return false }
        logger.notice("Persistence flag changed", metadata: ["enabled": "\(enabled)", "source": "\(source.rawValue)"])
        logState()
        recorder.withLock { $0 }?(change)
        for observer in observers.withLock({ Array($0.all.values) }) { observer(enabled) }
        return true
    }

    /// Sets what records every change (one recorder: the flag history).
    public func onChange(_ record: @escaping @Sendable (FlagChange) -> Void) {
        recorder.withLock { $0 = record }
    }

    /// The periods the flag was off that ended and no catch-up took yet, marked as taken: a second catch-up gets
    /// only periods that ended since. Oldest first.
    public func takeOffPeriodsToCatchUp() -> [OffPeriods.Period] {
        changeLog.withLock { $0.offPeriods.takeClosed() }
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
