import Foundation
import Synchronization
import TEDStore

/// What the flush has done, for status and metrics. Counted, never estimated.
public final class FlushStatistics: Sendable {
    public struct Snapshot: Sendable {
        /// The flush loop is alive (it idles while the flag is off: see `PersistenceTasks.running` for what
        /// status reports).
        public var running = false
        public var lastSave: Date?
        public var lastAttempt: Date?
        public var savedByCollection: [CollectionName: Int] = [:]
        public var alreadyStoredByCollection: [CollectionName: Int] = [:]
        public var rejectedByCollection: [CollectionName: Int] = [:]
        /// The last batch of each collection that left the write path (stored or refused).
        public var progressAt: [CollectionName: Date] = [:]
        /// When records of each collection last went into an empty spool.
        public var spooledSince: [CollectionName: Date] = [:]
        public var batches = 0
        public var errors = 0
        public var lastError: String?
        public var lastErrorAt: Date?
        public var consecutiveFailures = 0
        public var storeReachable: Bool?

        public var recordsSaved: Int { savedByCollection.values.reduce(0, +) }
    }

    private let state = Mutex(Snapshot())

    public init() {}

    public var snapshot: Snapshot { state.withLock { $0 } }

    func setRunning(_ running: Bool) { state.withLock { $0.running = running } }

    /// What one batch came to, record by record.
    /// A batch whose records were all stored, already stored or refused (none to retry).
    func recordBatch(_ collection: CollectionName, _ tally: FateTally, at date: Date) {
        state.withLock {
            $0.savedByCollection[collection, default: 0] += tally.stored + tally.alreadyStored
            $0.alreadyStoredByCollection[collection, default: 0] += tally.alreadyStored
            $0.rejectedByCollection[collection, default: 0] += tally.rejected
            $0.progressAt[collection] = date
            $0.batches += 1
            $0.lastSave = date
            $0.lastAttempt = date
            $0.consecutiveFailures = 0
            $0.storeReachable = true
        }
    }

    /// Records of `collection` went into the spool, which held none of them before.
    func recordSpooledSince(_ collection: CollectionName, at date: Date) {
        state.withLock { $0.spooledSince[collection] = date }
    }

    func recordFailure(_ error: StoreError, at date: Date) {
        state.withLock {
            $0.errors += 1
            $0.lastError = error.message
            $0.lastErrorAt = date
            $0.lastAttempt = date
            $0.consecutiveFailures += 1
            if error.kind == .unavailable { $0.storeReachable = false }
        }
    }
}
