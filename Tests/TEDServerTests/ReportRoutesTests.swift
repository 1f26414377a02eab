import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TEDCore
import TEDPersistence
@testable import TEDServer
@testable import TEDStore

@Suite struct ReportRoutesTests {
    static let now = Timestamp.parseISO8601("2026-03-10T12:30:00Z")!
    static func hour(_ h: Int) -> Date { Timestamp.parseISO8601(String(format: "2026-03-10T%02d:00:00Z", h))! }

    struct Fixture {
        let runtime: PersistenceRuntime
        let store: SQLiteStore
        let app: Application<RouterResponder<BasicRequestContext>>
    }

    /// A SQLite store and a runtime over it, with the report routes (or the routes `register` adds) on a router.
    static func fixture(
        enabled: Bool,
        register: (PersistenceRuntime, Router<BasicRequestContext>) -> Void = { runtime, router in
            ReportRoutes(runtime: runtime, jobs: JobsStatus(instanceID: "test-instance"), now: { now }).register(on: router)
        }
    ) throws -> Fixture {
        var settings = Settings()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ted-report-\(UUID().uuidString)")
        settings.sqlitePath = directory.appendingPathComponent("ted.sqlite").path
        let store = try SQLiteStore(path: settings.sqlitePath, logger: Logger(label: "test"))
        let flag = PersistenceFlag(enabled: enabled, source: .default, backendName: "SQLite", logger: Logger(label: "test"))
        let runtime = PersistenceRuntime(settings: settings, flag: flag, ingestor: Ingestor(settings: settings, flag: flag),
                                         store: store, statistics: FlushStatistics())
        let router = Router(context: BasicRequestContext.self)
        register(runtime, router)
        return Fixture(runtime: runtime, store: store, app: Application(router: router))
    }

    static func json(_ response: TestResponse) throws -> JSONObject {
        guard case .object(let object) = try JSONParser.parse(Array(buffer: response.body)) else { throw CancellationError() }
        return object
    }

    static func prediction(_ game: String, tick: Int, predicted: Int, actual: Int, at date: Date) -> Document {
        Prediction(gameID: game, predictedAtTick: tick, predictedEndTick: predicted, confidence: 0.5, modelVersion: "m1",
                   timestamp: date, createdAt: date).resolved(actualEndTick: actual).document
    }

    @Test(arguments: ["0", "8761", "-1", "abc", "1.5"])
    func hoursOutOfRangeIsA400(_ hours: String) async throws {
        let f = try Self.fixture(enabled: true)
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/api/persistence/metrics?hours=\(hours)", method: .get) { response in
                #expect(response.status == .badRequest)
                let body = try Self.json(response)
                #expect(body["field"] == .string("hours"))
            }
        }
    }

    @Test func withPersistenceOffTheMetricsSayDisabled() async throws {
        let f = try Self.fixture(enabled: false)
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/api/persistence/metrics?hours=8760", method: .get) { response in
                #expect(response.status == .ok)
                let body = try Self.json(response)
                #expect(body["enabled"] == .bool(false))
            }
        }
    }

    @Test func metricsTotalTheHoursAndTakeTheMedianOverThePeriod() async throws {
        let f = try Self.fixture(enabled: true)
        // 10:00: e40 1, −2, 3, 3.025 (absolute errors 40, 80, 120, 121). 11:00: e40 0.5, −0.25, 2 (20, 10, 80).
        // 09:00 is outside the last three hours; 12:00 is the current hour (now is 12:30).
        _ = try await f.store.documents.insert([
            Self.prediction("g1", tick: 10, predicted: 140, actual: 100, at: Self.hour(10)),
            Self.prediction("g1", tick: 20, predicted: 20, actual: 100, at: Self.hour(10)),
            Self.prediction("g2", tick: 10, predicted: 220, actual: 100, at: Self.hour(10)),
            Self.prediction("g2", tick: 20, predicted: 221, actual: 100, at: Self.hour(10)),
            Self.prediction("g4", tick: 10, predicted: 120, actual: 100, at: Self.hour(11)),
            Self.prediction("g4", tick: 20, predicted: 90, actual: 100, at: Self.hour(11)),
            Self.prediction("g5", tick: 10, predicted: 180, actual: 100, at: Self.hour(11)),
            Self.prediction("g0", tick: 10, predicted: 900, actual: 100, at: Self.hour(9)),
            Self.prediction("g6", tick: 10, predicted: 900, actual: 100, at: Self.hour(12)),
        ], into: .predictions)
        let calculator = HourlyMetricsCalculator(store: f.store, logger: Logger(label: "test"))
        for h in 9...11 { try await calculator.compute(hour: Self.hour(h), now: Self.now) }

        try await f.app.test(.router) { client in
            try await client.execute(uri: "/api/persistence/metrics?hours=3", method: .get) { response in
                #expect(response.status == .ok)
                let body = try Self.json(response)
                #expect(body["enabled"] == .bool(true))
                // 10:00 and 11:00 from metrics_hourly, 12:00 (not complete) computed live; 09:00 is outside.
                #expect(body["period_start"] == .string("2026-03-10T10:00:00.000Z"))
                #expect(body["period_end"] == .string("2026-03-10T12:30:00.000Z"))
                #expect(body["total_predictions"] == .int(8))
                #expect(body["accuracy_1_window"]?.numberValue == 3.0 / 8)
                #expect(body["accuracy_2_windows"]?.numberValue == 5.0 / 8)
                // Weighted by resolved count: (1.25625 × 4 + 0.75 × 3 + 20 × 1) / 8.
                #expect(abs(try #require(body["average_e40"]?.numberValue) - 27.275 / 8) < 1e-9)
                // The middle of all eight: −2, −0.25, 0.5, 1, 2, 3, 3.025, 20 (not a mean of the hourly medians).
                #expect(body["median_e40"]?.numberValue == 1.5)
                guard case .array(let hourly)? = body["hourly"] else { Issue.record("no hourly series"); return }
                #expect(hourly.map { $0.objectValue?["_id"] } == [
                    .string("2026-03-10T10:00:00.000Z"), .string("2026-03-10T11:00:00.000Z"), .string("2026-03-10T12:00:00.000Z"),
                ])
                #expect(hourly.first?.objectValue?["hour_start"] == .string("2026-03-10T10:00:00.000Z"))
                #expect(hourly.first?.objectValue?["live"] == nil)
                #expect(hourly.last?.objectValue?["live"] == .bool(true))
            }
            try await client.execute(uri: "/api/persistence/metrics", method: .get) { response in
                let body = try Self.json(response)
                #expect(body["total_predictions"] == .int(9))  // 24 hours by default
            }
        }
    }

    @Test func inferredEndsCountOnlyWhenIncluded() async throws {
        let f = try Self.fixture(enabled: true)
        let seen = Prediction(gameID: "g1", predictedAtTick: 10, predictedEndTick: 100, confidence: 0.5, modelVersion: "m1",
                              timestamp: Self.hour(11), createdAt: Self.hour(11))
        var inferred = seen
        inferred.gameID = "g2"
        _ = try await f.store.documents.insert([seen.resolved(actualEndTick: 100).document,
                                      inferred.resolved(actualEndTick: 300, endInferred: true).document], into: .predictions)
        try await HourlyMetricsCalculator(store: f.store, logger: Logger(label: "test")).compute(hour: Self.hour(11), now: Self.now)
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/api/persistence/metrics?hours=3", method: .get) { response in
                let body = try Self.json(response)
                #expect(body["include_inferred"] == .bool(false))
                #expect(body["total_predictions"] == .int(1))
                #expect(body["accuracy_1_window"]?.numberValue == 1)
            }
            try await client.execute(uri: "/api/persistence/metrics?hours=3&include_inferred=true", method: .get) { response in
                let body = try Self.json(response)
                #expect(body["include_inferred"] == .bool(true))
                #expect(body["total_predictions"] == .int(2))
                #expect(body["accuracy_1_window"]?.numberValue == 0.5)
                #expect(body["hours_with_metrics"] == .int(1))
            }
            try await client.execute(uri: "/api/persistence/metrics?include_inferred=yes", method: .get) { response in
                #expect(response.status == .badRequest)
                let body = try Self.json(response)
                #expect(body["field"] == .string("include_inferred"))
            }
        }
    }

    /// Right after enabling nothing is in metrics_hourly yet (the job stores an hour once it is over): the current
    /// hour is reported live.
    @Test func theCurrentHourIsReportedBeforeItIsComplete() async throws {
        let f = try Self.fixture(enabled: true)
        _ = try await f.store.documents.insert([
            Self.prediction("g1", tick: 10, predicted: 140, actual: 100, at: Self.hour(12).addingTimeInterval(60)),
        ], into: .predictions)
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/api/persistence/metrics?hours=1", method: .get) { response in
                let body = try Self.json(response)
                #expect(body["period_start"] == .string("2026-03-10T12:00:00.000Z"))
                #expect(body["total_predictions"] == .int(1))
                #expect(body["median_e40"]?.numberValue == 1.0)
                #expect(body["hours_with_metrics"] == .int(1))
                guard case .array(let hourly)? = body["hourly"] else { Issue.record("no hourly series"); return }
                #expect(hourly.first?.objectValue?["live"] == .bool(true))
            }
        }
        #expect(try await f.store.documentCount(of: .metricsHourly, matching: .all) == 0)
    }

    @Test func aStoredGameComesWithItsRecordsByTick() async throws {
        let f = try Self.fixture(enabled: true)
        let at = Self.hour(10)
        let game = GameRecord(gameID: "g1", startTick: 0, endTick: 100, peakPrice: 2, peakTick: 50, finalPrice: 0.1, ended: true,
                              rugged: true, hadPredictions: true, predictionCount: 2, predictionAccuracy: 0.5, sideBetsPlaced: 2,
                              createdAt: at, updatedAt: at)
        _ = try await f.store.documents.insert([game.document], into: .games)
        _ = try await f.store.documents.insert([
            Self.prediction("g1", tick: 30, predicted: 140, actual: 100, at: at),
            Self.prediction("g1", tick: 5, predicted: 140, actual: 100, at: at),
            Self.prediction("g2", tick: 1, predicted: 140, actual: 100, at: at),
        ], into: .predictions)
        let bets = [20, 3].map { tick in
            SideBet(gameID: "g1", placedAtTick: tick, probability: 0.2, expectedValue: 0.1, confidence: 0.5, recommendation: .bet,
                    timestamp: at, createdAt: at).document
        }
        _ = try await f.store.documents.insert(bets, into: .sideBets)
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/api/persistence/game/g1", method: .get) { response in
                #expect(response.status == .ok)
                let body = try Self.json(response)
                #expect(body["game"]?.objectValue?["_id"] == .string("g1"))
                #expect(body["game"]?.objectValue?["created_at"] == .string("2026-03-10T10:00:00.000Z"))
                guard case .array(let predictions)? = body["predictions"], case .array(let sideBets)? = body["side_bets"] else {
                    Issue.record("missing arrays")
                    return
                }
                #expect(predictions.map { $0.objectValue?["predicted_at_tick"] } == [.int(5), .int(30)])
                #expect(sideBets.map { $0.objectValue?["placed_at_tick"] } == [.int(3), .int(20)])
            }
            try await client.execute(uri: "/api/persistence/game/nope", method: .get) { response in
                #expect(response.status == .notFound)
                let body = try Self.json(response)
                #expect(body["error"] == .string("game not found"))
            }
        }
    }

    @Test func withPersistenceOffTheGameComesFromMemory() async throws {
        let f = try Self.fixture(enabled: false)
        let start = Self.hour(10)
        var events: [IngestEvent] = []
        for tick in 0..<30 {
            events.append(.gameState(GameStateUpdate(gameID: "live", tick: tick, price: 1.2, rugged: tick == 29, timestamp: start)))
            if tick == 5 {
                events.append(.sideBet(SideBet(gameID: "live", placedAtTick: 5, probability: 0.3, expectedValue: 0.5, confidence: 0.6,
                                               recommendation: .bet, timestamp: start, createdAt: start)))
            }
        }
        f.runtime.ingestor.ingest(events)
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/api/persistence/game/live", method: .get) { response in
                #expect(response.status == .ok)
                let body = try Self.json(response)
                #expect(body["game"]?.objectValue?["game_id"] == .string("live"))
                guard case .array(let sideBets)? = body["side_bets"] else { Issue.record("no side bets"); return }
                #expect(sideBets.count == 1)
            }
            try await client.execute(uri: "/api/persistence/game/other", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func theJobsStatusIsServed() async throws {
        let f = try Self.fixture(enabled: false)
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/api/persistence/jobs", method: .get) { response in
                let body = try Self.json(response)
                #expect(body["instance_id"] == .string("test-instance"))
                #expect(body["cleanup"]?.objectValue?["last_run_at"] == .null)
            }
        }
    }
}
