import Foundation
import TEDCore

/// A record read back from the spool, with the row it came from.
public struct SpoolEntry: Sendable, Equatable {
    public let seq: Int64
    public let record: StoreRecord
    /// Rows of older versions of the same record merged into this one (`StoreRecord.merged`): they leave the spool
    /// with it, or stay with it when it is retried.
    public let folded: [Int64]

    public init(seq: Int64, record: StoreRecord, folded: [Int64] = []) {
        self.seq = seq
        self.record = record
        self.folded = folded
    }

    /// Every spool row this entry stands for.
    public var rows: [Int64] { [seq] + folded }
}

/// The oldest spooled records of one collection, to write to the store and then `remove` from the spool.
public struct SpoolBatch: Sendable, Equatable {
    /// The collection of every record in the batch; `nil` for an empty batch.
    public let collection: CollectionName?
    /// The records to write, oldest first. A record appended more than once within the batch appears once, all its
    /// versions merged (versions from two processes, e.g. either side of a restart, each hold part of a game).
    public let entries: [SpoolEntry]
    /// Every spool row the batch covers, ascending: the entries' rows and the older versions they superseded.
    /// `remove` deletes exactly these.
    public let seqs: [Int64]

    public init(collection: CollectionName?, entries: [SpoolEntry], seqs: [Int64]) {
        self.collection = collection
        self.entries = entries
        self.seqs = seqs
    }

    public static let empty = SpoolBatch(collection: nil, entries: [], seqs: [])

    public var records: [StoreRecord] { entries.map(\.record) }
    public var isEmpty: Bool { seqs.isEmpty }
    /// Rows folded into another version of the same record in this batch.
    public var superseded: Int { seqs.count - entries.count }

    /// The batch less the rows of `kept` entries (written again later): what may be removed from the spool now.
    public func removing(keeping kept: [SpoolEntry]) -> SpoolBatch {
        guard !kept.isEmpty else { return self }
        let rows = Set(kept.flatMap(\.rows))
        return SpoolBatch(collection: collection, entries: entries.filter { !rows.contains($0.seq) },
                          seqs: seqs.filter { !rows.contains($0) })
    }
}

/// What happened when the spool file could not be opened as a healthy database: the status should say "degraded".
public struct SpoolRecovery: Sendable, Equatable {
    /// Where the damaged file (and its `-wal`, if any) now lives, kept for inspection.
    public let movedAsideTo: String
    /// What SQLite said about the file.
    public let reason: String
    /// Rows copied from the damaged file into the fresh spool (they will be replayed).
    public let recovered: Int
    /// Rows of the damaged file that were not recovered: unreadable pages, or rows whose checksum or JSON failed
    /// (those are also kept in the fresh spool's quarantine).
    public let unreadable: Int
    /// `true` when `unreadable` is exact (the damaged file's row counters were readable); otherwise it is an
    /// estimate: the rows seen damaged plus one per damaged region (a file of zeros: nothing is known, 0 or 1).
    public let unreadableIsExact: Bool

    public init(movedAsideTo: String, reason: String, recovered: Int, unreadable: Int, unreadableIsExact: Bool) {
        self.movedAsideTo = movedAsideTo
        self.reason = reason
        self.recovered = recovered
        self.unreadable = unreadable
        self.unreadableIsExact = unreadableIsExact
    }
}

extension StoreError {
    /// The spool refused an append because the file would pass its size limit; nothing of the append was written.
    public var isSpoolFull: Bool { kind == .operationFailed && code == SpoolFile.fullCode }
}

/// FNV-1a 64 over `collection`, NUL, `record_id`, NUL, `doc`: catches a flipped bit in any of the three.
enum SpoolChecksum {
    private static let offsetBasis: UInt64 = 0xCBF2_9CE4_8422_2325
    private static let prime: UInt64 = 0x0000_0100_0000_01B3

    static func of(collection: String, recordID: String, doc: UnsafeBufferPointer<UInt8>) -> Int64 {
        var hash = offsetBasis
        mix(collection, &hash)
        mix(recordID, &hash)
        mix(doc, &hash)
        return Int64(bitPattern: hash)
    }

    static func of(collection: String, recordID: String, doc: [UInt8]) -> Int64 {
        doc.withUnsafeBufferPointer { of(collection: collection, recordID: recordID, doc: $0) }
    }

    private static func mix(_ string: String, _ hash: inout UInt64) {
        var copy = string
        copy.withUTF8 { mix($0, &hash) }
        hash = (hash ^ 0) &* prime  // the separator
    }

    private static func mix(_ bytes: UnsafeBufferPointer<UInt8>, _ hash: inout UInt64) {
        var h = hash
        for byte in bytes {
            h = (h ^ UInt64(byte)) &* prime
        }
        hash = h
    }
}

/// A row ready to insert: the document already encoded and checksummed.
struct SpoolEncodedRow: Sendable {
    /// Kept when a salvage copies a row, so a row keeps its `seq` (and its place) in the fresh spool; `nil` for a new
    /// row, which gets the next one.
    let seq: Int64?
    let collection: String
    let recordID: String
    let doc: [UInt8]
    let checksum: Int64

    init(seq: Int64?, collection: String, recordID: String, doc: [UInt8], checksum: Int64) {
        self.seq = seq
        self.collection = collection
        self.recordID = recordID
        self.doc = doc
        self.checksum = checksum
    }

    init(_ record: StoreRecord) throws(StoreError) {
        // Everything that can throw first, then one delegating init (no partially initialised self on a throw).
        let collection = record.collection.rawValue
        let recordID = record.id
        let doc = try DocumentJSON.encode(record.document)
        self.init(
            seq: nil, collection: collection, recordID: recordID, doc: doc,
            checksum: SpoolChecksum.of(collection: collection, recordID: recordID, doc: doc))
    }
}

/// A row as read from a spool table, not yet trusted: any column may be unreadable.
struct SpoolRawRow: Sendable {
    let seq: Int64
    let collection: String?
    let recordID: String?
    let doc: [UInt8]?
    let checksum: Int64

    init(seq: Int64, collection: String?, recordID: String?, doc: [UInt8]?, checksum: Int64) {
        self.seq = seq
        self.collection = collection
        self.recordID = recordID
        self.doc = doc
        self.checksum = checksum
    }

    /// Reads columns `seq, collection, record_id, doc, checksum`.
    init(_ statement: SQLiteStatement) {
        seq = statement.int64(0)
        collection = statement.text(1)
        recordID = statement.text(2)
        doc = statement.withBytes(3) { $0.map(Array.init) }
        checksum = statement.int64(4)
    }

    /// The record, or why the row cannot be replayed.
    func validate() -> Result<StoreRecord, SpoolRowProblem> {
        guard let collection, let recordID, let doc else { return .failure(SpoolRowProblem("a column is NULL")) }
        guard SpoolChecksum.of(collection: collection, recordID: recordID, doc: doc) == checksum else {
            return .failure(SpoolRowProblem("checksum mismatch"))
        }
        let record: StoreRecord
        do {
            record = try StoreRecord(document: try DocumentJSON.decode(doc), collection: CollectionName(collection))
        } catch {
            return .failure(SpoolRowProblem("undecodable: \(error.message)"))
        }
        guard record.id == recordID else {
            return .failure(SpoolRowProblem("record_id \(recordID) does not match the document's id \(record.id)"))
        }
        return .success(record)
    }

    var encoded: SpoolEncodedRow? {
        guard let collection, let recordID, let doc else { return nil }
        return SpoolEncodedRow(seq: seq, collection: collection, recordID: recordID, doc: doc, checksum: checksum)
    }
}

struct SpoolRowProblem: Error, Sendable {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// Page counts of the open database.
struct SpoolPageStats: Sendable {
    var pageCount: Int64
    var freelistCount: Int64
    var pageSize: Int64

    var fileBytes: Int64 { pageCount * pageSize }
    /// What counts against `maxBytes`: free pages are reused before the file grows.
    var usedBytes: Int64 { (pageCount - freelistCount) * pageSize }
}

/// The spool's tables and the statements every path shares (the live spool and the salvage of a damaged one).
enum SpoolSchema {
    static let selectColumns = "seq, collection, record_id, doc, checksum"

    /// `spool_meta` is created right after `spool`, so its root page sits near the start of the file and usually
    /// survives a truncation: its per-collection row counts tell a salvage how many rows it could not read.
    static func create(_ database: SQLiteDatabase) throws(StoreError) {
        try database.transaction { () throws(StoreError) in
            try database.execute("""
                CREATE TABLE IF NOT EXISTS spool (seq INTEGER PRIMARY KEY AUTOINCREMENT, collection TEXT NOT NULL,
                record_id TEXT NOT NULL, doc TEXT NOT NULL, checksum INTEGER NOT NULL)
                """)
            try database.execute(
                "CREATE TABLE IF NOT EXISTS spool_meta (collection TEXT PRIMARY KEY, rows INTEGER NOT NULL) WITHOUT ROWID")
            try database.execute("CREATE INDEX IF NOT EXISTS spool_by_collection ON spool (collection, seq)")
            try database.execute("""
                CREATE TABLE IF NOT EXISTS spool_quarantine (id INTEGER PRIMARY KEY, original_seq INTEGER,
                collection TEXT, record_id TEXT, doc TEXT, checksum INTEGER, reason TEXT NOT NULL,
                quarantined_at INTEGER NOT NULL)
                """)
        }
    }

    /// Inserts `rows` in order (inside the caller's transaction) and adds them to `spool_meta`.
    static func insert(_ rows: [SpoolEncodedRow], _ database: SQLiteDatabase) throws(StoreError) {
        try insert(rows.count, database) { rows[$0] }
    }

    /// Inserts `records`, each encoded just before its row is written: a spill of thousands of records never holds
    /// their JSON all at once (an eighth of the live heap at the peak of `scripts/bench`'s memory figure).
    static func insert(encoding records: [StoreRecord], _ database: SQLiteDatabase) throws(StoreError) {
        try insert(records.count, database) { index throws(StoreError) in try SpoolEncodedRow(records[index]) }
    }

    private static func insert(_ count: Int, _ database: SQLiteDatabase,
                               row: (Int) throws(StoreError) -> SpoolEncodedRow) throws(StoreError) {
        var added: [String: Int64] = [:]
        try database.withStatement(
            "INSERT INTO spool (collection, record_id, doc, checksum, seq) VALUES (?1, ?2, ?3, ?4, ?5)"
        ) { statement throws(StoreError) in
            for index in 0..<count {
                let row = try row(index)
                added[row.collection, default: 0] += 1
                // NULL: SQLite assigns the next seq (AUTOINCREMENT: never one used before).
                try statement.bind(row.seq.map(SQLiteValue.int) ?? .null, at: 5)
                try statement.bind(.text(row.collection), at: 1)
                try statement.bind(.text(row.recordID), at: 2)
                try row.doc.withUnsafeBufferPointer { bytes throws(StoreError) in try statement.bind(utf8: bytes, at: 3) }
                try statement.bind(.int(row.checksum), at: 4)
                while try statement.step() {}
                statement.reset()
            }
        }
        for (collection, count) in added { try adjustMeta(collection, by: count, database) }
    }

    /// Copies a row that cannot be replayed into `spool_quarantine` (inside the caller's transaction).
    static func quarantine(_ row: SpoolRawRow, reason: String, _ database: SQLiteDatabase) throws(StoreError) {
        try database.withStatement("""
            INSERT INTO spool_quarantine (original_seq, collection, record_id, doc, checksum, reason, quarantined_at)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
            """) { statement throws(StoreError) in
            try statement.bind(.int(row.seq), at: 1)
            try statement.bind(row.collection.map(SQLiteValue.text) ?? .null, at: 2)
            try statement.bind(row.recordID.map(SQLiteValue.text) ?? .null, at: 3)
            if let doc = row.doc {
                try doc.withUnsafeBufferPointer { bytes throws(StoreError) in try statement.bind(utf8: bytes, at: 4) }
            } else {
                try statement.bind(.null, at: 4)
            }
            try statement.bind(.int(row.checksum), at: 5)
            try statement.bind(.text(reason), at: 6)
            try statement.bind(.int(Int64((Date().timeIntervalSince1970 * 1000).rounded())), at: 7)
            while try statement.step() {}
        }
    }

    static func adjustMeta(_ collection: String, by delta: Int64, _ database: SQLiteDatabase) throws(StoreError) {
        try database.execute("""
            INSERT INTO spool_meta (collection, rows) VALUES (?1, ?2)
            ON CONFLICT (collection) DO UPDATE SET rows = rows + excluded.rows
            """, [.text(collection), .int(delta)])
    }

    static func pageStats(_ database: SQLiteDatabase) throws(StoreError) -> SpoolPageStats {
        func pragma(_ name: String) throws(StoreError) -> Int64 {
            try database.rows("PRAGMA \(name)") { $0.int64(0) }.first ?? 0
        }
        return SpoolPageStats(
            pageCount: try pragma("page_count"), freelistCount: try pragma("freelist_count"),
            pageSize: try pragma("page_size"))
    }
}
