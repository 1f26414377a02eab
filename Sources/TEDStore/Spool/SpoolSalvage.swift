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
/// The table is read in chunks by `seq`. When a read fails (a damaged page), the next readable row is searched:
/// exponentially growing jumps past the failure, then a binary search back to the first `seq` whose lookup works.
/// A lookup descends the table's b-tree straight to its key, so it skips the damaged leaf pages (a damaged root
/// makes every lookup fail, and the salvage stops after about 63 of them).
enum SpoolSalvage {
    static let chunkSize = 1000

    static func run(from damagedPath: String, into destination: SQLiteConnection, logger: Logger) async -> SpoolSalvageOutcome {
        let source: SQLiteConnection
        do {
            source = try SQLiteConnection(path: damagedPath)
        } catch {
            logger.error("nothing can be read from the damaged spool file", metadata: [
                "path": "\(damagedPath)", "error": "\(error.message)",
            ])
            return SpoolSalvageOutcome(recovered: 0, unreadable: 0, exact: false)
        }
        let expected: Int? = try? await source.run { database throws(StoreError) in
            try database.rows("SELECT coalesce(sum(rows), 0) FROM spool_meta") { Int($0.int64(0)) }.first ?? 0
        }
        var recovered = 0
        var bad = 0
        var failedRegions = 0
        var cursor: Int64 = 0
        scan: while true {
            let read = await readChunk(source, after: cursor)
            var good: [SpoolEncodedRow] = []
            var quarantined: [(row: SpoolRawRow, reason: String)] = []
            for row in read.rows {
                switch row.validate() {
                case .success:
                    if let encoded = row.encoded { good.append(encoded) }
                case .failure(let problem):
                    quarantined.append((row, problem.reason))
                }
            }
            if !good.isEmpty || !quarantined.isEmpty {
                let rows = good
                let quarantine = quarantined
                do {
                    try await destination.run { database throws(StoreError) in
                        try database.transaction { () throws(StoreError) in
                            try SpoolSchema.insert(rows, database)
                            for (row, reason) in quarantine { try SpoolSchema.quarantine(row, reason: reason, database) }
                        }
                    }
                } catch {
                    logger.error("cannot write salvaged rows into the fresh spool: stopping the salvage", metadata: [
                        "error": "\(error.message)",
                    ])
                    break scan
                }
                recovered += good.count
                bad += quarantined.count
            }
            if let last = read.rows.last { cursor = last.seq }
            guard let failure = read.failure else {
                if read.rows.count < chunkSize { break }
                continue
            }
            failedRegions += 1
            guard let next = await nextReadable(source, after: cursor) else {
                logger.warning("the damaged spool has no readable row after this point", metadata: [
                    "after_seq": "\(cursor)", "error": "\(failure.message)",
                ])
                break
            }
            logger.warning("skipped unreadable spool rows", metadata: [
                "from_seq": "\(cursor + 1)", "to_seq": "\(next - 1)", "error": "\(failure.message)",
            ])
            // Always move forward, even if the lookup reads a row the scan could not.
            cursor = max(next - 1, cursor + 1)
        }
        await source.close()
        let lowerBound = bad + failedRegions
        if let expected, expected - recovered >= lowerBound {
            return SpoolSalvageOutcome(recovered: recovered, unreadable: expected - recovered, exact: true)
        }
        return SpoolSalvageOutcome(recovered: recovered, unreadable: lowerBound, exact: false)
    }

    /// Up to `chunkSize` rows after `cursor`, and the error that stopped the read early, if any.
    private static func readChunk(_ source: SQLiteConnection, after cursor: Int64) async -> (rows: [SpoolRawRow], failure: StoreError?) {
        do throws(StoreError) {
            return try await source.run { database throws(StoreError) in
                try database.withStatement(
                    "SELECT \(SpoolSchema.selectColumns) FROM spool WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                    [.int(cursor), .int(Int64(chunkSize))]
                ) { statement throws(StoreError) in
                    var rows: [SpoolRawRow] = []
                    do throws(StoreError) {
                        while try statement.step() { rows.append(SpoolRawRow(statement)) }
                        return (rows, nil)
                    } catch {
                        return (rows, error)
                    }
                }
            }
        } catch {
            return ([], error)
        }
    }

    private enum Probe {
        case row(Int64)
        case none
        case failed
    }

    /// The whole first row at or after `seq`, read as the scan reads it.
    private static func probe(_ source: SQLiteConnection, _ seq: Int64) async -> Probe {
        do {
            let found = try await source.run { database throws(StoreError) in
                try database.rows(
                    "SELECT \(SpoolSchema.selectColumns) FROM spool WHERE seq >= ?1 ORDER BY seq LIMIT 1", [.int(seq)],
                    SpoolRawRow.init
                ).first?.seq
            }
            return found.map(Probe.row) ?? .none
        } catch {
            return .failed
        }
    }

    /// The first readable row's `seq` after the damage that stopped a read after `cursor`; `nil` when none is found.
    private static func nextReadable(_ source: SQLiteConnection, after cursor: Int64) async -> Int64? {
        // Jump ahead until a lookup works: `low` fails, `high` works.
        var low = cursor
        var step: Int64 = 1
        var high: Int64
        while true {
            let (candidate, overflow) = low.addingReportingOverflow(step)
            if overflow { return nil }
            if case .failed = await probe(source, candidate) {
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
            if case .failed = await probe(source, middle) { low = middle } else { high = middle }
        }
        if case .row(let seq) = await probe(source, high) { return seq }
        return nil
    }
}
