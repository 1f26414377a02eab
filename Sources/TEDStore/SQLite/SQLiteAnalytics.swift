import Foundation
import TEDCore

/// The analytics report in SQL, mirroring `AnalyticsPipelines`: SQLite groups the window's predictions by model
/// version and confidence decile, its placed side bets by probability decile, and ranks each model's median e40
/// (`SQLiteMedian`), all in one read transaction; only groups and medians come back.
extension SQLiteStore {
    public func analytics(_ query: AnalyticsQuery) async throws(StoreError) -> AnalyticsReport {
        // ?1, ?2: the window in milliseconds; ?3: whether inferred ends count (`SQLiteTable.inRange`);
        // ?4: the model version asked for, or NULL for all.
        let bindings: [SQLiteValue] = [
            .int(try DocumentJSON.milliseconds(query.start)), .int(try DocumentJSON.milliseconds(query.end)),
            .int(query.includeInferred ? 1 : 0), query.modelVersion.map(SQLiteValue.text) ?? .null,
        ]
        let predictions = try SQLiteTable(.predictions), sideBets = try SQLiteTable(.sideBets)
        let predictionsSQL = try SQLiteAnalytics.predictions(predictions), medianSQL = try SQLiteAnalytics.medianE40(predictions)
        let sideBetsSQL = try SQLiteAnalytics.sideBets(sideBets)
        return try await connection.run { database throws(StoreError) in
            try database.transaction(.deferred) { () throws(StoreError) in
                var tally = AnalyticsTally()
                var medians: [String: Double] = [:]
                if try database.tableExists(predictions.name) {
                    try database.withStatement(predictionsSQL, bindings) { row throws(StoreError) in
                        while try row.step() { if let group = SQLiteAnalytics.predictionGroup(row) { tally.add(group) } }
                    }
                    for (model, median) in try database.rows(medianSQL, bindings, { ($0.text(0), $0.optionalDouble(1)) }) {
                        if let model, let median { medians[model] = median }
                    }
                }
                if try database.tableExists(sideBets.name) {
                    // Side bets carry no model version: the window's bindings only (SQLite refuses a binding too many).
                    try database.withStatement(sideBetsSQL, Array(bindings.prefix(3))) { row throws(StoreError) in
                        while try row.step() { tally.add(SQLiteAnalytics.sideBetGroup(row)) }
                    }
                }
                return tally.report(medianE40: medians)
            }
        }
    }
}

enum SQLiteAnalytics {
    /// The model version, "unknown" when missing or null (as `Prediction` reads it back, and as MongoDB's `$ifNull`
    /// groups it); NULL, and left out, when it is not a string (never written by this service).
    private static func model(_ table: SQLiteTable) throws(StoreError) -> String {
        let field = try SQLiteField("model_version", in: table)
        return """
            CASE WHEN coalesce(\(field.type), 'null') = 'null' THEN '\(AnalyticsPipelines.unknownModel)'
                WHEN \(field.type) = 'text' THEN \(field.expression) END
            """
    }

    /// Only the model asked for, if any (?4).
    private static let ofModel = "model IS NOT NULL AND (?4 IS NULL OR model = ?4)"

    /// The decile of the number `field` (`Decile`), as `AnalyticsPipelines.decile`: the cast truncates where the
    /// floor rounds down, which differs only below 0, where both clamp to 0.
    private static func decile(_ field: String, in table: SQLiteTable) throws(StoreError) -> String {
        "min(9, max(0, CAST(\(try table.number(field)) * 10 AS INTEGER)))"
    }

    /// Columns: model, decile, resolved, signed errors, their sum, ranked e40s, their sum, within 1, 2, 3 windows.
    static func predictions(_ table: SQLiteTable) throws(StoreError) -> String {
        """
        SELECT model, decile, count(*) FILTER (WHERE resolved),
            count(raw_error) FILTER (WHERE resolved), total(raw_error) FILTER (WHERE resolved),
            count(e40) FILTER (WHERE resolved), total(e40) FILTER (WHERE resolved),
            count(*) FILTER (WHERE resolved AND absolute_error <= 40),
            count(*) FILTER (WHERE resolved AND absolute_error <= 80),
            count(*) FILTER (WHERE resolved AND absolute_error <= 120)
        FROM (SELECT \(try model(table)) AS model, \(try decile("confidence", in: table)) AS decile,
                \(try table.isTrue("resolved")) AS resolved,
                \(try table.number("error_metrics.raw_error")) AS raw_error, \(try table.number("error_metrics.e40")) AS e40,
                \(try table.number("error_metrics.absolute_error")) AS absolute_error
            FROM \(table.quoted) WHERE \(try table.inRange()))
        WHERE \(ofModel)
        GROUP BY model, decile
        """
    }

    /// Columns: model, median e40.
    static func medianE40(_ table: SQLiteTable) throws(StoreError) -> String {
        SQLiteMedian.select("e40", groupedBy: "model", from: """
            SELECT * FROM (SELECT \(try model(table)) AS model, \(try table.value("error_metrics.e40")) AS e40 FROM \(table.quoted)
                WHERE \(try table.inRange()) AND \(try SQLiteHourlyMetrics.rankedE40(table)))
            WHERE \(ofModel)
            """)
    }

    /// Columns: decile, placed, resolved, won, lost, void, net payout and summed probability of the settled bets.
    static func sideBets(_ table: SQLiteTable) throws(StoreError) -> String {
        """
        SELECT decile, count(*), count(*) FILTER (WHERE outcome IN ('WON', 'LOST', 'VOID')),
            count(*) FILTER (WHERE outcome = 'WON'), count(*) FILTER (WHERE outcome = 'LOST'),
            count(*) FILTER (WHERE outcome = 'VOID'),
            total(payout) FILTER (WHERE outcome IN ('WON', 'LOST')),
            total(probability) FILTER (WHERE outcome IN ('WON', 'LOST'))
        FROM (SELECT \(try decile("probability", in: table)) AS decile, \(try table.value("actual_outcome")) AS outcome,
                \(try table.number("payout")) AS payout, \(try table.number("probability")) AS probability
            FROM \(table.quoted) WHERE \(try table.inRange()) AND \(try table.value("recommendation")) IS 'BET')
        GROUP BY decile
        """
    }

    static func predictionGroup(_ row: SQLiteStatement) -> AnalyticsTally.PredictionGroup? {
        guard let model = row.text(0) else { return nil }
        func count(_ column: Int32) -> Int { Int(row.int64(column)) }
        return AnalyticsTally.PredictionGroup(
            model: model, decile: row.isNull(1) ? nil : count(1), resolved: count(2),
            signedErrors: count(3), errorSum: row.double(4), ranked: count(5), e40Sum: row.double(6),
            withinOneWindow: count(7), withinTwoWindows: count(8), withinThreeWindows: count(9))
    }

    static func sideBetGroup(_ row: SQLiteStatement) -> AnalyticsTally.SideBetGroup {
        func count(_ column: Int32) -> Int { Int(row.int64(column)) }
        return AnalyticsTally.SideBetGroup(
            decile: row.isNull(0) ? nil : count(0), placed: count(1), resolved: count(2), won: count(3), lost: count(4),
            void: count(5), netPayout: row.double(6), settledProbabilitySum: row.double(7))
    }
}
