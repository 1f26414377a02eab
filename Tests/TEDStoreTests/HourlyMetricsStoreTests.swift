import Foundation
import Testing
import TEDCore
@testable import TEDStore

/// The stored hourly metrics port (`HourlyMetricsStore`) on both real stores.
@Suite struct HourlyMetricsStoreTests {
    /// A whole hour: 500,000 × 3600 s.
    static let h0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func hour(_ offset: Int) -> Date { h0.addingTimeInterval(Double(offset) * 3600) }

    /// A row as the calculator stores it: its `_id` is not in hour order, so the order must come from `hour_start`.
    static func row(_ offset: Int, predictions: Int64 = 1, createdAt: Date? = nil) -> Document {
        ["_id": .string("row-\(9 - offset)"), "hour_start": .date(hour(offset)), "hour_end": .date(hour(offset + 1)),
         "predictions_made": .int64(predictions), "created_at": .date(createdAt ?? hour(offset + 1))]
    }

    @Test(arguments: PortStores.Backend.allCases)
    func rowsAreSavedReplacedAndReadByIDAndByHourRange(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        #expect(try await store.newestMetricsHour() == nil, "no collection yet")
        #expect(try await store.hourlyMetrics(from: Self.hour(0), to: Self.hour(9)) == [])
        #expect(try await store.hourlyMetrics(id: "row-9") == nil)
        for offset in [3, 0, 5, 1] { try await store.saveHourlyMetrics(Self.row(offset)) }
        #expect(try await store.newestMetricsHour() == Self.hour(5))
        #expect(try await store.hourlyMetrics(from: Self.hour(1), to: Self.hour(5)) == [Self.row(1), Self.row(3)])
        let recomputed = Self.row(3, predictions: 7, createdAt: Self.hour(4))
        try await store.saveHourlyMetrics(recomputed)
        #expect(try await store.hourlyMetrics(id: "row-6") == recomputed)
        #expect(try await store.hourlyMetrics(from: Self.hour(0), to: Self.hour(9)).count == 4)
        await store.close()
    }

    @Test(arguments: PortStores.Backend.allCases)
    func theFirstRecordSinceADateIsTheOldestOfGamesPredictionsAndSideBets(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        #expect(try await store.firstRecordCreated(since: Self.hour(0)) == nil, "no collection yet")
        func dated(_ id: String, _ seconds: Double) -> Document {
            ["_id": .string(id), "created_at": .date(Self.hour(0).addingTimeInterval(seconds))]
        }
        _ = try await store.documents.insert([dated("g-before", -1), dated("g", 7200)], into: .games)
        _ = try await store.documents.insert([dated("p", 5400)], into: .predictions)
        _ = try await store.documents.insert([dated("s", 3600), ["_id": "undated"]], into: .sideBets)
        // Tick samples are not measured: an older one changes nothing.
        _ = try await store.documents.insert([dated("t", 60)], into: .tickSamples)
        #expect(try await store.firstRecordCreated(since: Self.hour(0)) == Self.hour(1))
        #expect(try await store.firstRecordCreated(since: Self.hour(0).addingTimeInterval(-1)) == Self.hour(0).addingTimeInterval(-1))
        #expect(try await store.firstRecordCreated(since: Self.hour(3)) == nil)
        await store.close()
    }
}
