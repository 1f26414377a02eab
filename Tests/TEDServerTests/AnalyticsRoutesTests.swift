import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TEDCore
import TEDPersistence
@testable import TEDServer
@testable import TEDStore

/// `GET /api/persistence/analytics` over a real SQLite store (the figures themselves are checked on both stores by
/// TEDStoreTests.AnalyticsTests): its parameters, its JSON, and its answers while off or busy.
@Suite struct AnalyticsRoutesTests {
    static let now = Timestamp.parseISO8601("2026-03-10T12:30:00Z")!

    typealias Fixture = ReportRoutesTests.Fixture

    static func fixture(enabled: Bool) throws -> Fixture {
        try ReportRoutesTests.fixture(enabled: enabled) { runtime, router in
            AnalyticsRoutes(runtime: runtime, now: { now }).register(on: router)
        }
    }

    static func json(_ response: TestResponse) throws -> JSONObject { try ReportRoutesTests.json(response) }

    static func get(_ f: Fixture, _ uri: String, _ check: @escaping @Sendable (TestResponse) throws -> Void) async throws {
        try await f.app.test(.router) { client in
            try await client.execute(uri: uri, method: .get) { response in try check(response) }
        }
    }

    @Test(arguments: [
        ("hours=0", "hours"), ("hours=8761", "hours"), ("hours=abc", "hours"), ("hours=1.5", "hours"), ("hours=", "hours"),
        ("include_inferred=yes", "include_inferred"), ("include_inferred=1", "include_inferred"),
        ("model_version=", "model_version"), ("model_version=" + String(repeating: "m", count: 201), "model_version"),
        ("model_version=a%00b", "model_version"),
    ])
    func badParametersAreA400NamingTheField(_ parameters: String, _ field: String) async throws {
        let f = try Self.fixture(enabled: true)
        try await Self.get(f, "/api/persistence/analytics?" + parameters) { response in
            #expect(response.status == .badRequest)
            let body = try Self.json(response)
            #expect(body["field"] == .string(field))
        }
    }

    @Test func theLongestModelVersionAndTheWidestWindowAreAccepted() async throws {
        let f = try Self.fixture(enabled: true)
        let model = String(repeating: "m", count: 200)
        try await Self.get(f, "/api/persistence/analytics?hours=8760&include_inferred=true&model_version=\(model)") { response in
            #expect(response.status == .ok)
            let body = try Self.json(response)
            #expect(body["hours"] == 8760)
            #expect(body["include_inferred"] == true)
            #expect(body["period_start"] == .string("2025-03-10T12:30:00.000Z"))
        }
    }

    @Test func withPersistenceOffItSaysDisabled() async throws {
        let f = try Self.fixture(enabled: false)
        try await Self.get(f, "/api/persistence/analytics?hours=48") { response in
            #expect(response.status == .ok)
            let body = try Self.json(response)
            #expect(body["enabled"] == false)
            #expect(body["message"] == "Persistence is disabled")
            #expect(body["hours"] == 48)
        }
    }

    /// The contract's shape, key for key: one resolved prediction of model "m" (confidence 0.35, 80 ticks late) and
    /// one lost bet (probability 0.5), both an hour old, and a prediction of "old" from before the window.
    @Test func theReportHasTheContractsShape() async throws {
        let f = try Self.fixture(enabled: true)
        let hourAgo = Self.now.addingTimeInterval(-3600)
        let prediction = Prediction(gameID: "g", predictedAtTick: 5, predictedEndTick: 180, confidence: 0.35, modelVersion: "m",
                                    timestamp: hourAgo, createdAt: hourAgo).resolved(actualEndTick: 100)
        let old = Prediction(gameID: "g0", predictedAtTick: 5, predictedEndTick: 180, confidence: 0.35, modelVersion: "old",
                             timestamp: hourAgo, createdAt: Self.now.addingTimeInterval(-3 * 3600))
        let bet = SideBet(gameID: "g", placedAtTick: 5, probability: 0.5, expectedValue: 0.1, confidence: 0.5, recommendation: .bet,
                          timestamp: hourAgo, createdAt: hourAgo).resolved(actualEndTick: 100, windowTicks: 40, payoutMultiplier: 5)
        _ = try await f.store.documents.insert([prediction.document, old.document], into: .predictions)
        _ = try await f.store.documents.insert([bet.document], into: .sideBets)
        try await Self.get(f, "/api/persistence/analytics?hours=2") { response in
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            let expected: JSONValue = [
                "enabled": true, "hours": 2, "period_start": "2026-03-10T10:30:00.000Z", "period_end": "2026-03-10T12:30:00.000Z",
                "include_inferred": false,
                "models": [[
                    "model_version": "m", "predictions_resolved": 1, "mean_error_ticks": 80.0, "mean_e40": 2.0, "median_e40": 2.0,
                    "within_1_window": 0, "within_2_windows": 1, "within_3_windows": 1,
                    "accuracy_1_window": 0.0, "accuracy_2_windows": 1.0, "accuracy_3_windows": 1.0,
                    "calibration": [[
                        "decile": 3, "confidence_from": 0.3, "confidence_to": 0.4, "predictions": 1, "within_1_window": 0,
                        "share_within_1_window": 0.0,
                    ]],
                ]],
                "side_bets": [
                    "placed": 1, "resolved": 1, "won": 0, "lost": 1, "void": 0, "net_payout": -1.0, "roi_percentage": -100.0,
                    "calibration": [[
                        "decile": 5, "probability_from": 0.5, "probability_to": 0.6, "bets": 1, "won": 0,
                        "realised_win_rate": 0.0, "predicted_win_rate": 0.5,
                    ]],
                ],
            ]
            let body = try JSONParser.parse(Array(buffer: response.body))
            #expect(body == expected)
        }
    }

    /// Figures without data are null (never NaN, which JSON cannot carry).
    @Test func figuresWithoutDataAreNull() async throws {
        let f = try Self.fixture(enabled: true)
        let hourAgo = Self.now.addingTimeInterval(-3600)
        let open = Prediction(gameID: "g", predictedAtTick: 5, predictedEndTick: 180, confidence: 0.35, modelVersion: "m",
                              timestamp: hourAgo, createdAt: hourAgo)
        _ = try await f.store.documents.insert([open.document], into: .predictions)
        try await Self.get(f, "/api/persistence/analytics") { response in
            let body = try Self.json(response)
            let model = try #require(body["models"].flatMap { if case .array(let a) = $0 { a.first?.objectValue } else { nil } })
            for key in ["mean_error_ticks", "mean_e40", "median_e40", "accuracy_1_window", "accuracy_2_windows", "accuracy_3_windows"] {
                #expect(model[key] == .null, "\(key)")
            }
            #expect(model["calibration"] == [])
            #expect(body["side_bets"]?.objectValue?["roi_percentage"] == .null)
            #expect(body["side_bets"]?.objectValue?["calibration"] == [])
        }
    }

    @Test func aFailingStoreIsA503() async throws {
        let f = try Self.fixture(enabled: true)
        await f.store.close()
        try await Self.get(f, "/api/persistence/analytics") { response in
            #expect(response.status == .serviceUnavailable)
            let body = try Self.json(response)
            #expect(body["error"]?.stringValue?.hasPrefix("store unavailable: ") == true)
        }
    }

    /// While every report place is taken the route answers 503 with Retry-After at once, without queueing.
    @Test func aBusyReportGateIsA503() async throws {
        let f = try Self.fixture(enabled: true)
        let limit = f.runtime.reports.limit
        let (entered, enteredContinuation) = AsyncStream.makeStream(of: Void.self)
        let releases = (0..<limit).map { _ in AsyncStream.makeStream(of: Void.self) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (release, _) in releases {
                group.addTask {
                    _ = await f.runtime.reports.run {
                        enteredContinuation.yield()
                        for await _ in release {}
                    }
                }
            }
            var iterator = entered.makeAsyncIterator()
            for _ in 0..<limit { await iterator.next() }
            try await Self.get(f, "/api/persistence/analytics") { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "1")
            }
            for (_, continuation) in releases { continuation.finish() }
            try await group.waitForAll()
        }
        try await Self.get(f, "/api/persistence/analytics") { response in #expect(response.status == .ok) }
    }
}
