import Foundation
import TEDCore

/// The stored hourly metrics in SQLite (`metrics_hourly`, a column per figure: `SQLiteRecordColumns.metricsHourly`):
/// rows found and sorted on their `hour_start` date, kept by replacing the row of the same `_id`; the first record of
/// the measured collections through their `created_at` column.
extension SQLiteStore {
    /// `hour_start` when it is a date; NULL otherwise (a row kept whole whose `hour_start` is something else).
    private static func hourStart(_ table: SQLiteTable) throws(StoreError) -> String {
        let field = try SQLiteField("hour_start", in: table)
        return "CASE WHEN \(field.type) = 'integer' THEN \(field.expression) END"
    }

    public func newestMetricsHour() async throws(StoreError) -> Date? {
        let table = try SQLiteTable(.metricsHourly)
        let sql = "SELECT max(\(try Self.hourStart(table))) FROM \(table.quoted)"
        return try await read(table, sql) { $0.optionalDate(0) }.first ?? nil
    }

    public func hourlyMetrics(from: Date, to: Date) async throws(StoreError) -> [Document] {
        let table = try SQLiteTable(.metricsHourly)
        let hour = try Self.hourStart(table)
        let sql = "SELECT \(table.selectList) FROM \(table.quoted) WHERE \(hour) >= ?1 AND \(hour) < ?2 ORDER BY \(hour)"
        let bindings: [SQLiteValue] = [.int(try DocumentJSON.milliseconds(from)), .int(try DocumentJSON.milliseconds(to))]
        return try await read(table, sql, bindings) { row throws(StoreError) in try table.document(in: row) }
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
