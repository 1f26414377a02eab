import Foundation
import TEDCore

/// A collection kept in real columns (the record tables `tick_samples`, `games`, `predictions`, `side_bets`, and
/// `metrics_hourly`, `dead_letters`, `flag_history`): a column per field of the document, in the document's order,
/// then `document` (STRICT). A field of a sub-document may have a column of its own (`prediction_metrics.median_e40`
/// in `median_e40`), so that no figure hides in JSON. Dates are epoch milliseconds, booleans 0 or 1, sub-documents
/// kept whole their `DocumentJSON` text. A document the columns rebuild exactly (every document the service writes)
/// is kept in the columns alone and `document` is NULL; any other (restored from an older database, written by hand)
/// keeps its whole `DocumentJSON` text in `document` and each field in its column where it has the column's type
/// (NULL otherwise), so it reads back unchanged and filters, sorts, indexes and retention still find it: a document
/// is never refused for its shape, as in MongoDB. The flush binds tick samples, nearly every row it writes, straight
/// from the record instead (`SQLiteTickSampleColumns`), into these same columns.
struct SQLiteRecordColumns: Sendable {
    struct Column: Sendable {
        enum Kind: Sendable { case text, integer, real, boolean, date, document }

        /// The document's field: a top-level one, or `parent.key` for a field of a sub-document.
        let field: String
        let kind: Kind
        /// The record writes `null` when it has no value; otherwise it leaves the field out.
        let nullWhenEmpty: Bool
        /// The sub-document the field is in; nil for a top-level field.
        let parent: String?
        /// The field's name in its (sub-)document.
        let key: String
        /// The column's name in SQL: the key, unless SQL reserves it (`from`, `to`).
        let name: String

        init(_ field: String, _ kind: Kind, nullWhenEmpty: Bool = false, column: String? = nil) {
            self.field = field
            self.kind = kind
            self.nullWhenEmpty = nullWhenEmpty
            let parts = field.split(separator: ".", maxSplits: 1).map(String.init)
            parent = parts.count == 2 ? parts[0] : nil
            key = parts[parts.count - 1]
            name = column ?? key
        }

        var sqlType: String {
            switch kind {
            case .text, .document: "TEXT"
            case .integer, .boolean, .date: "INTEGER"
            case .real: "REAL"
            }
        }

        /// The field's value in `document`; nil when it is missing (or its parent is not a sub-document).
        func value(in document: Document) -> DocumentValue? {
            guard let parent else { return document[key] }
            guard case .document(let fields)? = document[parent] else { return nil }
            return fields[key]
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
        case .metricsHourly: metricsHourly
        case .deadLetters: deadLetters
        case .flagHistory: flagHistory
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

    /// The hourly metrics as `HourlyMetricsCalculator` stores them: `_id`, `HourlyFigures.document`, `created_at`,
    /// `updated_at`.
    static let metricsHourly = SQLiteRecordColumns(columns: [
        Column("hour_start", .date), Column("hour_end", .date), Column("games_analyzed", .integer),
        Column("predictions_made", .integer), Column("predictions_resolved", .integer),
        Column("prediction_metrics.median_e40", .real, nullWhenEmpty: true),
        Column("prediction_metrics.mean_e40", .real, nullWhenEmpty: true),
        Column("prediction_metrics.mean_absolute_error", .real, nullWhenEmpty: true),
        Column("prediction_metrics.within_1_window", .integer), Column("prediction_metrics.within_2_windows", .integer),
        Column("prediction_metrics.within_3_windows", .integer),
        Column("side_bet_metrics.total_recommended", .integer), Column("side_bet_metrics.bets_placed", .integer),
        Column("side_bet_metrics.positive_ev_count", .integer), Column("side_bet_metrics.bets_won", .integer),
        Column("side_bet_metrics.bets_lost", .integer), Column("side_bet_metrics.net_payout", .real),
        Column("side_bet_metrics.roi_percentage", .real, nullWhenEmpty: true),
        Column("created_at", .date), Column("updated_at", .date),
    ])

    /// The dead-letter as `DeadLetterDocument` keeps it: the refused record stays one text column (its Extended JSON:
    /// an arbitrary record, which the store refused), its error, collection and times are columns.
    static let deadLetters = SQLiteRecordColumns(columns: [
        Column("collection", .text), Column("record_id", .text), Column("record", .text, nullWhenEmpty: true),
        Column("error_code", .integer), Column("error_message", .text), Column("failed_at", .date),
        Column("created_at", .date),
    ])

    /// The flag history as `FlagChange.document` writes it; `from` and `to`, words SQL reserves, are the columns
    /// `from_enabled` and `to_enabled`.
    static let flagHistory = SQLiteRecordColumns(columns: [
        Column("at", .date), Column("from", .boolean, column: "from_enabled"), Column("to", .boolean, column: "to_enabled"),
        Column("source", .text), Column("token_fingerprint", .text, nullWhenEmpty: true), Column("host", .text),
        Column("created_at", .date),
    ])

    /// `_id`, the fields, `document`: the `SELECT` list of a whole row, read back by `document(_:)`.
    var selectList: String { (["_id"] + columns.map(\.name) + ["document"]).joined(separator: ", ") }

    func createSQL(_ table: SQLiteTable) -> String {
        let fields = columns.map { "\($0.name) \($0.sqlType)" }.joined(separator: ", ")
        return "CREATE TABLE IF NOT EXISTS \(table.quoted) (_id TEXT PRIMARY KEY NOT NULL, \(fields), document TEXT) STRICT"
    }

    /// The insert every writer binds with `bind`; `conflict` is what `ON CONFLICT(_id)` does.
    func insertSQL(_ table: SQLiteTable, onConflict conflict: String) -> String {
        let parameters = (1...(columns.count + 2)).map { "?\($0)" }.joined(separator: ", ")
        return "INSERT INTO \(table.quoted) (\(selectList)) VALUES (\(parameters)) ON CONFLICT(_id) \(conflict)"
    }

    /// Upsert's conflict clause: every column but the key takes the new value.
    var replaceOnConflict: String {
        "DO UPDATE SET " + (columns.map(\.name) + ["document"]).map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
    }

    /// Binds `document` to the parameters of `insertSQL`: its fields to their columns, and the whole document too
    /// unless the columns rebuild it exactly.
    func bind(_ document: Document, to statement: SQLiteStatement, writer: inout DocumentJSONWriter) throws(StoreError) {
        guard case .string(let id)? = document["_id"] else {
            throw StoreError(.operationFailed, "a document has no string _id", retryable: false)
        }
        try statement.bind(.text(id), at: 1)
        var kept: [DocumentValue?] = []
        kept.reserveCapacity(columns.count)
        for (offset, column) in columns.enumerated() {
            let value = column.value(in: document)
            try statement.bind(try value.map { v throws(StoreError) in try Self.sqlValue(v, column.kind) } ?? .null, at: Int32(offset + 2))
            kept.append(value.flatMap { Self.fits($0, column.kind) ? $0 : nil })
        }
        let documentParameter = Int32(columns.count + 2)
        guard rebuild(id: id, kept) != document else { return try statement.bind(.null, at: documentParameter) }
        try writer.encode(document)
        try statement.bind(utf8: writer.bytes, at: documentParameter)
    }

    /// The document a row of these columns stands for: `_id`, then each column's value (nil for NULL) in its field,
    /// `null` for an empty `nullWhenEmpty` one, the fields of a sub-document gathered in it (left out when none has
    /// a value). Writes and reads both go through it, so a document kept in the columns alone reads back as written.
    private func rebuild(id: String, _ values: [DocumentValue?]) -> Document {
        var document: Document = ["_id": .string(id)]
        var subDocument: (name: String, fields: Document)?
        func closeSubDocument() {
            if let subDocument, !subDocument.fields.isEmpty { document.append(subDocument.name, .document(subDocument.fields)) }
            subDocument = nil
        }
        for (column, value) in zip(columns, values) {
            if subDocument?.name != column.parent {
                closeSubDocument()
                subDocument = column.parent.map { ($0, Document()) }
            }
            guard let value = value ?? (column.nullWhenEmpty ? .null : nil) else { continue }
            if subDocument != nil { subDocument?.fields.append(column.key, value) } else { document.append(column.key, value) }
        }
        closeSubDocument()
        return document
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
    /// number column, as MongoDB compares numbers across types), NULL for any other. A whole double in an integer
    /// column (`tick: 2.0`, as older databases and hand-written restores have it) is held as that integer, so a
    /// recording's `tick >` and a sort by tick find it as MongoDB does; the document is kept whole too (`fits`), so
    /// it still reads back a double. Another double (2.5) cannot be held by a STRICT integer column: NULL.
    private static func sqlValue(_ value: DocumentValue, _ kind: Column.Kind) throws(StoreError) -> SQLiteValue {
        switch (kind, value) {
        case (.text, .string(let s)): .text(s)
        case (.integer, .int64(let i)): .int(i)
        case (.integer, .int32(let i)): .int(Int64(i))
        case (.integer, .double): value.intValue.map { .int(Int64($0)) } ?? .null
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
        var values: [DocumentValue?] = []
        values.reserveCapacity(columns.count)
        for (offset, column) in columns.enumerated() {
            let index = Int32(offset + 1)
            if row.isNull(index) {
                values.append(nil)
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
            values.append(value)
        }
        return rebuild(id: row.text(0) ?? "", values)
    }

    /// A document field in SQL: its column, a path inside a sub-document's column, or else a path inside the whole
    /// `document` (NULL for a document kept in the columns, which has no other field).
    func field(_ name: String) throws(StoreError) -> SQLiteField {
        if name == "_id" { return .column(name) }
        if let column = columns.first(where: { $0.field == name }) {
            switch column.kind {
            case .document: return .json(column: column.name, path: "$")
            case .boolean: return .boolean(column.name)
            default: return .column(column.name)
            }
        }
        // A sub-document split into columns is no one value in SQL: its fields are.
        guard !columns.contains(where: { $0.parent == name }) else {
            throw StoreError(.operationFailed, "\(name) is kept in a column per field in SQLite: query its fields")
        }
        if let column = columns.first(where: { $0.kind == .document && name.hasPrefix($0.field + ".") }) {
            return try .json(column: column.name, field: String(name.dropFirst(column.field.count + 1)))
        }
        return try .json(column: "document", field: name)
    }
}
