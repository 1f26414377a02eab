import Foundation
import Logging
import TEDCore
import TEDStore

/// Every change of the persistence flag, kept for operators: in the store (`flag_history`) and, until the store has
/// it, in the local journal. The flag history is audit data, not game data, but "off" keeps its meaning for the
/// store all the same: while the flag is off nothing is written to the store, so changes wait in the journal and
/// reach the store when the flag is on again (`FlagHistorySync`). Reads merge both, so nothing is missing meanwhile.
public final class FlagHistory: Sendable {
    let journal: FlagHistoryJournal
    let store: (any FlagHistoryStore)?
    let flag: PersistenceFlag
    let logger: Logger
    /// Signalled on each change, so the sync runs at once.
    let changed = Wakeup()

    /// Records every change of `flag` from now on, in the file at `journalPath` until the store has it.
    public convenience init(flag: PersistenceFlag, store: (any DocumentStore)?, journalPath: String, logger: Logger) throws {
        let journal = try FlagHistoryJournal(path: journalPath)
        if journal.unreadableLines > 0 {
            logger.warning("Skipped unreadable lines of the flag history file",
                           metadata: ["path": "\(journalPath)", "lines": "\(journal.unreadableLines)"])
        }
        self.init(flag: flag, store: store, journal: journal, logger: logger)
    }

    /// Records every change of `flag` from now on, keeping what the store does not have yet in memory only.
    public convenience init(inMemoryFor flag: PersistenceFlag, store: (any DocumentStore)?, logger: Logger) {
        self.init(flag: flag, store: store, journal: FlagHistoryJournal(), logger: logger)
    }

    init(flag: PersistenceFlag, store: (any DocumentStore)?, journal: FlagHistoryJournal, logger: Logger) {
        self.journal = journal
        self.store = store
        self.flag = flag
        self.logger = logger
        flag.onChange { [weak self] change in self?.record(change) }
    }

    /// The local file of a service whose spool is at `spoolPath`: beside it, in the data directory.
    public static func journalPath(besideSpoolAt spoolPath: String) -> String {
        URL(fileURLWithPath: spoolPath).deletingLastPathComponent().appendingPathComponent("flag_history.jsonl").path
    }

    func record(_ change: FlagChange) {
        do {
            try journal.append(change)
        } catch {
            // Kept in memory all the same: served, and synced to the store when it can be.
            logger.error("Cannot write the flag history file: \(error)", metadata: ["change": "\(change.id)"])
        }
        changed.signal()
    }

    /// Changes kept locally that the store does not have yet.
    public var unsyncedCount: Int { journal.unsynced.count }

    /// Whether a sync has something to do and may write: a store, the flag on, changes waiting.
    var canSync: Bool { store != nil && flag.isEnabled && unsyncedCount > 0 }

    /// Writes the changes the store does not have yet; returns how many it took (stored or already stored).
    /// Writes nothing while the flag is off or without a store.
    @discardableResult
    public func sync() async throws(StoreError) -> Int {
        guard let store, flag.isEnabled else { return 0 }
        let waiting = journal.unsynced
        guard !waiting.isEmpty else { return 0 }
        try await store.appendFlagChanges(waiting)
        do {
            try journal.markSynced(waiting.map(\.id))
        } catch {
            // The store has them; without the marks they are sent again later and found already stored.
            logger.error("Cannot mark flag changes as synced in the flag history file: \(error)")
        }
        return waiting.count
    }

    public struct Page: Sendable {
        /// Newest first.
        public var changes: [FlagChange]
        public var unsynced: Int
    }

    /// The newest `limit` changes: the store's (every host's) merged with this host's not yet in the store.
    public func list(limit: Int) async throws(StoreError) -> Page {
        let local = journal.unsynced
        var byID: [String: FlagChange] = [:]
        if let store {
            for change in try await store.latestFlagChanges(limit: limit) { byID[change.id] = change }
        }
        for change in local { byID[change.id] = change }
        let newestFirst = byID.values.sorted { $0.at != $1.at ? $0.at > $1.at : $0.id > $1.id }
        return Page(changes: Array(newestFirst.prefix(limit)), unsynced: local.count)
    }
}
