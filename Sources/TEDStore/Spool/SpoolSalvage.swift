import CSQLite
import Foundation
import Logging

/// What a salvage got out of a damaged spool file.
struct SpoolSalvageOutcome: Sendable {
    /// Rows copied into the fresh spool.
    var recovered: Int
    /// Rows not copied (unreadable, or readable but failing their checksum or decoding).
    var unreadable: Int
    /// Whether `unreadable` is exact (the damaged file's `spool_meta` counts were readable) or a lower bound.
    var exact: Bool
}

/// Copies what SQLite can still read from a damaged spool into a fresh one, in `seq` order, skipping what it
/// cannot read.
///
/// The damaged file is opened with its own handle (not `SQLiteConnection`, which switches to WAL at once) and
/// `writable_schema=ON`, without which SQLite refuses a file shorter than its header says (a truncated file).
/// The whole salvage runs inside one `run` of the fresh spool's connection, so on its thread.
///
/// The table is read in chunks by `seq`. When a read fails (a damaged page), the next readable row is searched:
/// exponentially growing jumps past the failure, then a binary search back to the first `seq` whose lookup works.
/// A lookup descends the table's b-tree straight to its key, so it skips the damaged leaf pages (a damaged root
/// makes every lookup fail, and the walk stops after about 63 of them).
///
/// When the walk found fewer rows than the file counted, `SpoolPageScanner` reads the leaf pages directly: a
/// truncation that cut the interior pages leaves every leaf before the cut intact but out of the b-tree's reach.
enum SpoolSalvage {
    static let chunkSize = 1000

    static func run(from damagedPath: String, into destination: SQLiteConnection, logger: Logger) async -> SpoolSalvageOutcome {
        do {
            return try await destination.run { database throws(StoreError) in
                salvage(from: damagedPath, into: database, logger: logger)
            }
        } catch {
            logger.error("cannot salvage the damaged spool file", metadata: ["path": "\(damagedPath)", "error": "\(error.message)"])
            return SpoolSalvageOutcome(recovered: 0, unreadable: 0, exact: false)
        }
    }

    private static func salvage(from damagedPath: String, into destination: SQLiteDatabase, logger: Logger) -> SpoolSalvageOutcome {
        guard let source = SalvageSource(path: damagedPath) else {
            logger.error("cannot open the damaged spool file to salvage it", metadata: ["path": "\(damagedPath)"])
            return SpoolSalvageOutcome(recovered: 0, unreadable: 0, exact: false)
        }
        let expected = source.expectedRows()
        var recovered = 0
        var bad = 0
        var failedRegions = 0
        var cursor: Int64 = 0
        var lastSeq: Int64 = .min
        var outOfOrder = 0
        scan: while true {
            let read = source.rows(after: cursor, limit: chunkSize)
            var rows = read.rows
            let more: Bool
            if let failure = read.failure {
                let after = rows.last?.seq ?? cursor
                if let next = nextReadable(source, after: after) {
                    // Seqs have gaps (replayed rows), so a gap only says "at least one row lost".
                    if next.seq > after + 1 { failedRegions += 1 }
                    logger.warning("skipped unreadable spool rows", metadata: [
                        "path": "\(damagedPath)", "after_seq": "\(after)", "next_readable_seq": "\(next.seq)",
                        "error": "\(failure)",
                    ])
                    rows.append(next)
                    more = true
                } else {
                    failedRegions += 1
                    logger.warning("the damaged spool has no readable row after this point", metadata: [
                        "path": "\(damagedPath)", "after_seq": "\(after)", "error": "\(failure)",
                    ])
                    more = false
                }
            } else {
                more = rows.count == chunkSize
            }
            var good: [SpoolEncodedRow] = []
            var quarantined: [(row: SpoolRawRow, reason: String)] = []
            for row in rows {
                // Seqs are kept, so they must keep rising (a damaged page can list a row out of order).
                guard row.seq > lastSeq else {
                    // Seen again through a damaged page (or its seq is damaged): not copied, not counted as lost.
                    outOfOrder += 1
                    continue
                }
                lastSeq = row.seq
                switch row.validate() {
                case .success:
                    if let encoded = row.encoded { good.append(encoded) }
                case .failure(let problem):
                    quarantined.append((row, problem.reason))
                }
            }
            do throws(StoreError) {
                try destination.transaction { () throws(StoreError) in
                    try SpoolSchema.insert(good, destination)
                    for (row, reason) in quarantined { try SpoolSchema.quarantine(row, reason: reason, destination) }
                }
            } catch {
                logger.error("cannot write salvaged rows into the fresh spool: stopping the salvage", metadata: [
                    "error": "\(error.message)",
                ])
                break scan
            }
            recovered += good.count
            bad += quarantined.count
            guard more, let furthest = rows.map(\.seq).max() else { break }
            // Always forward, even past a damaged page that lists a row out of order.
            cursor = max(furthest, cursor + 1)
        }
        source.close()
        if expected.map({ recovered < $0 }) ?? true {
            recovered += scanLeafPages(of: damagedPath, into: destination, logger: logger)
        }
        if outOfOrder > 0 {
            logger.warning("skipped spool rows listed out of order by a damaged page", metadata: [
                "path": "\(damagedPath)", "rows": "\(outOfOrder)",
            ])
        }
        let lowerBound = bad + failedRegions
        if let expected, expected - recovered >= lowerBound {
            return SpoolSalvageOutcome(recovered: recovered, unreadable: expected - recovered, exact: true)
        }
        return SpoolSalvageOutcome(recovered: recovered, unreadable: lowerBound, exact: false)
    }

    /// Rows the b-tree walk could not reach (interior pages lost), read from the leaf pages themselves; returns how
    /// many it added to the fresh spool. Only rows whose checksum holds are taken.
    private static func scanLeafPages(of damagedPath: String, into destination: SQLiteDatabase, logger: Logger) -> Int {
        // Closing the source applied its WAL to the file. A WAL still there was not applied: the file alone may
        // still list rows the WAL deleted (replayed ones), and replaying those could overwrite newer versions.
        let wal = (try? FileManager.default.attributesOfItem(atPath: damagedPath + "-wal"))?[.size] as? Int ?? 0
        guard wal == 0 else {
            logger.warning("not scanning the damaged spool's pages: its WAL could not be applied", metadata: [
                "path": "\(damagedPath)", "wal_bytes": "\(wal)",
            ])
            return 0
        }
        guard let scanner = SpoolPageScanner(path: damagedPath) else { return 0 }
        var added = 0
        var found: [SpoolRawRow] = []
        do throws(StoreError) {
            try scanner.forEachRow { row throws(StoreError) in
                // A cell failing its checksum is damaged or stray bytes of the right shape: the count of unreadable
                // rows already includes it.
                guard case .success = row.validate() else { return }
                found.append(row)
                if found.count == chunkSize {
                    added += try copyMissing(found, into: destination)
                    found.removeAll(keepingCapacity: true)
                }
            }
            added += try copyMissing(found, into: destination)
        } catch {
            logger.error("cannot write rows found by the page scan into the fresh spool: stopping the scan", metadata: [
                "error": "\(error.message)",
            ])
        }
        if added > 0 {
            logger.warning("recovered spool rows from leaf pages the damaged b-tree no longer reaches", metadata: [
                "path": "\(damagedPath)", "rows": "\(added)",
            ])
        }
        return added
    }

    /// Copies the rows the fresh spool does not hold yet; returns how many. A row whose `seq` another row already
    /// holds (one of the two `seq`s is damaged: the checksum does not cover it) is kept under a new `seq`.
    private static func copyMissing(_ rows: [SpoolRawRow], into destination: SQLiteDatabase) throws(StoreError) -> Int {
        try destination.transaction { () throws(StoreError) -> Int in
            var seen: Set<RowKey> = []
            var taken: Set<Int64> = []
            var copies: [SpoolEncodedRow] = []
            for row in rows {
                guard let encoded = row.encoded, seen.insert(RowKey(seq: row.seq, checksum: row.checksum)).inserted else {
                    continue
                }
                let stored = try destination.rows(
                    "SELECT checksum FROM spool WHERE seq = ?1", [.int(row.seq)], { $0.int64(0) }
                ).first
                if stored == row.checksum { continue }
                if stored == nil && taken.insert(row.seq).inserted {
                    copies.append(encoded)
                } else {
                    copies.append(SpoolEncodedRow(
                        seq: nil, collection: encoded.collection, recordID: encoded.recordID, doc: encoded.doc,
                        checksum: encoded.checksum))
                }
            }
            try SpoolSchema.insert(copies, destination)
            return copies.count
        }
    }

    private struct RowKey: Hashable {
        let seq: Int64
        let checksum: Int64
    }

    /// The first row after `cursor` whose whole-row lookup works; `nil` when none is found.
    private static func nextReadable(_ source: SalvageSource, after cursor: Int64) -> SpoolRawRow? {
        // Jump ahead until a lookup works: `low` fails, `high` works.
        var low = cursor
        var step: Int64 = 1
        var high: Int64
        while true {
            let (candidate, overflow) = low.addingReportingOverflow(step)
            if overflow { return nil }
            if source.first(atOrAfter: candidate) == nil {
                low = candidate
                let (doubled, stepOverflow) = step.multipliedReportingOverflow(by: 2)
                if stepOverflow { return nil }
                step = doubled
                continue
            }
            high = candidate
            break
        }
        // Back to the first working lookup.
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if source.first(atOrAfter: middle) == nil { low = middle } else { high = middle }
        }
        return source.first(atOrAfter: high) ?? nil
    }
}

/// A damaged spool file opened for reading with its own `sqlite3*`; used on one thread only.
private final class SalvageSource {
    private var handle: OpaquePointer?

    struct Read {
        var rows: [SpoolRawRow]
        /// SQLite's message when the read stopped early.
        var failure: String?
    }

    init?(path: String) {
        var opened: OpaquePointer?
        // No CREATE: the file was just moved here. Read-write so SQLite can replay the WAL that moved with it.
        let code = sqlite3_open_v2(path, &opened, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil)
        guard code == SQLITE_OK, let opened else {
            sqlite3_close_v2(opened)
            return nil
        }
        handle = opened
        // Accept a file shorter than its header says (otherwise SQLITE_CORRUPT before any row is read).
        sqlite3_exec(opened, "PRAGMA writable_schema=ON", nil, nil, nil)
    }

    deinit { close() }

    func close() {
        sqlite3_close_v2(handle)
        handle = nil
    }

    /// The damaged file's own count of its rows, if that page is still readable.
    func expectedRows() -> Int? {
        let read = query("SELECT coalesce(sum(rows), 0) FROM spool_meta", []) { Int(sqlite3_column_int64($0, 0)) }
        guard read.failure == nil, let count = read.rows.first else { return nil }
        return count
    }

    /// Up to `limit` rows after `cursor`, and why the read stopped early, if it did.
    func rows(after cursor: Int64, limit: Int) -> Read {
        let read = query(
            "SELECT \(SpoolSchema.selectColumns) FROM spool WHERE seq > ?1 ORDER BY seq LIMIT ?2", [cursor, Int64(limit)],
            Self.row)
        return Read(rows: read.rows, failure: read.failure)
    }

    /// The first row at or after `seq`: `.some(nil)` when there is none, `nil` when the lookup fails.
    func first(atOrAfter seq: Int64) -> SpoolRawRow?? {
        let read = query("SELECT \(SpoolSchema.selectColumns) FROM spool WHERE seq >= ?1 ORDER BY seq LIMIT 1", [seq], Self.row)
        if read.failure != nil { return nil }
        return .some(read.rows.first)
    }

    private static func row(_ statement: OpaquePointer) -> SpoolRawRow {
        func text(_ column: Int32) -> String? {
            guard let pointer = sqlite3_column_text(statement, column) else { return nil }
            return String(decoding: UnsafeBufferPointer(start: pointer, count: Int(sqlite3_column_bytes(statement, column))), as: UTF8.self)
        }
        var doc: [UInt8]?
        if let pointer = sqlite3_column_text(statement, 3) {
            doc = Array(UnsafeBufferPointer(start: pointer, count: Int(sqlite3_column_bytes(statement, 3))))
        }
        return SpoolRawRow(
            seq: sqlite3_column_int64(statement, 0), collection: text(1), recordID: text(2), doc: doc,
            checksum: sqlite3_column_int64(statement, 4))
    }

    private func query<R>(_ sql: String, _ bindings: [Int64], _ row: (OpaquePointer) -> R) -> (rows: [R], failure: String?) {
        guard let handle else { return ([], "closed") }
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            let message = String(cString: sqlite3_errmsg(handle))
            sqlite3_finalize(statement)
            return ([], message)
        }
        defer { sqlite3_finalize(statement) }
        for (offset, value) in bindings.enumerated() { sqlite3_bind_int64(statement, Int32(offset + 1), value) }
        var rows: [R] = []
        while true {
            switch sqlite3_step(statement) {
            case SQLITE_ROW: rows.append(row(statement))
            case SQLITE_DONE: return (rows, nil)
            default: return (rows, String(cString: sqlite3_errmsg(handle)))
            }
        }
    }
}
