import CSQLite
import Foundation
import NIOPosix
import Synchronization

/// One SQLite database file, opened once, whose blocking calls all run on a dedicated thread.
///
/// Checked `Sendable`: the `sqlite3*` lives inside a `Mutex` and is only reached through `run`.
final class SQLiteConnection: Sendable {
    let path: String
    /// `nil` once closed.
    private let database: Mutex<SQLiteDatabase?>
    /// One thread: the lock serialises the connection anyway, and a second thread would only wait on it.
    private let pool: NIOThreadPool
    /// The CPU priority of the connection's thread; nil leaves it as the pool made it.
    private let priority: StoreThreadPriority?

    /// Opens (creating the file and its directory) synchronously, so a bad path fails at startup.
    init(path: String, priority: StoreThreadPriority? = nil) throws(StoreError) {
        let database = try SQLiteDatabase(path: path)
        self.path = path
        self.priority = priority
        self.database = Mutex(database)
        pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
    }

    deinit {
        // A store dropped without `close()`: release the file and the thread anyway.
        database.withLock { $0 = nil }
        pool.shutdownGracefully { _ in }
    }

    /// Runs `body` with the open database on the connection's thread, never on the caller's.
    func run<R: Sendable>(_ body: @escaping @Sendable (SQLiteDatabase) throws(StoreError) -> R) async throws(StoreError) -> R {
        let handOff = SQLiteBodyHandOff(body)
        do {
            return try await pool.runIfActive { [priority] () throws(StoreError) -> R in
                priority?.applyToCurrentThread()
                let body = handOff.take()
                return try self.database.withLock { database throws(StoreError) -> R in
                    guard let database else { throw self.closedError }
                    return try body(database)
                }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            // The pool reports work refused after shutdown as a cancellation too.
            throw Task.isCancelled ? StoreError(.unavailable, "SQLite call cancelled before it ran") : closedError
        }
    }

    /// Closes the database after the calls already queued, then stops the thread. Idempotent.
    func close() async {
        _ = try? await pool.runIfActive { self.database.withLock { $0 = nil } }
        try? await pool.shutdownGracefully()
    }

    private var closedError: StoreError { StoreError(.unavailable, "the SQLite database \(path) is closed") }
}

/// `run`'s body, let go of on the connection's thread before the caller resumes. The pool's work item releases what
/// it captured only after resuming the caller, so the connection's thread often dropped the last reference to a
/// flushed batch and freed its records there (a thousand `free`s per batch on the thread every write waits for);
/// with the body taken out of this box, the caller, which still holds the batch, always frees it.
private final class SQLiteBodyHandOff<R>: @unchecked Sendable {
    // Set on the caller's thread before the work is submitted, taken once on the connection's thread.
    private var body: (@Sendable (SQLiteDatabase) throws(StoreError) -> R)?

    init(_ body: @escaping @Sendable (SQLiteDatabase) throws(StoreError) -> R) { self.body = body }

    func take() -> @Sendable (SQLiteDatabase) throws(StoreError) -> R {
        defer { body = nil }
        return body!
    }
}

/// A value bound to a statement parameter.
enum SQLiteValue: Sendable, Equatable {
    case int(Int64)
    case double(Double)
    case text(String)
    case null
}

/// How a transaction takes its locks.
enum SQLiteTransactionMode {
    /// Takes the write lock at BEGIN, so a writer waits (busy_timeout) instead of failing when it upgrades.
    case immediate
    /// A consistent read snapshot; in WAL mode it never blocks writers.
    case deferred
}

/// An open `sqlite3*` and its prepared statements. Not `Sendable`: used only under `SQLiteConnection`'s lock.
final class SQLiteDatabase {
    private let handle: OpaquePointer
    /// Prepared once per SQL text and reused: preparing costs as much as a small insert.
    private var statements: [String: OpaquePointer] = [:]
    /// Statements currently stepping, so the cache is never flushed under one of them.
    private var activeStatements = 0
    private static let statementCacheLimit = 128

    fileprivate init(path: String) throws(StoreError) {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError(.configuration, "cannot create the directory of the SQLite database \(path): \(error.localizedDescription)")
        }
        var opened: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let code = sqlite3_open_v2(path, &opened, flags, nil)
        guard code == SQLITE_OK, let opened else {
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(opened)
            throw StoreError(.configuration, "cannot open the SQLite database \(path): \(message)", code: Int(code))
        }
        handle = opened
        sqlite3_busy_timeout(handle, 5000)
        // WAL lets readers and one writer (possibly in another process) work at once; NORMAL syncs at checkpoints
        // only, which is durable against process crashes and fast enough for the flush.
        let mode = try rows("PRAGMA journal_mode=WAL") { $0.text(0) }.first ?? nil
        guard mode == "wal" else {
            throw StoreError(.configuration, "the SQLite database \(path) cannot use WAL (journal_mode is \(mode ?? "unknown"))")
        }
        try execute("PRAGMA synchronous=NORMAL")
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE (0 for an upsert whose WHERE did not hold).
    var changes: Int { Int(sqlite3_changes(handle)) }

    /// Runs `body` with the cached statement for `sql`, bound to `bindings`, and resets it after so it never
    /// keeps a read snapshot open.
    func withStatement<R>(
        _ sql: String, _ bindings: [SQLiteValue] = [], _ body: (SQLiteStatement) throws(StoreError) -> R
    ) throws(StoreError) -> R {
        do throws(StoreError) {
            let statement = SQLiteStatement(handle: try prepared(sql), database: handle)
            activeStatements += 1
            defer {
                sqlite3_reset(statement.handle)
                sqlite3_clear_bindings(statement.handle)
                activeStatements -= 1
            }
            for (offset, value) in bindings.enumerated() {
                try statement.bind(value, at: Int32(offset + 1))
            }
            return try body(statement)
        } catch where error.kind == .operationFailed && error.code & 0xFF == Int(SQLITE_ERROR) {
            // "no such column" on a table an older ted wrote, not migrated yet: say so, naming the table.
            throw layoutBehindError(for: sql, error) ?? error
        }
    }

    /// Steps a statement to completion; returns `changes`.
    @discardableResult
    func execute(_ sql: String, _ bindings: [SQLiteValue] = []) throws(StoreError) -> Int {
        try withStatement(sql, bindings) { statement throws(StoreError) in
            while try statement.step() {}
            return changes
        }
    }

    /// Every row of a query, read by `row`.
    func rows<R>(
        _ sql: String, _ bindings: [SQLiteValue] = [], _ row: (SQLiteStatement) throws(StoreError) -> R
    ) throws(StoreError) -> [R] {
        try withStatement(sql, bindings) { statement throws(StoreError) in
            var result: [R] = []
            while try statement.step() { result.append(try row(statement)) }
            return result
        }
    }

    /// Commits what `body` did, or rolls all of it back when it throws.
    func transaction<R>(_ mode: SQLiteTransactionMode = .immediate, _ body: () throws(StoreError) -> R) throws(StoreError) -> R {
        try execute(mode == .immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            if sqlite3_get_autocommit(handle) == 0 { sqlite3_exec(handle, "ROLLBACK", nil, nil, nil) }
            throw error
        }
    }

    /// Whether `sql` compiles against the schema as it is (and then keeps it prepared; a cached one answers at once).
    func canPrepare(_ sql: String) -> Bool {
        (try? prepared(sql)) != nil
    }

    func tableExists(_ name: String) throws(StoreError) -> Bool {
        try !rows("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [.text(name)]) { _ in () }.isEmpty
    }

    private func prepared(_ sql: String) throws(StoreError) -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        if statements.count >= Self.statementCacheLimit && activeStatements == 0 {
            // Only reached by callers building many distinct queries; start over rather than track recency.
            for statement in statements.values { sqlite3_finalize(statement) }
            statements.removeAll()
        }
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else {
            throw SQLiteDatabase.error(code, handle, "cannot prepare \(sql.prefix(120))")
        }
        statements[sql] = statement
        return statement
    }

    /// The error for a failed call, with SQLite's message.
    static func error(_ code: Int32, _ database: OpaquePointer, _ context: String) -> StoreError {
        let message = String(cString: sqlite3_errmsg(database))
        let kind: StoreError.Kind = switch code & 0xFF {
        case SQLITE_BUSY, SQLITE_LOCKED: .unavailable
        case SQLITE_CORRUPT, SQLITE_NOTADB: .corrupt
        case SQLITE_CANTOPEN, SQLITE_READONLY, SQLITE_PERM: .configuration
        default: .operationFailed
        }
        // The database's own state, not the statement's values: the same write may succeed later.
        let retryable = switch code & 0xFF {
        case SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL, SQLITE_NOMEM, SQLITE_INTERRUPT, SQLITE_PROTOCOL,
             SQLITE_CANTOPEN, SQLITE_READONLY, SQLITE_PERM: true
        default: false
        }
        return StoreError(kind, "SQLite: \(context): \(message)", code: Int(code), retryable: retryable)
    }
}

/// A prepared statement borrowed from `SQLiteDatabase.withStatement`; valid only inside it.
struct SQLiteStatement {
    fileprivate let handle: OpaquePointer
    fileprivate let database: OpaquePointer

    func bind(_ value: SQLiteValue, at index: Int32) throws(StoreError) {
        let code: Int32
        switch value {
        case .int(let v): code = sqlite3_bind_int64(handle, index, v)
        case .double(let v): code = sqlite3_bind_double(handle, index, v)
        case .null: code = sqlite3_bind_null(handle, index)
        case .text(var v): code = v.withUTF8 { bindText($0, at: index) }
        }
        try check(code, "cannot bind parameter \(index)")
    }

    /// Binds UTF-8 bytes as text without building a `String` (SQLite copies them).
    func bind(utf8 bytes: UnsafeBufferPointer<UInt8>, at index: Int32) throws(StoreError) {
        try check(bindText(bytes, at: index), "cannot bind parameter \(index)")
    }

    /// Whether a row is ready (`false` once done).
    func step() throws(StoreError) -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw SQLiteDatabase.error(code, database, "cannot run \(String(cString: sqlite3_sql(handle)).prefix(120))")
        }
    }

    /// Readies the statement to run again with new bindings (its error, if any, was already thrown by `step`).
    func reset() { sqlite3_reset(handle) }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }
    func optionalDouble(_ column: Int32) -> Double? { isNull(column) ? nil : double(column) }

    func text(_ column: Int32) -> String? {
        withBytes(column) { $0.map { String(decoding: $0, as: UTF8.self) } }
    }

    /// The column's text, valid only inside `body` (nil for NULL).
    func withBytes<R, E: Error>(_ column: Int32, _ body: (UnsafeBufferPointer<UInt8>?) throws(E) -> R) throws(E) -> R {
        guard let pointer = sqlite3_column_text(handle, column) else { return try body(nil) }
        return try body(UnsafeBufferPointer(start: pointer, count: Int(sqlite3_column_bytes(handle, column))))
    }

    private func bindText(_ utf8: UnsafeBufferPointer<UInt8>, at index: Int32) -> Int32 {
        // An empty buffer may have no address, and a NULL pointer would bind SQL NULL instead of ''.
        guard let base = utf8.baseAddress else { return sqlite3_bind_text(handle, index, "", 0, ted_sqlite_transient()) }
        return base.withMemoryRebound(to: CChar.self, capacity: utf8.count) {
            sqlite3_bind_text64(handle, index, $0, sqlite3_uint64(utf8.count), ted_sqlite_transient(), UInt8(SQLITE_UTF8))
        }
    }

    /// `context` is built only on failure: binds run several times per row of every flush.
    private func check(_ code: Int32, _ context: @autoclosure () -> String) throws(StoreError) {
        guard code == SQLITE_OK else { throw SQLiteDatabase.error(code, database, context()) }
    }
}
