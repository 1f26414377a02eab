import Foundation
import TEDCore

/// The stored hourly metrics in SQLite: rows found and sorted on their `hour_start` date (integer milliseconds in
/// the JSON), kept by replacing the row of the same `_id`; the first record of the measured collections through
/// their `created_at` column.
extension SQLiteStore {
    /// `hour_start` when it is a date (a JSON integer); NULL otherwise.
    private static let hourStart =
        "CASE WHEN json_type(doc, '$.hour_start') = 'integer' THEN json_extract(doc, '$.hour_start') END"

    public func newestMetricsHour() async throws(StoreError) -> Date? {
        let table = try SQLiteTable(.metricsHourly)
        let sql = "SELECT max(\(Self.hourStart)) FROM \(table.quoted)"
        return try await read(table, sql) { $0.optionalDate(0) }.first ?? nil
    }

    public func hourlyMetrics(from: Date, to: Date) async throws(StoreError) -> [Document] {
        let table = try SQLiteTable(.metricsHourly)
        let sql = """
            SELECT doc FROM (SELECT doc, \(Self.hourStart) AS hour FROM \(table.quoted))
            WHERE hour >= ?1 AND hour < ?2 ORDER BY hour
            """
        let bindings: [SQLiteValue] = [.int(try DocumentJSON.milliseconds(from)), .int(try DocumentJSON.milliseconds(to))]
        return try await read(table, sql, bindings) { row throws(StoreError) in try row.document(0) }
    }

    public func hourlyMetrics(id: String) async throws(StoreError) -> Document? {
        try await document(id, in: .metricsHourly)
    }

    public func saveHourlyMetrics(_ row: Document) async throws(StoreError) {
        try await replaceByID([row], in: .metricsHourly)
    }

    public func firstRecordCreated(since from: Date) async throws(StoreError) -> Date? {
        let tables = try CollectionName.measured.map { collection throws(StoreError) in try SQLiteTable(collection) }
        let since: [SQLiteValue] = [.int(try DocumentJSON.milliseconds(from))]
        return try await connection.run { database throws(StoreError) -> Date? in
            try database.transaction(.deferred) { () throws(StoreError) -> Date? in
                var first: Date?
                for table in tables {
                    guard try database.tableExists(table.name) else { continue }
                    let sql = "SELECT min(created_at) FROM \(table.quoted) WHERE created_at >= ?1"
                    if let oldest = try database.rows(sql, since, { $0.optionalDate(0) }).first ?? nil {
                        first = min(first ?? oldest, oldest)
                    }
                }
                return first
            }
        }
    }
}
