import Foundation
import TEDCore

/// A record collection kept in real columns (`tick_samples`, `games`, `predictions`, `side_bets`): a column per
/// top-level field of the record's document, in the document's order, then `document` (STRICT). Dates are epoch milliseconds, booleans 0 or 1,
/// sub-documents their `DocumentJSON` text. A document the columns rebuild exactly (every document the service
/// writes) is kept in the columns alone and `document` is NULL; any other (restored from an older database, written
/// by hand) keeps its whole `DocumentJSON` text in `document` and each field in its column where it has the
/// column's type (NULL otherwise), so it reads back unchanged and filters, sorts, indexes and retention still find
/// it: a document is never refused for its shape, as in MongoDB. The flush binds tick samples, nearly every row it
/// writes, straight from the record instead (`SQLiteTickSampleColumns`), into these same columns.
struct SQLiteRecordColumns: Sendable {
    struct Column: Sendable {
        enum Kind: Sendable { case text, integer, real, boolean, date, document }

        let field: String
        let kind: Kind
        /// The record writes `null` when it has no value; otherwise it leaves the field out.
        let nullWhenEmpty: Bool

        init(_ field: String, _ kind: Kind, nullWhenEmpty: Bool = false) {
            self.field = field
            self.kind = kind
            self.nullWhenEmpty = nullWhenEmpty
        }

        var sqlType: String {
            switch kind {
            case .text, .document: "TEXT"
            case .integer, .boolean, .date: "INTEGER"
            case .real: "REAL"
            }
        }
    }

    /// The fields after `_id`, in the order the record's `document` writes them.
    let columns: [Column]

    /// The columns of `collection` when it has the column layout, nil for a document table.
    static func of(_ collection: CollectionName) -> SQLiteRecordColumns? {
        switch collection {
        case .tickSamples: tickSamples
        case .games: games
        case .predictions: predictions
        case .sideBets: sideBets
        default: nil
        }
    }

    static let tickSamples = SQLiteRecordColumns(columns: [
        Column("game_id", .text), Column("tick", .integer), Column("price", .real), Column("features", .document),
        Column("timestamp", .date), Column("created_at", .date),
    ])

    static let games = SQLiteRecordColumns(columns: [
        Column("game_id", .text), Column("start_tick", .integer), Column("first_tick_seen", .integer),
        Column("end_tick", .integer), Column("duration_ticks", .integer), Column("ticks_seen", .integer),
        Column("completeness", .real), Column("peak_price", .real), Column("peak_tick", .integer),
        Column("final_price", .real), Column("ended", .boolean), Column("rugged", .boolean),
        Column("end_inferred", .boolean), Column("had_predictions", .boolean), Column("prediction_count", .integer),
        Column("prediction_accuracy", .real, nullWhenEmpty: true), Column("side_bets_placed", .integer),
        Column("created_at", .date), Column("updated_at", .date),
    ])

    static let predictions = SQLiteRecordColumns(columns: [
        Column("game_id", .text), Column("predicted_at_tick", .integer), Column("predicted_end_tick", .integer),
        Column("confidence", .real), Column("uncertainty_bounds", .document), Column("features_used", .document),
        Column("model_version", .text), Column("timestamp", .date), Column("created_at", .date),
        Column("resolved", .boolean), Column("actual_end_tick", .integer, nullWhenEmpty: true),
        Column("end_inferred", .boolean), Column("error_metrics", .document, nullWhenEmpty: true),
    ])

    static let sideBets = SQLiteRecordColumns(columns: [
        Column("game_id", .text), Column("placed_at_tick", .integer), Column("probability", .real),
        Column("expected_value", .real), Column("confidence", .real), Column("recommendation", .text),
        Column("timestamp", .date), Column("created_at", .date), Column("resolved", .boolean),
        Column("actual_end_tick", .integer, nullWhenEmpty: true), Column("actual_outcome", .text, nullWhenEmpty: true),
        Column("payout", .real, nullWhenEmpty: true), Column("end_inferred", .boolean),
    ])

    /// `_id`, the fields, `document`: the `SELECT` list of a whole row, read back by `document(_:)`.
    var selectList: String { (["_id"] + columns.map(\.field) + ["document"]).joined(separator: ", ") }

    func createSQL(_ table: SQLiteTable) -> String {
        let fields = columns.map { "\($0.field) \($0.sqlType)" }.joined(separator: ", ")
        return "CREATE TABLE IF NOT EXISTS \(table.quoted) (_id TEXT PRIMARY KEY NOT NULL, \(fields), document TEXT) STRICT"
    }

    /// The insert every writer binds with `bind`; `conflict` is what `ON CONFLICT(_id)` does.
    func insertSQL(_ table: SQLiteTable, onConflict conflict: String) -> String {
        let parameters = (1...(columns.count + 2)).map { "?\($0)" }.joined(separator: ", ")
        return "INSERT INTO \(table.quoted) (\(selectList)) VALUES (\(parameters)) ON CONFLICT(_id) \(conflict)"
    }

    /// Upsert's conflict clause: every column but the key takes the new value.
    var replaceOnConflict: String {
        "DO UPDATE SET " + (columns.map(\.field) + ["document"]).map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
    }

    /// Binds `document` to the parameters of `insertSQL`: its fields to their columns, and the whole document too
    /// unless the columns rebuild it exactly.
    func bind(_ document: Document, to statement: SQLiteStatement, writer: inout DocumentJSONWriter) throws(StoreError) {
        guard case .string(let id)? = document["_id"] else {
            throw StoreError(.operationFailed, "a document has no string _id", retryable: false)
        }
        try statement.bind(.text(id), at: 1)
        var rebuilt: Document = ["_id": .string(id)]
        for (offset, column) in columns.enumerated() {
            let value = document[column.field]
            try statement.bind(try value.map { v throws(StoreError) in try Self.sqlValue(v, column.kind) } ?? .null, at: Int32(offset + 2))
            if let value, Self.fits(value, column.kind) {
                rebuilt.append(column.field, value)
            } else if column.nullWhenEmpty {
                rebuilt.append(column.field, .null)
            }
        }
        let documentParameter = Int32(columns.count + 2)
        guard rebuilt != document else { return try statement.bind(.null, at: documentParameter) }
        try writer.encode(document)
        try statement.bind(utf8: writer.bytes, at: documentParameter)
    }

    /// Whether a column of `kind` keeps `value` so that it reads back equal (else the whole document is kept too). A REAL column reads NaN back as NULL
    /// and -0.0 as 0.0 (SQLite stores integral reals as integers), so those stay in the document.
    private static func fits(_ value: DocumentValue, _ kind: Column.Kind) -> Bool {
        switch (kind, value) {
        case (.text, .string), (.integer, .int64), (.boolean, .bool), (.date, .date), (.document, .document): true
        case (.real, .double(let d)): !d.isNaN && !(d == 0 && d.sign == .minus)
        default: false
        }
    }

    /// What a column of `kind` holds of `value` for filters, sorts and indexes: a value of its type (any number in a
    /// number column, as MongoDB compares numbers across types), NULL for any other.
    private static func sqlValue(_ value: DocumentValue, _ kind: Column.Kind) throws(StoreError) -> SQLiteValue {
        switch (kind, value) {
        case (.text, .string(let s)): .text(s)
        case (.integer, .int64(let i)): .int(i)
        case (.integer, .int32(let i)): .int(Int64(i))
        case (.real, .double(let d)): d.isNaN ? .null : .double(d)
        case (.real, .int64(let i)): .double(Double(i))
        case (.real, .int32(let i)): .double(Double(i))
        case (.boolean, .bool(let b)): .int(b ? 1 : 0)
        case (.date, .date(let date)): .int(try DocumentJSON.milliseconds(date))
        case (.document, .document(let d)): .text(String(decoding: try DocumentJSON.encode(d), as: UTF8.self))
        default: .null
        }
    }

    /// Runs `sql` (an `insertSQL`) once per document; returns how many rows it changed.
    func write(_ documents: [Document], with sql: String, _ database: SQLiteDatabase) throws(StoreError) -> Int {
        try database.withStatement(sql) { statement throws(StoreError) in
            var writer = DocumentJSONWriter()
            var changed = 0
            for document in documents {
                defer { statement.reset() }
                try bind(document, to: statement, writer: &writer)
                while try statement.step() {}
                changed += database.changes
            }
            return changed
        }
    }

    /// The stored row (selected by `selectList`): its `document` when it has one, else the document its columns rebuild.
    func document(_ row: SQLiteStatement) throws(StoreError) -> Document {
        let documentColumn = Int32(columns.count + 1)
        if !row.isNull(documentColumn) { return try row.document(documentColumn) }
        var document: Document = ["_id": .string(row.text(0) ?? "")]
        for (offset, column) in columns.enumerated() {
            let index = Int32(offset + 1)
            if row.isNull(index) {
                if column.nullWhenEmpty { document.append(column.field, .null) }
                continue
            }
            let value: DocumentValue = switch column.kind {
            case .text: .string(row.text(index) ?? "")
            case .integer: .int64(row.int64(index))
            case .real: .double(row.double(index))
            case .boolean: .bool(row.int64(index) != 0)
            case .date: .date(DocumentJSON.date(milliseconds: row.int64(index)))
            case .document: .document(try row.document(index))
            }
            document.append(column.field, value)
        }
        return document
    }

    /// A document field in SQL: its column, a path inside a sub-document's column, or else a path inside the whole
    /// `document` (NULL for a document kept in the columns, which has no other field).
    func field(_ name: String) throws(StoreError) -> SQLiteField {
        if name == "_id" { return .column(name) }
        if let column = columns.first(where: { $0.field == name }) {
            switch column.kind {
            case .document: return .json(column: name, path: "$")
            case .boolean: return .boolean(name)
            default: return .column(name)
            }
        }
        if let column = columns.first(where: { $0.kind == .document && name.hasPrefix($0.field + ".") }) {
            return try .json(column: column.field, field: String(name.dropFirst(column.field.count + 1)))
        }
        return try .json(column: "document", field: name)
    }
}
