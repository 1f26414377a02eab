import Foundation
import Logging
import Testing
import TEDCore
@testable import TEDStore

/// `metrics_hourly` in SQLite's column layout (`SQLiteRecordColumns.metricsHourly`,
/// `migrations/sqlite/0007_metrics_hourly_columns.json`): a column per figure, those of the sub-documents included;
/// every row reads back as the document saved, the hourly reads and retention use the columns, and a database written
/// by an older ted converts in place and back.
@Suite struct MetricsHourlyColumnsTests {
    static let h0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func hour(_ offset: Int) -> Date { h0.addingTimeInterval(Double(offset) * 3600) }

    /// A row as `HourlyMetricsCalculator` saves it: `_id`, the figures, `created_at`, `updated_at`.
    static func row(_ offset: Int, median: Double? = 0.5, roi: Double? = nil) -> Document {
        var figures = HourlyFigures(start: hour(offset), end: hour(offset + 1))
        figures.gamesAnalyzed = Int64(offset)
        figures.predictionsMade = 7
        figures.predictionsResolved = 5
        figures.medianE40 = median
        figures.meanE40 = median.map { $0 + 0.25 }
        figures.withinThreeWindows = 4
        figures.totalRecommended = 3
        figures.betsWon = 1
        figures.netPayout = roi == nil ? 0 : 4
        figures.roiPercentage = roi
        var row = Document([(key: "_id", value: .string(Timestamp.formatISO8601(hour(offset))))] + figures.document.fields)
        row["created_at"] = .date(hour(offset + 1).addingTimeInterval(0.25))
        row["updated_at"] = .date(hour(offset + 1).addingTimeInterval(61))
        return row
    }

    /// Rows the columns cannot rebuild: TED-V1's shape (other fields, a number where a sub-document is), a figure of
    /// another type, a NaN, an extra field in a sub-document.
    static let unusual: [Document] = {
        var text = row(10)
        text["games_analyzed"] = "many"
        let nan = row(11, median: .nan)
        var extra = row(12)
        var sideBets = extra["side_bet_metrics"]?.documentValue ?? [:]
        sideBets.append("source", "ted-v1")
        extra["side_bet_metrics"] = .document(sideBets)
        let legacy: Document = ["_id": "legacy-1", "hour_start": .date(hour(13)), "prediction_metrics": .int64(3),
                                "accuracy": .double(0.5), "created_at": .date(hour(14))]
        return [text, nan, extra, legacy]
    }()

    static func documents(_ store: SQLiteStore) async throws -> [Document] {
        try await store.hourlyMetrics(from: hour(-100), to: hour(100))
    }

    static func wholeDocuments(_ store: SQLiteStore) async throws -> [String] {
        try await SQLiteLayoutMigrationTests.wholeDocuments(of: "metrics_hourly", store)
    }

    static func columns(_ store: SQLiteStore) async throws -> [String] {
        try await SQLiteLayoutMigrationTests.columns(of: "metrics_hourly", store)
    }

    static let expectedColumns = [
        "_id", "hour_start", "hour_end", "games_analyzed", "predictions_made", "predictions_resolved", "median_e40",
        "mean_e40", "mean_absolute_error", "within_1_window", "within_2_windows", "within_3_windows", "total_recommended",
        "bets_placed", "positive_ev_count", "bets_won", "bets_lost", "net_payout", "roi_percentage", "created_at",
        "updated_at", "document",
    ]

    @Test func rowsReadBackAsSavedAndServeTheHourlyReads() async throws {
        let store = try PredictionColumnsTests.makeStore()
        let rows = [Self.row(2, roi: 150), Self.row(0, median: nil), Self.row(1)] + Self.unusual
        for row in rows { try await store.saveHourlyMetrics(row) }
        #expect(try await Self.columns(store) == Self.expectedColumns)
        #expect(try await Self.wholeDocuments(store) == Self.unusual.map { $0["_id"]!.stringValue! }.sorted())
        // By hour_start, every row (the legacy one too) as it was saved.
        let byHour = rows.sorted { $0["hour_start"]!.dateValue! < $1["hour_start"]!.dateValue! }
        #expect(try PredictionColumnsTests.text(try await Self.documents(store)) == PredictionColumnsTests.text(byHour))
        #expect(try await store.hourlyMetrics(id: Timestamp.formatISO8601(Self.hour(0))) == Self.row(0, median: nil))
        #expect(try await store.newestMetricsHour() == Self.hour(13))
        #expect(try await store.hourlyMetrics(from: Self.hour(1), to: Self.hour(2)) == [Self.row(1)])

        // A recomputed hour replaces its row; a figure is a plain column.
        try await store.saveHourlyMetrics(Self.row(1, median: 2, roi: -100))
        #expect(try await store.hourlyMetrics(id: Timestamp.formatISO8601(Self.hour(1))) == Self.row(1, median: 2, roi: -100))
        let medians = try await store.connection.run { database throws(StoreError) in
            try database.rows(#"SELECT median_e40, roi_percentage FROM "metrics_hourly" WHERE _id < 'l' ORDER BY hour_start LIMIT 3"#) {
                [$0.optionalDouble(0), $0.optionalDouble(1)]
            }
        }
        #expect(medians == [[nil, nil], [2, -100], [0.5, 150]])
        #expect(try await store.count(.metricsHourly, where: .equals("prediction_metrics.within_3_windows", .int64(4))) == 6)
        await #expect(throws: StoreError.self) { try await store.count(.metricsHourly, where: .equals("prediction_metrics", .null)) }

        // Retention reads the created_at column.
        #expect(try await store.expiredCount(in: .metricsHourly, before: Self.hour(3)) == 2)
        #expect(try await store.deleteExpired(from: .metricsHourly, before: Self.hour(3), limit: 10) == 2)
        #expect(try await store.hourlyMetrics(from: Self.hour(0), to: Self.hour(3)) == [Self.row(2, roi: 150)])
        await store.close()
    }

    /// Versions 0001 to 0006 applied, and `metrics_hourly` as ted kept it then (its table, its index and each row's
    /// `doc`).
    @Test func anOldDatabaseConvertsInPlaceAndBack() async throws {
        let documents = [Self.row(0), Self.row(1, median: nil, roi: 25)] + Self.unusual
        let store = try PredictionColumnsTests.makeStore()
        let events = MigrationTests.EventLog()
        let runner = try SQLiteLayoutMigrationTests.runner(store, events: events)
        try await runner.migrate(to: 6)
        try await SQLiteLayoutMigrationTests.keepAsDocuments("metrics_hourly", documents, indexSQL: [
            #"CREATE INDEX "metrics_hourly__created_at_1" ON "metrics_hourly" (created_at ASC)"#,
        ], in: store)
        let labels = SQLiteLayoutMigrationTests.layoutLabels(from: "0007_metrics_hourly_columns")
        #expect(try await runner.checkOnly().pending.map(\.label) == labels)

        #expect(try await runner.up().applied.map(\.label) == labels)
        #expect(events.lines.contains("✓ Converted metrics_hourly to the columns layout (\(documents.count) rows)"))
        #expect(try await Self.columns(store) == Self.expectedColumns)
        let sorted = PredictionColumnsTests.sorted(documents)
        let stored = try await store.find(.metricsHourly, where: .all, sort: DocumentSort("_id"), limit: nil)
        #expect(try PredictionColumnsTests.text(stored) == PredictionColumnsTests.text(sorted))
        #expect(try await Self.wholeDocuments(store) == Self.unusual.map { $0["_id"]!.stringValue! }.sorted())
        let indexes = try await store.connection.run { database throws(StoreError) in
            try database.rows("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'metrics_hourly' AND sql IS NOT NULL") { $0.text(0) ?? "" }
        }
        #expect(indexes == [#"CREATE INDEX "metrics_hourly__created_at_1" ON "metrics_hourly" (created_at ASC)"#])
        #expect(try await runner.checkOnly().collections.allSatisfy(\.matches))
        try await store.saveHourlyMetrics(Self.row(5))

        // Down: the document layout again, each `doc` the text the older ted reads.
        #expect(try await runner.down(steps: labels.count).reverted.map(\.label) == labels.reversed())
        #expect(try await Self.columns(store) == ["_id", "created_at", "doc"])
        let docs = try await store.connection.run { database throws(StoreError) in
            try database.rows(#"SELECT doc FROM "metrics_hourly" ORDER BY _id"#) { $0.text(0) ?? "" }
        }
        #expect(docs == (try PredictionColumnsTests.text(PredictionColumnsTests.sorted(documents + [Self.row(5)]))))
        #expect(try await runner.up().applied.count == labels.count)
        await store.close()
    }
}
