import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TEDCore
import TEDPersistence
@testable import TEDServer
import TEDStore

@Suite struct ReportRoutesTests {
    static let now = Timestamp.parseISO8601("2026-03-10T12:30:00Z")!
    static func hour(_ h: Int) -> Date { Timestamp.parseISO8601(String(format: "2026-03-10T%02d:00:00Z", h))! }

    struct Fixture {
        let runtime: PersistenceRuntime
        let store: SQLiteStore
        let app: Application<RouterResponder<BasicRequestContext>>
    }

    static func fixture(enabled: Bool) throws -> Fixture {
        var settings = Settings()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ted-report-\(UUID().uuidString)")
        settings.sqlitePath = directory.appendingPathComponent("ted.sqlite").path
        let store = try SQLiteStore(path: settings.sqlitePath, logger: Logger(label: "test"))
        let flag = PersistenceFlag(enabled: enabled, source: .default, backendName: "SQLite", logger: Logger(label: "test"))
        let runtime = PersistenceRuntime(settings: settings, flag: flag, ingestor: Ingestor(settings: settings, flag: flag),
                                         store: store, statistics: FlushStatistics())
        let router = Router(context: BasicRequestContext.self)
        ReportRoutes(runtime: runtime, jobs: JobsStatus(instanceID: "test-instance"), now: { now }).register(on: router)
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
        // 09:00 is outside the last two hours; 12:00 is not complete.
        _ = try await f.store.insert([
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
            try await client.execute(uri: "/api/persistence/metrics?hours=2", method: .get) { response in
                #expect(response.status == .ok)
                let body = try Self.json(response)
                #expect(body["enabled"] == .bool(true))
                #expect(body["period_start"] == .string("2026-03-10T10:00:00.000Z"))
                #expect(body["period_end"] == .string("2026-03-10T12:00:00.000Z"))
                #expect(body["total_predictions"] == .int(7))
                #expect(body["accuracy_1_window"]?.numberValue == 3.0 / 7)
                #expect(body["accuracy_2_windows"]?.numberValue == 5.0 / 7)
                // Weighted by resolved count: (1.25625 × 4 + 0.75 × 3) / 7.
                #expect(abs(try #require(body["average_e40"]?.numberValue) - 7.275 / 7) < 1e-9)
                // The middle of all seven: −2, −0.25, 0.5, 1, 2, 3, 3.025 (not a mean of the hourly medians, 1.25).
                #expect(body["median_e40"]?.numberValue == 1.0)
                guard case .array(let hourly)? = body["hourly"] else { Issue.record("no hourly series"); return }
                #expect(hourly.map { $0.objectValue?["_id"] } == [.string("2026-03-10T10:00:00.000Z"), .string("2026-03-10T11:00:00.000Z")])
                #expect(hourly.first?.objectValue?["hour_start"] == .string("2026-03-10T10:00:00.000Z"))
            }
            try await client.execute(uri: "/api/persistence/metrics", method: .get) { response in
                let body = try Self.json(response)
                #expect(body["total_predictions"] == .int(8))  // 24 hours by default
            }
        }
    }

    @Test func aStoredGameComesWithItsRecordsByTick() async throws {
        let f = try Self.fixture(enabled: true)
        let at = Self.hour(10)
        let game = GameRecord(gameID: "g1", startTick: 0, endTick: 100, peakPrice: 2, peakTick: 50, finalPrice: 0.1, ended: true,
                              rugged: true, hadPredictions: true, predictionCount: 2, predictionAccuracy: 0.5, sideBetsPlaced: 2,
                              createdAt: at, updatedAt: at)
        _ = try await f.store.insert([game.document], into: .games)
        _ = try await f.store.insert([
            Self.prediction("g1", tick: 30, predicted: 140, actual: 100, at: at),
            Self.prediction("g1", tick: 5, predicted: 140, actual: 100, at: at),
            Self.prediction("g2", tick: 1, predicted: 140, actual: 100, at: at),
        ], into: .predictions)
        let bets = [20, 3].map { tick in
            SideBet(gameID: "g1", placedAtTick: tick, probability: 0.2, expectedValue: 0.1, confidence: 0.5, recommendation: .bet,
                    timestamp: at, createdAt: at).document
        }
        _ = try await f.store.insert(bets, into: .sideBets)
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
