import Foundation
import Logging
import TEDCore
import TEDStore

/// The reports read from the store, in the persistence layer's terms: the HTTP layer asks for a report and gets
/// JSON or a `ReportError`, never a store.
public struct StoredReports: Sendable {
    let runtime: PersistenceRuntime

    public init(runtime: PersistenceRuntime) {
        self.runtime = runtime
    }

    public enum ReportError: Error, Sendable {
        /// The store failed; the message is safe to show (no credentials).
        case storeUnavailable(String)
    }

    /// Whether reports come from the store: persistence on, a store configured.
    public var readsStore: Bool { runtime.flag.isEnabled && runtime.store != nil }

    /// Totals over the last `hours` hours: the current hour so far and the `hours - 1` complete hours before it. The
    /// complete hours come from `metrics_hourly`; the current one, which the job stores only once it is over, is
    /// computed live (`"live": true`), so the report shows data right after persistence is enabled. The median e40
    /// is computed by the store over the same period, since hourly medians do not combine.
    ///
    /// Games whose end was inferred (rug never seen) and their outcomes are left out, as the hourly documents leave
    /// them out. With `includeInferred` the totals and the median come from one aggregation of the period's records
    /// that counts them; `hourly` still lists the hours as stored. Nil while reports do not read the store.
    public func metrics(hours: Int, includeInferred: Bool, now: Date) async throws(ReportError) -> JSONValue? {
        guard runtime.flag.isEnabled, let store = runtime.store else { return nil }
        let currentHour = MetricsBackfill.hourStart(now)
        let start = currentHour.addingTimeInterval(-Double(hours - 1) * 3600)
        var hourly: [Document]
        let period: HourlyFigures
        do throws(StoreError) {
            hourly = try await store.hourlyMetrics(from: start, to: currentHour)
            let calculator = HourlyMetricsCalculator(store: store, logger: Logger(label: "ted.metrics"))
            if let live = try await calculator.live(hour: currentHour, now: now) { hourly.append(live) }
            period = try await store.aggregateHour(start: start, end: currentHour.addingTimeInterval(3600),
                                                   includeInferred: includeInferred)
        } catch {
            throw failure(error)
        }
        var summary = MetricsSummary(hourly: includeInferred ? [period.document] : hourly)
        summary.hours = hourly.count
        let sideBets: JSONValue = [
            "bets_placed": JSONValue(summary.betsPlaced),
            "bets_won": JSONValue(summary.betsWon),
            "bets_lost": JSONValue(summary.betsLost),
            "net_payout": .double(summary.netPayout),
            "roi_percentage": JSONValue(summary.roiPercentage),
        ]
        return [
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
            "median_e40": JSONValue(period.medianE40),
            "side_bets": sideBets,
            "hourly": .array(hourly.map(\.json)),
        ]
    }

    /// A game with its predictions and side bets by tick: from the store while persistence is on (falling back to
    /// memory for a game not flushed yet), from memory otherwise. Nil when neither has it.
    public func game(id: String) async throws(ReportError) -> JSONValue? {
        if runtime.flag.isEnabled, let store = runtime.store {
            do throws(StoreError) {
                if let stored = try await store.storedGameDetail(id) {
                    return ["game": stored.game.json, "predictions": .array(stored.predictions.map(\.json)),
                            "side_bets": .array(stored.sideBets.map(\.json))]
                }
            } catch {
                throw failure(error)
            }
        }
        guard let found = runtime.ingestor.game(id: id) else { return nil }
        return [
            "game": found.summary.json,
            "predictions": .array(found.predictions.sorted { $0.predictedAtTick < $1.predictedAtTick }.map(\.json)),
            "side_bets": .array(found.sideBets.sorted { $0.placedAtTick < $1.placedAtTick }.map(\.json)),
        ]
    }

    func failure(_ error: StoreError) -> ReportError {
        .storeUnavailable("store unavailable: " + MongoURL.scrub(error.message, url: runtime.settings.mongoURL))
    }
}
