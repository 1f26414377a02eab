import Foundation
import TEDCore

/// `tick_samples` in real columns: nearly every row the flush writes is a tick sample, and binding a few plain values
/// costs SQLite and the service far less than building, binding and storing a JSON document per row.
///
/// `_id TEXT PRIMARY KEY, game_id TEXT, tick INTEGER, price REAL, features TEXT, timestamp INTEGER,
/// created_at INTEGER, document TEXT` (STRICT): dates in epoch milliseconds, `features` the `DocumentJSON` text of the
/// features object. A tick sample (a document equal to `TickSample.document`, as the service writes) is kept in the
/// columns alone and `document` is NULL; the row reads back as exactly that document. Any other document (restored
/// from an older database, written by hand) keeps its whole `DocumentJSON` text in `document` and its fields in the
/// columns where they have the column's type (NULL otherwise), so it reads back unchanged and filters, sorts,
/// indexes and retention still find it: a document is never refused for its shape, as in MongoDB.
enum SQLiteTickSampleColumns {
    /// The document fields in `TickSample.document`'s order, then the whole document of one that is not a sample.
    static let columns = ["_id", "game_id", "tick", "price", "features", "timestamp", "created_at", "document"]
    /// Fields with a column of their own.
    private static let fields = columns.dropLast()

    static func createSQL(_ table: SQLiteTable) -> String {
        """
        CREATE TABLE IF NOT EXISTS \(table.quoted) (_id TEXT PRIMARY KEY NOT NULL, game_id TEXT, tick INTEGER, \
        price REAL, features TEXT, timestamp INTEGER, created_at INTEGER, document TEXT) STRICT
        """
    }

    /// `SELECT` list of a whole row, read back by `document(_:)`.
    static let selectList = columns.joined(separator: ", ")

    /// The insert every writer binds with `bind`; `conflict` is what `ON CONFLICT(_id)` does.
    static func insertSQL(_ table: SQLiteTable, onConflict conflict: String) -> String {
        "INSERT INTO \(table.quoted) (\(selectList)) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(_id) \(conflict)"
    }

    /// Upsert's conflict clause: every column but the key takes the new value.
    static let replaceOnConflict = "DO UPDATE SET " + columns.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", ")

    /// Binds `sample` to the parameters of `insertSQL`, its `_id` and features' text written by `writer` (SQLite
    /// copies each as it is bound).
    static func bind(_ sample: TickSample, to statement: SQLiteStatement, writer: inout DocumentJSONWriter) throws(StoreError) {
        // SQLite stores a NaN REAL as NULL: such a sample keeps its whole document.
        guard !sample.price.isNaN else { return try bindDocument(sample.document, id: sample.id, to: statement, writer: &writer) }
        writer.encode(idOf: sample)
        try statement.bind(utf8: writer.bytes, at: 1)
        try statement.bind(.text(sample.gameID), at: 2)
        try statement.bind(.int(Int64(sample.tick)), at: 3)
        try statement.bind(.double(sample.price), at: 4)
        if let features = sample.features {
            try writer.encode(features: features)
            try statement.bind(utf8: writer.bytes, at: 5)
        } else {
            try statement.bind(.null, at: 5)
        }
        try statement.bind(.int(try DocumentJSON.milliseconds(sample.timestamp)), at: 6)
        try statement.bind(.int(try DocumentJSON.milliseconds(sample.createdAt)), at: 7)
        try statement.bind(.null, at: 8)
    }

    /// Binds any document: a tick sample to the columns alone, anything else whole as well.
    static func bind(_ document: Document, to statement: SQLiteStatement, writer: inout DocumentJSONWriter) throws(StoreError) {
        guard case .string(let id)? = document["_id"] else {
            throw StoreError(.operationFailed, "write into tick_samples: a document has no string _id", retryable: false)
        }
        if case .tickSample(let sample)? = try? StoreRecord(document: document, collection: .tickSamples), sample.document == document {
            return try bind(sample, to: statement, writer: &writer)
        }
        try bindDocument(document, id: id, to: statement, writer: &writer)
    }

    /// The whole document in `document`, and each field in its column when it has the column's type.
    private static func bindDocument(
        _ document: Document, id: String, to statement: SQLiteStatement, writer: inout DocumentJSONWriter
    ) throws(StoreError) {
        try statement.bind(.text(id), at: 1)
        try statement.bind(document["game_id"]?.stringValue.map(SQLiteValue.text) ?? .null, at: 2)
        let tick: SQLiteValue = switch document["tick"] {
        case .int64(let i)?: .int(i)
        case .int32(let i)?: .int(Int64(i))
        default: .null
        }
        try statement.bind(tick, at: 3)
        // A NaN stays out of the column (SQLite would make it NULL anyway); the document keeps it.
        try statement.bind(document["price"]?.doubleValue.flatMap { $0.isNaN ? nil : SQLiteValue.double($0) } ?? .null, at: 4)
        if let features = document["features"]?.documentValue {
            try statement.bind(.text(String(decoding: try DocumentJSON.encode(features), as: UTF8.self)), at: 5)
        } else {
            try statement.bind(.null, at: 5)
        }
        for (field, index) in [("timestamp", Int32(6)), ("created_at", 7)] {
            let milliseconds = try document[field]?.dateValue.map { date throws(StoreError) in try DocumentJSON.milliseconds(date) }
            try statement.bind(milliseconds.map(SQLiteValue.int) ?? .null, at: index)
        }
        try writer.encode(document)
        try statement.bind(utf8: writer.bytes, at: 8)
    }

    /// Runs `sql` (an `insertSQL`) once per document; returns how many rows it changed.
    static func write(_ documents: [Document], with sql: String, _ database: SQLiteDatabase) throws(StoreError) -> Int {
        try database.withStatement(sql) { statement throws(StoreError) in
            var writer = DocumentJSONWriter()
            var changed = 0
            for document in documents {
                try bind(document, to: statement, writer: &writer)
                while try statement.step() {}
                changed += database.changes
                statement.reset()
            }
            return changed
        }
    }

    /// The stored row: its `document` when it has one, else `TickSample.document` from the columns.
    static func document(_ row: SQLiteStatement) throws(StoreError) -> Document {
        if !row.isNull(7) { return try row.document(7) }
        var document: Document = [
            "_id": .string(row.text(0) ?? ""), "game_id": .string(row.text(1) ?? ""),
            "tick": .int64(row.int64(2)), "price": .double(row.double(3)),
        ]
        if !row.isNull(4) { document.append("features", .document(try row.document(4))) }
        document.append("timestamp", .date(DocumentJSON.date(milliseconds: row.int64(5))))
        document.append("created_at", .date(DocumentJSON.date(milliseconds: row.int64(6))))
        return document
    }

    /// A document field in SQL: its column, a path inside the `features` JSON, or else a path inside the whole
    /// `document` (NULL for a tick sample, which has no other field).
    static func field(_ name: String) throws(StoreError) -> SQLiteField {
        if let column = fields.first(where: { $0 == name }) {
            return column == "features" ? .json(column: column, path: "$") : .column(column)
        }
        if name.hasPrefix("features.") { return try .json(column: "features", field: String(name.dropFirst("features.".count))) }
        return try .json(column: "document", field: name)
    }
}
