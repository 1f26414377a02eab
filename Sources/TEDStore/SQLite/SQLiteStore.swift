import Foundation
import Logging
import TEDCore

/// The embedded store: one SQLite file (WAL), a table per collection
/// `"<name>"(_id TEXT PRIMARY KEY, created_at INTEGER, doc TEXT)`, where `doc` is the document as `DocumentJSON`
/// text and `created_at` copies the document's `created_at` date in epoch milliseconds (NULL when it has none),
/// so retention, hourly metrics and "oldest first" use a plain indexed column. The record tables (`tick_samples`,
/// `games`, `predictions`, `side_bets`), `metrics_hourly`, `dead_letters` and `flag_history` have a column per field
/// instead (`SQLiteRecordColumns`); `SQLiteTable` and `SQLiteField` hide the difference from queries.
///
/// It behaves like `MongoStore`: writes create missing tables, reads of a missing table find nothing and
/// create nothing, every write is idempotent by `_id` (a string here).
public final class SQLiteStore: DocumentStore, SchemaStore {
    public let backend: StoreBackend = .sqlite
    public let location: String
    let connection: SQLiteConnection
    private let logger: Logger

    /// `threadPriority`: the CPU priority of the connection's thread (`ted serve` passes the flush's).
    public init(path: String, logger: Logger, threadPriority: StoreThreadPriority? = nil) throws(StoreError) {
        connection = try SQLiteConnection(path: path, priority: threadPriority)
        location = path
        self.logger = logger
        logger.debug("opened the SQLite store", metadata: ["path": "\(path)"])
    }

    public var schema: any SchemaStore { self }

    public func ping() async throws(StoreError) {
        _ = try await connection.run { database throws(StoreError) in try database.execute("SELECT 1") }
    }

    public func close() async {
        await connection.close()
        logger.debug("closed the SQLite store", metadata: ["path": "\(location)"])
    }

    // MARK: - Writes

    func insert(_ documents: [Document], into collection: CollectionName) async throws(StoreError) -> WriteOutcome {
        guard !documents.isEmpty else { return WriteOutcome() }
        let table = try SQLiteTable(collection)
        let sql = table.insertSQL(onConflict: "DO NOTHING")
        return try await connection.run { database throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                try database.execute(table.createSQL)
                let inserted = try Self.write(documents, with: sql, into: table, database)
                return WriteOutcome(written: inserted, alreadyStored: documents.count - inserted)
            }
        }
    }

    func upsert(_ documents: [Document], into collection: CollectionName) async throws(StoreError) -> WriteOutcome {
        guard !documents.isEmpty else { return WriteOutcome() }
        let table = try SQLiteTable(collection)
        let sql = table.insertSQL(onConflict: table.replaceOnConflict)
        return try await connection.run { database throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                try database.execute(table.createSQL)
                _ = try Self.write(documents, with: sql, into: table, database)
                return WriteOutcome(written: documents.count)
            }
        }
    }

    /// Runs the insert statement `sql` (a `table.insertSQL`) once per document; returns how many rows it changed.
    static func write(
        _ documents: [Document], with sql: String, into table: SQLiteTable, _ database: SQLiteDatabase
    ) throws(StoreError) -> Int {
        if let columns = table.recordColumns { return try columns.write(documents, with: sql, database) }
        return try database.withStatement(sql) { statement throws(StoreError) in
            var writer = DocumentJSONWriter()
            var changed = 0
            for document in documents {
                guard case .string(let id)? = document["_id"] else {
                    throw StoreError(.operationFailed, "write into \(table.name): a document has no string _id")
                }
                let createdAt = try document["created_at"]?.dateValue.map { date throws(StoreError) in
                    try DocumentJSON.milliseconds(date)
                }
                try writer.encode(document)
                try statement.bind(.text(id), at: 1)
                try statement.bind(createdAt.map(SQLiteValue.int) ?? .null, at: 2)
                try statement.bind(utf8: writer.bytes, at: 3)
                while try statement.step() {}
                changed += database.changes
                statement.reset()
            }
            return changed
        }
    }

    // MARK: - Reads and deletes

    func find(_ collection: CollectionName, where filter: DocumentFilter, sort: DocumentSort?, limit: Int?) async throws(StoreError) -> [Document] {
        if let limit, limit <= 0 { return [] }  // as MongoStore: MongoDB would read 0 as "no limit"
        let table = try SQLiteTable(collection)
        var query = try SQLiteFilter(filter, on: table)
        var select = "SELECT \(table.selectList) FROM \(table.quoted) WHERE \(query.sql)"
        if let sort { select += " ORDER BY \(try SQLiteField(sort.field, in: table).expression) \(sort.ascending ? "ASC" : "DESC")" }
        if let limit {
            select += " LIMIT ?"
            query.bindings.append(.int(Int64(limit)))
        }
        let sql = select
        let bindings = query.bindings
        return try await connection.run { database throws(StoreError) in
            try database.transaction(.deferred) { () throws(StoreError) in
                guard try database.tableExists(table.name) else { return [] }
                return try database.rows(sql, bindings) { row throws(StoreError) in try table.document(in: row) }
            }
        }
    }

    func count(_ collection: CollectionName, where filter: DocumentFilter) async throws(StoreError) -> Int {
        let table = try SQLiteTable(collection)
        let query = try SQLiteFilter(filter, on: table)
        let sql = "SELECT count(*) FROM \(table.quoted) WHERE \(query.sql)"
        return try await connection.run { database throws(StoreError) in
            try database.transaction(.deferred) { () throws(StoreError) in
                guard try database.tableExists(table.name) else { return 0 }
                return try database.rows(sql, query.bindings) { Int($0.int64(0)) }.first ?? 0
            }
        }
    }

    func delete(from collection: CollectionName, where filter: DocumentFilter, limit: Int) async throws(StoreError) -> Int {
        guard limit > 0 else { return 0 }
        let table = try SQLiteTable(collection)
        var query = try SQLiteFilter(filter, on: table)
        query.bindings.append(.int(Int64(limit)))
        let sql = """
            DELETE FROM \(table.quoted) WHERE rowid IN
            (SELECT rowid FROM \(table.quoted) WHERE \(query.sql) ORDER BY created_at, _id LIMIT ?)
            """
        let bindings = query.bindings
        return try await connection.run { database throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                guard try database.tableExists(table.name) else { return 0 }
                return try database.execute(sql, bindings)
            }
        }
    }

    // MARK: - Hourly metrics

    public func aggregateHour(start: Date, end: Date, includeInferred: Bool) async throws(StoreError) -> HourlyFigures {
        let range: [SQLiteValue] = [.int(try DocumentJSON.milliseconds(start)), .int(try DocumentJSON.milliseconds(end)),
                                    .int(includeInferred ? 1 : 0)]
        return try await connection.run { database throws(StoreError) in
            try database.transaction(.deferred) { () throws(StoreError) in
                try SQLiteHourlyMetrics.compute(start: start, end: end, range: range, in: database)
            }
        }
    }

    // MARK: - Leases

    public func acquireLease(_ name: String, owner: String, now: Date, expiresAt: Date) async throws(StoreError) -> Bool {
        let table = try SQLiteTable(.locks)
        // Fields in the order MongoDB's `$set` upsert leaves them (lexicographic), so both stores read the same.
        let lease: Document = ["_id": .string(name), "acquired_at": .date(now), "expires_at": .date(expiresAt), "owner": .string(owner)]
        let bindings: [SQLiteValue] = [
            .text(name), .text(String(decoding: try DocumentJSON.encode(lease), as: UTF8.self)),
            .int(try DocumentJSON.milliseconds(now)), .text(owner),
        ]
        // One statement decides and writes, so two processes cannot both take the lease: the update only
        // happens when the stored lease has expired or is ours, and `changes` says whether it did.
        let sql = """
            INSERT INTO \(table.quoted) (_id, created_at, doc) VALUES (?1, NULL, ?2)
            ON CONFLICT(_id) DO UPDATE SET doc = excluded.doc
            WHERE json_extract(doc, '$.expires_at') <= ?3 OR json_extract(doc, '$.owner') = ?4
            """
        return try await connection.run { database throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                try database.execute(table.createSQL)
                return try database.execute(sql, bindings) == 1
            }
        }
    }

    public func releaseLease(_ name: String, owner: String) async throws(StoreError) {
        let table = try SQLiteTable(.locks)
        let sql = "DELETE FROM \(table.quoted) WHERE _id = ?1 AND json_extract(doc, '$.owner') = ?2"
        try await connection.run { database throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                guard try database.tableExists(table.name) else { return }
                try database.execute(sql, [.text(name), .text(owner)])
            }
        }
    }

    // MARK: - Schema

    public func collectionNames() async throws(StoreError) -> [String] {
        try await connection.run { database throws(StoreError) in try database.tableNames() }
    }

    public func createCollection(_ name: CollectionName, validator: Document?) async throws(StoreError) {
        let table = try SQLiteTable(name)
        let validatorJSON = try validator.map { validator throws(StoreError) in
            String(decoding: try DocumentJSON.encode(validator), as: UTF8.self)
        }
        try await connection.run { database throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                // Like MongoDB, creating an existing collection changes nothing (not even its validator).
                guard try !database.tableExists(table.name) else { return }
                try database.execute(table.createSQL)
                if let validatorJSON {
                    // Kept for inspection only: SQLite does not enforce MongoDB validators.
                    try database.execute(SQLiteMetadata.createCollectionsTable)
                    try database.execute(
                        "INSERT OR REPLACE INTO \(SQLiteMetadata.collections) (name, validator) VALUES (?, ?)",
                        [.text(table.name), .text(validatorJSON)])
                }
            }
        }
    }

    public func dropCollection(_ name: CollectionName) async throws(StoreError) {
        let table = try SQLiteTable(name)
        try await connection.run { database throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                try database.execute("DROP TABLE IF EXISTS \(table.quoted)")  // drops its indexes too
                if try database.tableExists(SQLiteMetadata.indexes) {
                    try database.execute("DELETE FROM \(SQLiteMetadata.indexes) WHERE collection = ?", [.text(table.name)])
                }
                if try database.tableExists(SQLiteMetadata.collections) {
                    try database.execute("DELETE FROM \(SQLiteMetadata.collections) WHERE name = ?", [.text(table.name)])
                }
            }
        }
    }

    public func indexes(of collection: CollectionName) async throws(StoreError) -> [IndexSpec] {
        let table = try SQLiteTable(collection)
        return try await connection.run { database throws(StoreError) in
            try database.transaction(.deferred) { () throws(StoreError) in try SQLiteMetadata.indexes(of: table, in: database) }
        }
    }

    public func createIndex(_ index: IndexSpec, on collection: CollectionName) async throws(StoreError) {
        let table = try SQLiteTable(collection)
        let definition = try SQLiteIndex(index, on: table)
        try await connection.run { database throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                // The same answers as MongoDB's createIndexes: an identical index is a no-op, a clash is an error.
                let existing = try SQLiteMetadata.indexes(of: table, in: database)
                if let same = existing.first(where: { $0.name == index.name }) {
                    guard same != index else { return }
                    let code = same.hasSameKeys(as: index) ? SQLiteIndex.optionsConflict : SQLiteIndex.keySpecsConflict
                    throw StoreError(.operationFailed, "index \(index.name) on \(table.name) exists with other keys or options", code: code)
                }
                if let other = existing.first(where: { $0.hasSameKeys(as: index) }) {
                    throw StoreError(
                        .operationFailed, "index \(other.name) on \(table.name) already has the keys of \(index.name)",
                        code: SQLiteIndex.optionsConflict)
                }
                try database.execute(table.createSQL)
                try database.execute(definition.createSQL)
                try database.execute(SQLiteMetadata.createIndexesTable)
                try database.execute(
                    "INSERT INTO \(SQLiteMetadata.indexes) (collection, name, spec) VALUES (?, ?, ?)",
                    [.text(table.name), .text(index.name), .text(definition.specJSON)])
            }
        }
    }

    public func dropIndex(named name: String, on collection: CollectionName) async throws(StoreError) {
        let table = try SQLiteTable(collection)
        let quotedIndex = SQLiteIndex.quotedName(name, on: table)
        try await connection.run { database throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                // Dropping what is already gone succeeds, as in MongoStore: migrations may be re-run.
                try database.execute("DROP INDEX IF EXISTS \(quotedIndex)")
                guard try database.tableExists(SQLiteMetadata.indexes) else { return }
                try database.execute(
                    "DELETE FROM \(SQLiteMetadata.indexes) WHERE collection = ? AND name = ?", [.text(table.name), .text(name)])
            }
        }
    }

    public func databaseSizeBytes() async throws(StoreError) -> Int64 {
        try await connection.run { database throws(StoreError) in
            let pages = try database.rows("PRAGMA page_count") { $0.int64(0) }.first ?? 0
            let pageSize = try database.rows("PRAGMA page_size") { $0.int64(0) }.first ?? 0
            return pages * pageSize
        }
    }
}

/// A collection's table: its name checked and quoted once, and the layout its rows have.
struct SQLiteTable: Sendable {
    let name: String
    let quoted: String
    /// The tables `SQLiteRecordColumns.of` names (the record tables, `metrics_hourly`, `dead_letters`,
    /// `flag_history`) keep their fields in columns, every other table a `doc` column.
    let layout: StoredLayout
    /// The columns of a record table in the column layout (nil for a document table).
    let recordColumns: SQLiteRecordColumns?

    /// `layout` is the table's as this version of ted creates it unless given (a conversion names the other one).
    init(_ collection: CollectionName, layout: StoredLayout? = nil) throws(StoreError) {
        let name = collection.rawValue
        let lowercased = name.lowercased()
        // sqlite_ names belong to SQLite, _ted_ ones to the store's metadata; SQLite ignores ASCII case in names.
        guard !name.isEmpty, !name.contains("\0"), !lowercased.hasPrefix("sqlite_"), !lowercased.hasPrefix("_ted_") else {
            throw StoreError(.operationFailed, "'\(name)' cannot be a collection name in SQLite")
        }
        let recordColumns = SQLiteRecordColumns.of(collection)
        guard layout != .columns || recordColumns != nil else {
            throw StoreError(.operationFailed, "\(name) has no column layout in SQLite")
        }
        let layout = layout ?? (recordColumns != nil ? .columns : .documents)
        self.init(name: name, quoted: SQLiteTable.quote(name), layout: layout,
                  recordColumns: layout == .columns ? recordColumns : nil)
    }

    /// The table a layout conversion fills before it takes `table`'s place.
    init(stagingFor table: SQLiteTable, layout: StoredLayout) {
        self.init(name: "_ted_layout_\(table.name)", quoted: SQLiteTable.quote("_ted_layout_\(table.name)"), layout: layout,
                  recordColumns: layout == .columns ? table.recordColumns : nil)
    }

    private init(name: String, quoted: String, layout: StoredLayout, recordColumns: SQLiteRecordColumns?) {
        self.name = name
        self.quoted = quoted
        self.layout = layout
        self.recordColumns = recordColumns
    }

    var createSQL: String {
        if let recordColumns { return recordColumns.createSQL(self) }
        return "CREATE TABLE IF NOT EXISTS \(quoted) (_id TEXT PRIMARY KEY NOT NULL, created_at INTEGER, doc TEXT NOT NULL)"
    }

    /// The insert `SQLiteStore.write` binds for each document; `conflict` is what `ON CONFLICT(_id)` does.
    func insertSQL(onConflict conflict: String) -> String {
        if let recordColumns { return recordColumns.insertSQL(self, onConflict: conflict) }
        return "INSERT INTO \(quoted) (_id, created_at, doc) VALUES (?1, ?2, ?3) ON CONFLICT(_id) \(conflict)"
    }

    /// The `SELECT` list of a whole row, which `document(in:)` reads.
    var selectList: String {
        return recordColumns?.selectList ?? "_id, doc"
    }

    /// Upsert's conflict clause: the stored row takes the new document. In the document layout the WHERE skips
    /// rewriting an identical document; like MongoDB's matched count, it still counts as written.
    var replaceOnConflict: String {
        return recordColumns?.replaceOnConflict
            ?? "DO UPDATE SET created_at = excluded.created_at, doc = excluded.doc WHERE doc IS NOT excluded.doc"
    }

    /// The stored document of a row selected by `selectList`, naming the row when it is unreadable.
    func document(in row: SQLiteStatement) throws(StoreError) -> Document {
        do {
            if let recordColumns { return try recordColumns.document(row) }
            return try row.withBytes(1) { bytes throws(StoreError) in
                guard let bytes else { throw DocumentJSON.corrupt("NULL") }
                return try DocumentJSON.decode(bytes)
            }
        } catch {
            throw StoreError(.corrupt, "\(name) document \(row.text(0) ?? "?"): \(error.message)")
        }
    }

    /// An identifier in double quotes, any double quote in it doubled.
    static func quote(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// A document field in SQL: a column (`_id` and `created_at` of every table, each field of a column table), or
/// `json_extract` over a JSON column. Filters, sorts and indexes all build the same text, so the planner matches
/// queries to indexes.
struct SQLiteField {
    let expression: String
    /// The value's type as `json_type` names it (`'integer'`, `'real'`, `'text'`, `'true'`, `'object'`…; NULL
    /// for a missing field), for exact type matches: `json_extract` gives 1 for true and text for objects.
    let type: String

    init(_ field: String, in table: SQLiteTable) throws(StoreError) {
        if let columns = table.recordColumns {
            self = try columns.field(field)
        } else if field == "_id" || field == "created_at" {
            self = .column(field)
        } else {
            self = try .json(column: "doc", field: field)
        }
    }

    /// A plain column; `typeof` names its types as `json_type` does, apart from JSON's booleans and containers,
    /// which no column holds.
    static func column(_ name: String) -> SQLiteField { SQLiteField(expression: name, type: "typeof(\(name))") }

    /// A boolean column (0 or 1), its type named as `json_type` names a JSON boolean.
    static func boolean(_ name: String) -> SQLiteField {
        SQLiteField(expression: name, type: "CASE WHEN \(name) IS NULL THEN NULL WHEN \(name) THEN 'true' ELSE 'false' END")
    }

    /// The value at the JSON path `path` of `column`.
    static func json(column: String, path: String) -> SQLiteField {
        let literal = "'" + path.replacingOccurrences(of: "'", with: "''") + "'"
        return SQLiteField(expression: "json_extract(\(column), \(literal))", type: "json_type(\(column), \(literal))")
    }

    /// The value of the (dotted) `field` inside the JSON `column`.
    static func json(column: String, field: String) throws(StoreError) -> SQLiteField {
        var jsonPath = "$"
        for component in field.split(separator: ".", omittingEmptySubsequences: false) {
            // SQLite's path syntax has no escape for a double quote inside a quoted key.
            guard !component.isEmpty, !component.contains("\""), !component.contains("\0") else {
                throw StoreError(.operationFailed, "field path '\(field)' cannot be queried in SQLite")
            }
            let plain = component.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
            jsonPath += plain ? ".\(component)" : ".\"\(component)\""
        }
        return json(column: column, path: jsonPath)
    }

    private init(expression: String, type: String) {
        self.expression = expression
        self.type = type
    }
}

/// A `DocumentFilter` as a WHERE clause; values are only ever bound, in the order of the `?`s.
///
/// Two MongoDB behaviours are left out on purpose, as the service never relies on them: a scalar does not match
/// an element of an array field (that OR would stop every `equals` from using its index), and a sort over a field
/// of mixed types orders SQLite's way (missing < numbers and dates < text), not BSON's.
struct SQLiteFilter {
    private(set) var sql = ""
    var bindings: [SQLiteValue] = []
    private let table: SQLiteTable

    init(_ filter: DocumentFilter, on table: SQLiteTable) throws(StoreError) {
        self.table = table
        sql = try clause(filter)
    }

    private mutating func clause(_ filter: DocumentFilter) throws(StoreError) -> String {
        switch filter {
        case .all:
            return "1"
        case .ids(let ids):
            // One bound JSON array, however many ids: no limit on parameters, one cached statement.
            let list = try DocumentJSON.encodeValue(.array(ids.map(DocumentValue.string)))
            bindings.append(.text(String(decoding: list, as: UTF8.self)))
            return "_id IN (SELECT value FROM json_each(?))"
        case .idAfter(let id):
            bindings.append(.text(id))
            return "_id > ?"
        case .equals(let field, let value):
            return try equals(field, value)
        case .dateRange(let field, let from, let to):
            guard from != nil || to != nil else { return "1" }
            let column = try SQLiteField(field, in: table)
            var parts = ["\(column.type) = 'integer'"]
            if let from {
                parts.append("\(column.expression) >= ?")
                bindings.append(.int(try DocumentJSON.milliseconds(from)))
            }
            if let to {
                parts.append("\(column.expression) < ?")
                bindings.append(.int(try DocumentJSON.milliseconds(to)))
            }
            return "(" + parts.joined(separator: " AND ") + ")"
        case .and(let filters):
            guard !filters.isEmpty else { return "1" }
            var parts: [String] = []
            for filter in filters { parts.append(try clause(filter)) }
            return "(" + parts.joined(separator: " AND ") + ")"
        }
    }

    /// MongoDB's equality: numbers compare across int32/int64/double, null also matches a missing field,
    /// other types match only their own type.
    private mutating func equals(_ field: String, _ value: DocumentValue) throws(StoreError) -> String {
        if field == "_id" {
            guard case .string(let id) = value else { return "0" }  // every stored `_id` is a string
            bindings.append(.text(id))
            return "_id = ?"
        }
        if field == "created_at", case .date(let date) = value {
            bindings.append(.int(try DocumentJSON.milliseconds(date)))
            return "created_at = ?"
        }
        // The `created_at` column holds dates only: any other value is compared in the JSON (the whole document is
        // kept beside the columns of a row whose `created_at` is not a date).
        let column = field == "created_at"
            ? try SQLiteField.json(column: table.layout == .documents ? "doc" : "document", field: field)
            : try SQLiteField(field, in: table)
        let expression = column.expression
        let type = column.type
        switch value {
        case .null:
            return "\(expression) IS NULL"
        case .bool(let b):
            bindings.append(.int(b ? 1 : 0))
            return "(\(expression) = ? AND \(type) = '\(b ? "true" : "false")')"
        case .string(let s):
            bindings.append(.text(s))
            return "(\(expression) = ? AND \(type) = 'text')"
        case .int32(let i):
            bindings.append(.int(Int64(i)))
            return "(\(expression) = ? AND \(type) IN ('integer', 'real'))"
        case .int64(let i):
            bindings.append(.int(i))
            return "(\(expression) = ? AND \(type) IN ('integer', 'real'))"
        case .double(let d):
            bindings.append(.double(d))
            return "(\(expression) = ? AND \(type) IN ('integer', 'real'))"
        case .date(let date):
            bindings.append(.int(try DocumentJSON.milliseconds(date)))
            return "(\(expression) = ? AND \(type) = 'integer')"
        case .document, .array:
            // Both sides are minified JSON of the same writer, so equal values have equal text.
            bindings.append(.text(String(decoding: try DocumentJSON.encodeValue(value), as: UTF8.self)))
            let kind = if case .array = value { "array" } else { "object" }
            return "(\(expression) = json(?) AND \(type) = '\(kind)')"
        }
    }
}

/// A secondary index: a real SQLite index over the expressions queries use, plus its `IndexSpec` in the
/// metadata table (SQLite cannot give back orders, options or the name as declared).
struct SQLiteIndex {
    /// MongoDB's codes for the same clashes.
    static let optionsConflict = 85
    static let keySpecsConflict = 86

    let createSQL: String
    let specJSON: String

    init(_ index: IndexSpec, on table: SQLiteTable) throws(StoreError) {
        guard !index.name.isEmpty, !index.name.contains("\0"), !index.keys.isEmpty,
            index.keys.allSatisfy({ $0.order == 1 || $0.order == -1 })
        else {
            throw StoreError(.operationFailed, "index \(index.name) on \(table.name): SQLite supports only ascending/descending keys")
        }
        var columns: [String] = []
        for key in index.keys {
            columns.append("\(try SQLiteField(key.field, in: table).expression) \(key.order == 1 ? "ASC" : "DESC")")
        }
        let name = Self.quotedName(index.name, on: table)
        createSQL = "CREATE \(index.unique ? "UNIQUE " : "")INDEX \(name) ON \(table.quoted) (\(columns.joined(separator: ", ")))"
        var spec: Document = [
            "keys": .array(index.keys.map { .document(["field": .string($0.field), "order": .int64(Int64($0.order))]) }),
            "unique": .bool(index.unique),
        ]
        if let seconds = index.expireAfterSeconds { spec.append("expire_after_seconds", .int64(Int64(seconds))) }
        specJSON = String(decoding: try DocumentJSON.encode(spec), as: UTF8.self)
    }

    /// SQLite index names are global to the file, MongoDB's are per collection.
    static func quotedName(_ name: String, on table: SQLiteTable) -> String { SQLiteTable.quote("\(table.name)__\(name)") }

    static func spec(named name: String, json: String) throws(StoreError) -> IndexSpec {
        let document = try DocumentJSON.decode(Array(json.utf8))
        var keys: [(field: String, order: Int)] = []
        for case .document(let key) in document["keys"]?.arrayValue ?? [] {
            guard let field = key["field"]?.stringValue, let order = key["order"]?.intValue else {
                throw StoreError(.corrupt, "index \(name): malformed key in its stored description")
            }
            keys.append((field, order))
        }
        return IndexSpec(
            name: name, keys: keys, unique: document["unique"]?.boolValue ?? false,
            expireAfterSeconds: document["expire_after_seconds"]?.intValue)
    }
}

/// The store's own tables, hidden from `collectionNames` and created on first need.
enum SQLiteMetadata {
    static let indexes = "_ted_indexes"
    static let collections = "_ted_collections"

    static let createIndexesTable = """
        CREATE TABLE IF NOT EXISTS \(indexes) \
        (collection TEXT NOT NULL, name TEXT NOT NULL, spec TEXT NOT NULL, PRIMARY KEY (collection, name))
        """
    static let createCollectionsTable =
        "CREATE TABLE IF NOT EXISTS \(collections) (name TEXT PRIMARY KEY NOT NULL, validator TEXT NOT NULL)"

    /// The indexes of `table` in creation order.
    static func indexes(of table: SQLiteTable, in database: SQLiteDatabase) throws(StoreError) -> [IndexSpec] {
        guard try database.tableExists(indexes) else { return [] }
        let rows = try database.rows(
            "SELECT name, spec FROM \(indexes) WHERE collection = ? ORDER BY rowid", [.text(table.name)]
        ) { ($0.text(0) ?? "", $0.text(1) ?? "") }
        var specs: [IndexSpec] = []
        for (name, json) in rows { specs.append(try SQLiteIndex.spec(named: name, json: json)) }
        return specs
    }
}

/// The hourly metrics in SQL: counts, means and the exact median are computed by SQLite over the hour's rows
/// (found through the `created_at` column), mirroring `HourlyPipelines`.
enum SQLiteHourlyMetrics {
    private static func games(_ table: SQLiteTable) throws(StoreError) -> String {
        "SELECT count(*) FROM \(table.quoted) WHERE \(try table.inRange())"
    }

    /// Means and window counts are over resolved predictions, as in MongoDB; non-numbers are skipped.
    private static func predictions(_ table: SQLiteTable) throws(StoreError) -> String {
        """
        SELECT count(*), count(*) FILTER (WHERE resolved),
            avg(e40) FILTER (WHERE resolved), avg(absolute_error) FILTER (WHERE resolved),
            count(*) FILTER (WHERE resolved AND absolute_error <= 40),
            count(*) FILTER (WHERE resolved AND absolute_error <= 80),
            count(*) FILTER (WHERE resolved AND absolute_error <= 120)
        FROM (SELECT \(try table.isTrue("resolved")) AS resolved, \(try table.number("error_metrics.e40")) AS e40,
                \(try table.number("error_metrics.absolute_error")) AS absolute_error
            FROM \(table.quoted) WHERE \(try table.inRange()))
        """
    }

    /// The predictions whose e40 the median ranks: resolved, e40 a number.
    static func rankedE40(_ table: SQLiteTable) throws(StoreError) -> String {
        "\(try table.isTrue("resolved")) AND \(try table.number("error_metrics.e40")) IS NOT NULL"
    }

    /// The hour's one median (a single group); no row when there is none.
    private static func medianE40(_ table: SQLiteTable) throws(StoreError) -> String {
        SQLiteMedian.select("e40", groupedBy: "period", from: """
            SELECT 0 AS period, \(try table.value("error_metrics.e40")) AS e40 FROM \(table.quoted)
            WHERE \(try table.inRange()) AND \(try rankedE40(table))
            """)
    }

    /// `net_payout` sums the payouts of settled bets (BET and WON or LOST).
    private static func sideBets(_ table: SQLiteTable) throws(StoreError) -> String {
        """
        SELECT count(*), count(*) FILTER (WHERE bet), count(*) FILTER (WHERE expected_value > 0),
            count(*) FILTER (WHERE bet AND outcome = 'WON'), count(*) FILTER (WHERE bet AND outcome = 'LOST'),
            total(payout) FILTER (WHERE bet AND outcome IN ('WON', 'LOST'))
        FROM (SELECT \(try table.value("recommendation")) IS 'BET' AS bet, \(try table.value("actual_outcome")) AS outcome,
                \(try table.number("expected_value")) AS expected_value, \(try table.number("payout")) AS payout
            FROM \(table.quoted) WHERE \(try table.inRange()))
        """
    }

    /// `range` binds [start, end) in milliseconds, and whether inferred ends count. Run inside one read transaction for a consistent snapshot.
    static func compute(start: Date, end: Date, range: [SQLiteValue], in database: SQLiteDatabase) throws(StoreError) -> HourlyFigures {
        var metrics = HourlyFigures(start: start, end: end)
        let games = try SQLiteTable(.games), predictions = try SQLiteTable(.predictions), sideBets = try SQLiteTable(.sideBets)
        if try database.tableExists(games.name) {
            metrics.gamesAnalyzed = try database.rows(try Self.games(games), range) { $0.int64(0) }.first ?? 0
        }
        if try database.tableExists(predictions.name) {
            try database.withStatement(try Self.predictions(predictions), range) { row throws(StoreError) in
                guard try row.step() else { return }
                metrics.predictionsMade = row.int64(0)
                metrics.predictionsResolved = row.int64(1)
                metrics.meanE40 = row.optionalDouble(2)
                metrics.meanAbsoluteError = row.optionalDouble(3)
                metrics.withinOneWindow = row.int64(4)
                metrics.withinTwoWindows = row.int64(5)
                metrics.withinThreeWindows = row.int64(6)
            }
            metrics.medianE40 = try database.rows(try medianE40(predictions), range) { $0.optionalDouble(1) }.first ?? nil
        }
        if try database.tableExists(sideBets.name) {
            try database.withStatement(try Self.sideBets(sideBets), range) { row throws(StoreError) in
                guard try row.step() else { return }
                metrics.totalRecommended = row.int64(0)
                metrics.betsPlaced = row.int64(1)
                metrics.positiveEVCount = row.int64(2)
                metrics.betsWon = row.int64(3)
                metrics.betsLost = row.int64(4)
                metrics.netPayout = row.double(5)
            }
        }
        metrics.roiPercentage = SideBetAnalytics.roiPercentage(netPayout: metrics.netPayout,
                                                               settledBets: Int(metrics.betsWon + metrics.betsLost))
        return metrics
    }
}
