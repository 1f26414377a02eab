import Foundation
import Hummingbird
import Logging
import TEDCore
import TEDPersistence
import TEDStore

/// `/api/persistence/metrics`, `/api/persistence/game/{game_id}` and `/api/persistence/jobs`: reports read from
/// the store (the game also from memory while persistence is off).
struct ReportRoutes: Sendable {
    let runtime: PersistenceRuntime
    /// The scheduled jobs' status, when this process runs them.
    let jobs: JobsStatus?
    let now: @Sendable () -> Date

    init(runtime: PersistenceRuntime, jobs: JobsStatus? = nil, now: @escaping @Sendable () -> Date = { Date() }) {
        self.runtime = runtime
        self.jobs = jobs
        self.now = now
    }

    static let maximumHours = 8760

    func register(on router: Router<some RequestContext>) {
        router.get("/api/persistence/metrics") { request, _ -> Response in
            let raw = request.uri.queryParameters.get("hours") ?? "24"
            guard let hours = Int(raw), (1...Self.maximumHours).contains(hours) else {
                return JSONResponse.error(.badRequest, "hours must be a whole number from 1 to \(Self.maximumHours)", field: "hours")
            }
            let inferred = request.uri.queryParameters.get("include_inferred") ?? "false"
            guard let includeInferred = Bool(inferred) else {
                return JSONResponse.error(.badRequest, "include_inferred must be true or false", field: "include_inferred")
            }
            return await bounded { await metrics(hours: hours, includeInferred: includeInferred) }
        }
        router.get("/api/persistence/game/:game_id") { _, context -> Response in
            guard let id = context.parameters.get("game_id") else { return JSONResponse.error(.notFound, "game not found") }
            return await bounded { await game(id: id) }
        }
        if let jobs {
            router.get("/api/persistence/jobs") { _, _ in JSONResponse.make(.ok, jobs.snapshot.json) }
        }
    }

    /// Runs a report if one of the report places is free; else 503 at once (the write path is never what waits).
    private func bounded(_ report: () async -> Response) async -> Response {
        if let response = await runtime.reports.run(report) { return response }
        return JSONResponse.error(.serviceUnavailable, "too many report queries at once (\(runtime.reports.limit)); retry shortly",
                                  headers: [.retryAfter: "1"])
    }

    /// Totals over the last `hours` hours: the current hour so far and the `hours - 1` complete hours before it. The
    /// complete hours come from `metrics_hourly`; the current one, which the job stores only once it is over, is
    /// computed live (`"live": true`), so the report shows data right after persistence is enabled. The median e40
    /// is computed by the store over the same period, since hourly medians do not combine.
    ///
    /// Games whose end was inferred (rug never seen) and their outcomes are left out, as the hourly documents leave
    /// them out. With `includeInferred` the totals and the median come from one aggregation of the period's records
    /// that counts them; `hourly` still lists the hours as stored.
    func metrics(hours: Int, includeInferred: Bool = false) async -> Response {
        guard runtime.flag.isEnabled, let store = runtime.store else {
            return JSONResponse.make(.ok, ["enabled": false, "message": "Persistence is disabled", "hours": JSONValue(hours)])
        }
        let now = now()
        let currentHour = MetricsBackfill.hourStart(now)
        let start = currentHour.addingTimeInterval(-Double(hours - 1) * 3600)
        var hourly: [Document]
        let period: Document
        do throws(StoreError) {
            hourly = try await store.find(.metricsHourly, where: .dateRange("hour_start", from: start, to: currentHour),
                                          sort: DocumentSort("hour_start"), limit: nil)
            let calculator = HourlyMetricsCalculator(store: store, logger: Logger(label: "ted.metrics"))
            if let live = try await calculator.live(hour: currentHour, now: now) { hourly.append(live) }
            period = try await store.aggregateHour(start: start, end: currentHour.addingTimeInterval(3600),
                                                   includeInferred: includeInferred)
        } catch {
            return storeFailure(error)
        }
        var summary = MetricsSummary(hourly: includeInferred ? [period] : hourly)
        summary.hours = hourly.count
        return JSONResponse.make(.ok, [
            "enabled": true,
            "hours": JSONValue(hours),
            "include_inferred": .bool(includeInferred),
            "period_start": .string(Timestamp.formatISO8601(start)),
            "period_end": .string(Timestamp.formatISO8601(now)),
            "hours_with_metrics": JSONValue(summary.hours),
            "total_predictions": JSONValue(summary.predictionsResolved),
            "predictions_made": JSONValue(summary.predictionsMade),
            "games_analyzed": JSONValue(summary.gamesAnalyzed),
            "accuracy_1_window": JSONValue(summary.accuracyOneWindow),
            "accuracy_2_windows": JSONValue(summary.accuracyTwoWindows),
            "accuracy_3_windows": JSONValue(summary.accuracyThreeWindows),
            "average_e40": JSONValue(summary.averageE40),
            "median_e40": JSONValue(period.value(at: "prediction_metrics.median_e40")?.doubleValue),
            "side_bets": [
                "bets_placed": JSONValue(summary.betsPlaced),
                "bets_won": JSONValue(summary.betsWon),
                "bets_lost": JSONValue(summary.betsLost),
                "net_payout": .double(summary.netPayout),
                "roi_percentage": JSONValue(summary.roiPercentage),
            ],
            "hourly": .array(hourly.map(\.json)),
        ])
    }

    /// A game with its predictions and side bets by tick: from the store while persistence is on (falling back to
    /// memory for a game not flushed yet), from memory otherwise.
    func game(id: String) async -> Response {
        if runtime.flag.isEnabled, let store = runtime.store {
            do throws(StoreError) {
                if let game = try await store.find(.games, where: .ids([id]), sort: nil, limit: 1).first {
                    let byGame = DocumentFilter.equals("game_id", .string(id))
                    let predictions = try await store.find(.predictions, where: byGame, sort: DocumentSort("predicted_at_tick"), limit: nil)
                    let sideBets = try await store.find(.sideBets, where: byGame, sort: DocumentSort("placed_at_tick"), limit: nil)
                    return JSONResponse.make(.ok, ["game": game.json, "predictions": .array(predictions.map(\.json)),
                                                   "side_bets": .array(sideBets.map(\.json))])
                }
            } catch {
                return storeFailure(error)
            }
        }
        guard let found = runtime.ingestor.game(id: id) else { return JSONResponse.error(.notFound, "game not found") }
        return JSONResponse.make(.ok, [
            "game": found.summary.json,
            "predictions": .array(found.predictions.sorted { $0.predictedAtTick < $1.predictedAtTick }.map(\.json)),
            "side_bets": .array(found.sideBets.sorted { $0.placedAtTick < $1.placedAtTick }.map(\.json)),
        ])
    }

    private func storeFailure(_ error: StoreError) -> Response {
        JSONResponse.error(.serviceUnavailable, "store unavailable: " + MongoURL.scrub(error.message, url: runtime.settings.mongoURL))
    }
}
