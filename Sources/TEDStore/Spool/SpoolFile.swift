import CSQLite
import Foundation
import Logging
import Synchronization
import TEDCore

/// The durable outbox: records that could not be written to the store yet, in one local SQLite file.
///
/// - One table `spool(seq, collection, record_id, doc, checksum)`; `doc` is `DocumentJSON` text, `checksum` an
///   FNV-1a 64 of collection, record_id and doc. WAL with `synchronous=FULL`: an append that returned survives a
///   `kill -9` and a power cut.
/// - Append-only: a newer version of a record is appended as a new row, never deduplicated on append (that would
///   cost an index lookup and a delete on the durable hot path). Replay is oldest first and the store's writes
///   are idempotent upserts, so the latest version wins; within one batch `peekOldest` keeps only the latest
///   version of a record (so an unordered bulk write cannot reorder them) and `remove` deletes all of them.
/// - A row whose checksum, JSON or record decoding fails is moved to `spool_quarantine` when it is read, counted
///   (`quarantinedCount`) and never replayed.
/// - A file SQLite reports as corrupt (on open or `PRAGMA quick_check`) is renamed `<path>.corrupt-<timestamp>`,
///   the rows it still yields are copied into a fresh spool, and `recovery` says what happened.
///
/// Every SQLite call runs on the connection's own thread, never on the caller's executor. Counts and sizes are
/// kept in memory, so reading them never blocks.
public final class SpoolFile: Sendable {
    /// `StoreError.code` of an append refused because the file would pass `maxBytes` (see `StoreError.isSpoolFull`).
    public static let fullCode = 0x5350_4F4C  // "SPOL"

    public let path: String
    public let maxBytes: Int64
    /// Set when the file was damaged at open and replaced by a fresh one: the spool is "degraded".
    public let recovery: SpoolRecovery?

    private let connection: SQLiteConnection
    private let logger: Logger
    private let state: Mutex<State>

    private struct State: Sendable {
        var counts: [CollectionName: Int]
        var quarantined: Int
        var pages: SpoolPageStats
        /// Rows that could be neither read nor deleted: skipped by `peekOldest` until the next open.
        var poisoned: Set<Int64> = []
    }

    /// Opens or creates the spool at `path` (and its directory). A damaged file never makes this throw: it is moved
    /// aside and salvaged (see `recovery`). Throws only when the path cannot be used at all (permissions, disk).
    public init(path: String, maxBytes: Int64, logger: Logger) async throws(StoreError) {
        self.path = path
        self.maxBytes = maxBytes
        self.logger = logger
        var recovery: SpoolRecovery?
        let opened: (SQLiteConnection, State)
        do throws(StoreError) {
            opened = try await Self.open(path)
        } catch where Self.isCorruption(error) {
            let aside = try Self.moveAside(path)
            logger.error("the spool file is damaged: moved it aside and salvaging it", metadata: [
                "path": "\(path)", "moved_to": "\(aside)", "error": "\(error.message)",
            ])
            let fresh = try await Self.open(path)
            let outcome = await SpoolSalvage.run(from: aside, into: fresh.0, logger: logger)
            // The salvage wrote through the fresh connection: read the counts again.
            let state = try await fresh.0.run { database throws(StoreError) in try Self.loadState(database) }
            opened = (fresh.0, state)
            recovery = SpoolRecovery(
                movedAsideTo: aside, reason: error.message, recovered: outcome.recovered, unreadable: outcome.unreadable,
                unreadableIsExact: outcome.exact)
            logger.error("salvaged the damaged spool file", metadata: [
                "path": "\(path)", "moved_to": "\(aside)", "recovered": "\(outcome.recovered)",
                "unreadable": "\(outcome.unreadable)\(outcome.exact ? "" : " (estimate)")",
            ])
        }
        connection = opened.0
        state = Mutex(opened.1)
        self.recovery = recovery
        let total = opened.1.counts.values.reduce(0, +)
        logger.debug("opened the spool", metadata: [
            "path": "\(path)", "records": "\(total)", "quarantined": "\(opened.1.quarantined)",
        ])
    }

    /// Finishes the calls already queued and closes the file.
    public func close() async {
        await connection.close()
    }

    // MARK: - Counts (from memory, never blocking)

    /// Records waiting to be replayed (including older versions of the same record).
    public var count: Int { state.withLock { $0.counts.values.reduce(0, +) } }
    public var countByCollection: [CollectionName: Int] { state.withLock { $0.counts.filter { $0.value > 0 } } }
    public var isEmpty: Bool { count == 0 }
    /// Rows moved to `spool_quarantine` (this file's lifetime, including rows found bad by a salvage).
    public var quarantinedCount: Int { state.withLock { $0.quarantined } }
    /// The database file's size: page_count × page_size (the `-wal` file is not included).
    public var sizeBytes: Int64 { state.withLock { $0.pages.fileBytes } }
    /// What counts against `maxBytes`: the file's size without its free pages.
    public var usedBytes: Int64 { state.withLock { $0.pages.usedBytes } }

    // MARK: - Operations

    /// Appends `records` in one transaction, durable when this returns. Throws an error with `isSpoolFull` (and
    /// writes nothing) when the file would pass `maxBytes`; any other error also leaves nothing written.
    public func append(_ records: [StoreRecord]) async throws(StoreError) {
        guard !records.isEmpty else { return }
        var added: [CollectionName: Int] = [:]
        for record in records { added[record.collection, default: 0] += 1 }
        let maxBytes = maxBytes
        let path = path
        let addedCounts = added
        // Rows are encoded on the SQLite thread as they are inserted (see `SpoolSchema.insert(encoding:)`): the
        // transaction holds the connection until its commit either way.
        try await connection.run { database throws(StoreError) in
            // Cheap refusal first: a file at its limit takes nothing.
            let before = try SpoolSchema.pageStats(database)
            guard before.usedBytes < maxBytes else {
                throw Self.fullError(path, records.count, before.usedBytes, maxBytes)
            }
            // Then the exact check, after the rows are in but before the commit: a refusal rolls all of them back.
            let after = try self.withIndexRepair(database) { () throws(StoreError) -> SpoolPageStats in
                try database.transaction { () throws(StoreError) -> SpoolPageStats in
                    try SpoolSchema.insert(encoding: records, database)
                    let after = try SpoolSchema.pageStats(database)
                    guard after.usedBytes <= maxBytes else {
                        throw Self.fullError(path, records.count, before.usedBytes, maxBytes)
                    }
                    return after
                }
            }
            self.state.withLock { state in
                for (collection, added) in addedCounts { state.counts[collection, default: 0] += added }
                state.pages = after
            }
        }
    }

    /// Up to `limit` records of the collection of the oldest row, oldest first. Rows that cannot be replayed are
    /// quarantined on the way (never returned). An empty batch means the spool is empty.
    ///
    /// Row numbers come from the `(collection, seq)` index and each row is then read on its own, so one row SQLite
    /// cannot read (a damaged record) is quarantined instead of failing every later peek.
    /// `excluding` skips collections whose write failed this round, so they hold no other collection back.
    public func peekOldest(limit: Int, excluding: Set<CollectionName> = []) async throws(StoreError) -> SpoolBatch {
        guard limit > 0 else { return .empty }
        return try await connection.run { database throws(StoreError) in
            try self.withIndexRepair(database) { () throws(StoreError) -> SpoolBatch in try self.peek(limit, excluding, database) }
        }
    }

    private func peek(_ limit: Int, _ excluding: Set<CollectionName>, _ database: SQLiteDatabase) throws(StoreError) -> SpoolBatch {
        let skipped = excluding.map { SQLiteValue.text($0.rawValue) }
        let notSkipped = skipped.isEmpty ? "" : " AND collection NOT IN (\(skipped.indices.map { "?\($0 + 2)" }.joined(separator: ", ")))"
        let oldestSQL = "SELECT seq FROM spool WHERE seq > ?1\(notSkipped) ORDER BY seq LIMIT 1"
        var reindexed = false
        while true {
            let poisoned = self.state.withLock { $0.poisoned }
            var oldestSeq: Int64 = 0
            var found = false
            while !found {
                guard let seq = try database.rows(oldestSQL, [.int(oldestSeq)] + skipped, { $0.int64(0) }).first
                else { return .empty }
                oldestSeq = seq
                found = !poisoned.contains(seq)
            }
            let oldest: SpoolRawRow
            switch Self.readRow(oldestSeq, database) {
            case .failure(let error):
                try self.quarantine([(Self.unreadableRow(oldestSeq, nil), "unreadable: \(error.message)")], database)
                continue
            case .success(nil):
                // Listed by the table scan yet not found by its key: skip it rather than loop on it.
                try self.quarantine([(Self.unreadableRow(oldestSeq, nil), "not found by its seq")], database)
                continue
            case .success(let row?):
                oldest = row
            }
            guard let collection = oldest.collection else {
                try self.quarantine([(oldest, "NULL collection")], database)
                continue
            }
            var entries: [SpoolEntry] = []
            var bad: [(row: SpoolRawRow, reason: String)] = []
            var sawOldest = false
            var indexDisagrees = false
            var seen: Set<Int64> = []
            var cursor = oldestSeq - 1
            while entries.count < limit {
                let wanted = limit - entries.count
                let seqs = try database.rows(
                    "SELECT seq FROM spool WHERE collection = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
                    [.text(collection), .int(cursor), .int(Int64(wanted))], { $0.int64(0) })
                for seq in seqs where !poisoned.contains(seq) {
                    guard seen.insert(seq).inserted else {
                        indexDisagrees = true
                        continue
                    }
                    if seq == oldestSeq { sawOldest = true }
                    switch seq == oldestSeq ? .success(oldest) : Self.readRow(seq, database) {
                    case .failure(let error):
                        bad.append((Self.unreadableRow(seq, collection), "unreadable: \(error.message)"))
                    case .success(nil):
                        indexDisagrees = true
                    case .success(let row?) where row.collection != collection:
                        indexDisagrees = true  // listed under another collection than the table says
                    case .success(let row?):
                        switch row.validate() {
                        case .success(let record): entries.append(SpoolEntry(seq: row.seq, record: record))
                        case .failure(let problem): bad.append((row, problem.reason))
                        }
                    }
                }
                guard let last = seqs.last, seqs.count == wanted else { break }
                cursor = last
            }
            if (indexDisagrees || !sawOldest) && !reindexed {
                // The index lists rows the table does not have, or misses one: damage quick_check does not see.
                logger.error("the spool's index disagrees with its table: rebuilding it", metadata: ["path": "\(path)"])
                try database.execute("REINDEX")
                reindexed = true
                continue
            }
            if !sawOldest {
                // Its collection does not read back as stored (not UTF-8): the index lookup can never find it.
                bad.append((oldest, "unreadable collection"))
            }
            if !bad.isEmpty { try self.quarantine(bad, database) }
            if !entries.isEmpty { return Self.batch(CollectionName(collection), entries) }
            // Every row read was bad and is gone now: look again from the new oldest row.
        }
    }

    /// Deletes the rows of `batch` once the store confirmed the write; returns how many were still there.
    ///
    /// A row SQLite cannot delete even after its indexes are rebuilt is skipped by `peekOldest` until the spool is
    /// reopened (its record is stored, so at worst it is replayed once more, an idempotent write).
    @discardableResult
    public func remove(_ batch: SpoolBatch) async throws(StoreError) -> Int {
        guard let collection = batch.collection, !batch.seqs.isEmpty else { return 0 }
        let seqs = batch.seqs
        return try await connection.run { database throws(StoreError) in
            var removed = 0
            var poisoned: [Int64] = []
            do throws(StoreError) {
                removed = try self.withIndexRepair(database) { () throws(StoreError) -> Int in
                    try Self.delete(seqs, of: collection, database)
                }
            } catch where Self.isCorruption(error) {
                // Row by row, so one damaged row does not keep the others.
                for seq in seqs {
                    do throws(StoreError) {
                        removed += try Self.delete([seq], of: collection, database)
                    } catch {
                        poisoned.append(seq)
                        self.logger.error("cannot delete a replayed spool row: skipping it until the spool is reopened", metadata: [
                            "path": "\(self.path)", "seq": "\(seq)", "error": "\(error.message)",
                        ])
                    }
                }
            }
            let pages = try SpoolSchema.pageStats(database)
            // Fewer rows than asked: removed twice, or damage. Count again rather than guess.
            let counts = removed == seqs.count ? nil : try Self.countRows(database)
            let removedRows = removed
            self.state.withLock { state in
                if let counts {
                    state.counts = counts
                } else {
                    state.counts[collection, default: 0] = max(0, state.counts[collection, default: 0] - removedRows)
                }
                state.poisoned.formUnion(poisoned)
                state.pages = pages
            }
            return removed
        }
    }

    /// Deletes `seqs` in one transaction; returns how many were there. By `seq` alone, so the lookup uses the table
    /// and never a (possibly damaged) index. A `seq` is never reused (AUTOINCREMENT, and a salvage keeps them).
    private static func delete(_ seqs: [Int64], of collection: CollectionName, _ database: SQLiteDatabase) throws(StoreError) -> Int {
        try database.transaction { () throws(StoreError) -> Int in
            let removed = try database.withStatement("DELETE FROM spool WHERE seq = ?1") {
                statement throws(StoreError) in
                var removed = 0
                for seq in seqs {
                    try statement.bind(.int(seq), at: 1)
                    while try statement.step() {}
                    removed += database.changes
                    statement.reset()
                }
                return removed
            }
            if removed > 0 { try SpoolSchema.adjustMeta(collection.rawValue, by: -Int64(removed), database) }
            return removed
        }
    }

    /// Runs `body`; when SQLite reports damage, rebuilds the indexes and runs it once more. An index that disagrees
    /// with its table is the damage `quick_check` does not see at open (it surfaces as SQLITE_CORRUPT_INDEX on a
    /// delete); REINDEX rebuilds every index from the table.
    private func withIndexRepair<R>(_ database: SQLiteDatabase, _ body: () throws(StoreError) -> R) throws(StoreError) -> R {
        do {
            return try body()
        } catch where Self.isCorruption(error) {
            logger.error("the spool reports damage: rebuilding its indexes", metadata: [
                "path": "\(path)", "error": "\(error.message)",
            ])
            try database.execute("REINDEX")
            return try body()
        }
    }

    // MARK: - Private

    /// Moves `bad` rows into the quarantine, each in its own transaction, and counts them. A row that cannot even be
    /// deleted is remembered as poisoned and skipped until the next open. Rare, so counts are then read again.
    private func quarantine(_ bad: [(row: SpoolRawRow, reason: String)], _ database: SQLiteDatabase) throws(StoreError) {
        var poisoned: [Int64] = []
        for (row, reason) in bad {
            do throws(StoreError) {
                let removed = try withIndexRepair(database) { () throws(StoreError) -> Int in
                    try database.transaction { () throws(StoreError) -> Int in
                        try SpoolSchema.quarantine(row, reason: reason, database)
                        let removed = try database.execute("DELETE FROM spool WHERE seq = ?1", [.int(row.seq)])
                        if removed > 0, let collection = row.collection {
                            try SpoolSchema.adjustMeta(collection, by: -Int64(removed), database)
                        }
                        return removed
                    }
                }
                // Not deleted (its key does not find it): never look at it again in this run.
                if removed == 0 { poisoned.append(row.seq) }
                logger.warning("quarantined a spool row that cannot be replayed", metadata: [
                    "path": "\(path)", "seq": "\(row.seq)", "collection": "\(row.collection ?? "?")",
                    "record_id": "\(row.recordID ?? "?")", "reason": "\(reason)",
                ])
            } catch {
                poisoned.append(row.seq)
                logger.error("cannot quarantine a damaged spool row: skipping it until the spool is reopened", metadata: [
                    "path": "\(path)", "seq": "\(row.seq)", "reason": "\(reason)", "error": "\(error.message)",
                ])
            }
        }
        let counts = try Self.countRows(database)
        let pages = try SpoolSchema.pageStats(database)
        state.withLock { state in
            state.quarantined += bad.count
            state.poisoned.formUnion(poisoned)
            state.counts = counts
            state.pages = pages
        }
    }

    /// One row by `seq`: `nil` when it is gone, an error when SQLite cannot read it.
    private static func readRow(_ seq: Int64, _ database: SQLiteDatabase) -> Result<SpoolRawRow?, StoreError> {
        do throws(StoreError) {
            return .success(try database.rows(
                "SELECT \(SpoolSchema.selectColumns) FROM spool WHERE seq = ?1", [.int(seq)], SpoolRawRow.init
            ).first)
        } catch {
            return .failure(error)
        }
    }

    private static func unreadableRow(_ seq: Int64, _ collection: String?) -> SpoolRawRow {
        SpoolRawRow(seq: seq, collection: collection, recordID: nil, doc: nil, checksum: 0)
    }

    private static func countRows(_ database: SQLiteDatabase) throws(StoreError) -> [CollectionName: Int] {
        var counts: [CollectionName: Int] = [:]
        for (collection, count) in try database.rows("SELECT collection, count(*) FROM spool GROUP BY collection", [], {
            ($0.text(0) ?? "", Int($0.int64(1)))
        }) {
            counts[CollectionName(collection), default: 0] += count
        }
        return counts
    }

    /// Keeps the latest version of each record id; every row stays in `seqs` so `remove` deletes them all.
    /// One entry per record, at its latest row, with every version of it merged: the merges commute, so no version
    /// is lost whichever process wrote it.
    private static func batch(_ collection: CollectionName, _ entries: [SpoolEntry]) -> SpoolBatch {
        var merged: [String: SpoolEntry] = [:]
        for entry in entries {
            if let earlier = merged[entry.record.id] {
                merged[entry.record.id] = SpoolEntry(seq: entry.seq, record: earlier.record.merged(with: entry.record),
                                                     folded: earlier.rows)
            } else {
                merged[entry.record.id] = entry
            }
        }
        let kept = merged.count == entries.count ? entries : entries.compactMap { merged[$0.record.id]?.seq == $0.seq ? merged[$0.record.id] : nil }
        return SpoolBatch(collection: collection, entries: kept, seqs: entries.map(\.seq))
    }

    private static func fullError(_ path: String, _ count: Int, _ used: Int64, _ maxBytes: Int64) -> StoreError {
        StoreError(
            .operationFailed,
            "the spool \(path) is full: \(count) more records would pass its limit of \(maxBytes) bytes (\(used) used)",
            code: fullCode)
    }

    /// Opens, checks and prepares the file; closes it again on failure.
    private static func open(_ path: String) async throws(StoreError) -> (SQLiteConnection, State) {
        let connection = try SQLiteConnection(path: path)
        do {
            let state = try await connection.run { database throws(StoreError) in
                // Every commit waits for the WAL to reach the disk.
                try database.execute("PRAGMA synchronous=FULL")
                // Truncate the WAL back to 4 MiB after checkpoints, so it does not keep a past peak's size.
                try database.execute("PRAGMA journal_size_limit=4194304")
                // A page cache of 512 KiB instead of SQLite's 2 MiB: appends go to the end of the table and replays
                // read it once from the front, so a larger cache held little worth keeping while it counted towards
                // the process's peak memory.
                try database.execute("PRAGMA cache_size=-512")
                // Zero deleted rows and freed pages, so a salvage's page scan never finds a replayed row again.
                try database.execute("PRAGMA secure_delete=ON")
                let check = try database.rows("PRAGMA quick_check(1)") { $0.text(0) }
                guard check == ["ok"] else {
                    throw StoreError(
                        .corrupt, "quick_check: \(check.compactMap { $0 }.joined(separator: "; "))", code: Int(SQLITE_CORRUPT))
                }
                try SpoolSchema.create(database)
                return try loadState(database)
            }
            return (connection, state)
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Counts from the tables themselves (one index scan), correcting `spool_meta` if it drifted.
    private static func loadState(_ database: SQLiteDatabase) throws(StoreError) -> State {
        let counts = try countRows(database)
        let meta = try database.rows("SELECT collection, rows FROM spool_meta WHERE rows != 0", [], {
            (CollectionName($0.text(0) ?? ""), Int($0.int64(1)))
        })
        if Dictionary(meta, uniquingKeysWith: +) != counts {
            try database.transaction { () throws(StoreError) in
                try database.execute("DELETE FROM spool_meta")
                for (collection, count) in counts {
                    try SpoolSchema.adjustMeta(collection.rawValue, by: Int64(count), database)
                }
            }
        }
        let quarantined = try database.rows("SELECT count(*) FROM spool_quarantine") { Int($0.int64(0)) }.first ?? 0
        return State(counts: counts, quarantined: quarantined, pages: try SpoolSchema.pageStats(database))
    }

    /// Whether `error` means the file is damaged (rather than unreachable or misconfigured).
    static func isCorruption(_ error: StoreError) -> Bool {
        let primary = Int32(truncatingIfNeeded: error.code) & 0xFF
        if error.kind == .corrupt || primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB || primary == SQLITE_FORMAT {
            return true
        }
        return primary == SQLITE_ERROR
            && (error.message.contains("malformed") || error.message.contains("unsupported file format"))
    }

    /// Renames the damaged file and its journals to `<path>.corrupt-<UTC timestamp>`; returns the new path.
    private static func moveAside(_ path: String) throws(StoreError) -> String {
        let files = FileManager.default
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let stamp = formatter.string(from: Date())
        var aside = "\(path).corrupt-\(stamp)"
        var attempt = 1
        while files.fileExists(atPath: aside) {
            aside = "\(path).corrupt-\(stamp)-\(attempt)"
            attempt += 1
        }
        do {
            if files.fileExists(atPath: path) { try files.moveItem(atPath: path, toPath: aside) }
            // The WAL holds committed transactions not yet in the file: it travels with it (a WAL left behind would be
            // replayed into the fresh file). The shared-memory index is rebuilt from it.
            for suffix in ["-wal", "-journal"] where files.fileExists(atPath: path + suffix) {
                try files.moveItem(atPath: path + suffix, toPath: aside + suffix)
            }
            if files.fileExists(atPath: path + "-shm") { try files.removeItem(atPath: path + "-shm") }
        } catch {
            throw StoreError(.configuration, "cannot move the damaged spool \(path) aside: \(error.localizedDescription)")
        }
        return aside
    }
}
