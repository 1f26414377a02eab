import Foundation
import TEDCore

/// The stored hourly metrics in MongoDB: rows found and sorted by the server on `hour_start`, kept by replacing the
/// row of the same `_id`.
extension MongoStore {
    public func newestMetricsHour() async throws(StoreError) -> Date? {
        try await firstDate("hour_start", of: .metricsHourly, where: [:], ascending: false)
    }

    public func hourlyMetrics(from: Date, to: Date) async throws(StoreError) -> [Document] {
        let query = try BSONCodec.encode(["hour_start": .document(["$gte": .date(from), "$lt": .date(to)])])
        let options = try BSONCodec.encode(["sort": .document(["hour_start": .int32(1)]), "maxTimeMS": .int64(Self.readMaxTimeMS)])
        return try await withCollection(.metricsHourly, on: readPool) { [self] handle throws(StoreError) in
            try findRaw(handle, query: query, options: options, context: "read hourly metrics")
                .map { bytes throws(StoreError) in try BSONCodec.decode(bytes) }
        }
    }

    public func hourlyMetrics(id: String) async throws(StoreError) -> Document? {
        try await document(id, in: .metricsHourly)
    }

    public func saveHourlyMetrics(_ row: Document) async throws(StoreError) {
        try await replaceByID([row], in: .metricsHourly, context: "save hourly metrics")
    }

    public func firstRecordCreated(since from: Date) async throws(StoreError) -> Date? {
        var first: Date?
        for collection in CollectionName.measured {
            let since: Document = ["created_at": .document(["$gte": .date(from)])]
            if let oldest = try await firstDate("created_at", of: collection, where: since, ascending: true) {
                first = min(first ?? oldest, oldest)
            }
        }
        return first
    }
}
