import Foundation
import TEDCore

/// Tick samples bound straight from the record into `SQLiteRecordColumns.tickSamples`' insert: nearly every row the
/// flush writes is a tick sample, and binding a few plain values costs SQLite and the service far less than building
/// a `Document` per row and binding it field by field. The row is the one `SQLiteRecordColumns.bind` writes for
/// `TickSample.document` (`TickSampleColumnsTests` reads both back): the columns alone, `document` NULL.
enum SQLiteTickSampleColumns {
    /// Binds `sample` to the parameters of the table's insert, its `_id` and features' text written by `writer`
    /// (SQLite copies each as it is bound).
    static func bind(_ sample: TickSample, to statement: SQLiteStatement, writer: inout DocumentJSONWriter) throws(StoreError) {
        // SQLite stores a NaN REAL as NULL: such a sample keeps its whole document.
        guard !sample.price.isNaN else {
            return try SQLiteRecordColumns.tickSamples.bind(sample.document, to: statement, writer: &writer)
        }
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
}
