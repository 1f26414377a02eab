import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TEDCore
import TEDPersistence
@testable import TEDServer
@testable import TEDStore

/// The games list and a game's recording over HTTP: parameters checked (400 naming the field), 404, the contract's
/// shape, the answers while persistence is off, and a failing store (503). The store queries themselves are tested
/// on both stores in TEDPersistenceTests/GameRecordingTests.
@Suite struct GameRecordingRoutesTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    struct Fixture {
        let runtime: PersistenceRuntime
        let store: any DocumentStore
        let app: Application<RouterResponder<BasicRequestContext>>
    }

    static func fixture(enabled: Bool, store: (any DocumentStore)? = nil) throws -> Fixture {
        var settings = Settings()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ted-recordings-\(UUID().uuidString)")
        settings.sqlitePath = directory.appendingPathComponent("ted.sqlite").path
        let store = try store ?? SQLiteStore(path: settings.sqlitePath, logger: Logger(label: "test"))
        let flag = PersistenceFlag(enabled: enabled, source: .default, backendName: "SQLite", logger: Logger(label: "test"))
        let runtime = PersistenceRuntime(settings: settings, flag: flag, ingestor: Ingestor(settings: settings, flag: flag),
                                         store: store, statistics: FlushStatistics())
        let router = Router(context: BasicRequestContext.self)
        GameRecordingRoutes(runtime: runtime).register(on: router)
        return Fixture(runtime: runtime, store: store, app: Application(router: router))
    }

    static func json(_ response: TestResponse) throws -> JSONObject {
        try #require(try JSONParser.parse(Array(buffer: response.body)).objectValue)
    }

    @Test(arguments: [
        ("/api/persistence/games?limit=0", "limit"), ("/api/persistence/games?limit=501", "limit"),
        ("/api/persistence/games?limit=ten", "limit"), ("/api/persistence/games?before=yesterday", "before"),
        ("/api/persistence/game/g/ticks?after_tick=-2", "after_tick"), ("/api/persistence/game/g/ticks?after_tick=1.5", "after_tick"),
        ("/api/persistence/game/g/ticks?after_tick=2147483648", "after_tick"), ("/api/persistence/game/g/ticks?limit=0", "limit"),
        ("/api/persistence/game/g/ticks?limit=5001", "limit"),
    ])
    func badParametersAreA400NamingTheField(_ uri: String, _ field: String) async throws {
        for enabled in [true, false] {
            let f = try Self.fixture(enabled: enabled)
            try await f.app.test(.router) { client in
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .badRequest)
                    let body = try Self.json(response)
                    #expect(body["field"] == .string(field))
                }
            }
        }
    }

    @Test func aRecordingPageFollowsTheContract() async throws {
        let f = try Self.fixture(enabled: true)
        var game = GameRecord(gameID: "g1", startTick: 0, endTick: 9, peakPrice: 2, peakTick: 4, finalPrice: 0.2, ended: true,
                              rugged: true, hadPredictions: false, predictionCount: 0, predictionAccuracy: nil, sideBetsPlaced: 0,
                              createdAt: Self.start, updatedAt: Self.start)
        game.ticksSeen = 8
        let stored = game
        _ = try await f.store.documents.insert([stored.document], into: .games)
        let samples = (0...9).filter { $0 != 3 && $0 != 4 }.map { tick in
            TickSample(gameID: "g1", tick: tick, price: 1 + Double(tick) / 4, features: JSONObject([("f", .int(1))]),
                       timestamp: Self.start.addingTimeInterval(Double(tick)), createdAt: Self.start).document
        }
        _ = try await f.store.documents.insert(samples, into: .tickSamples)
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/api/persistence/game/g1/ticks?after_tick=1&limit=3", method: .get) { response in
                #expect(response.status == .ok)
                let body = try Self.json(response)
                #expect(body.keys == ["game_id", "count", "ticks", "next_after_tick", "completeness"])
                #expect(body["game_id"] == .string("g1"))
                #expect(body["count"] == .int(3))
                #expect(body["ticks"] == [
                    ["tick": 2, "price": 1.5, "timestamp": .string(Timestamp.formatISO8601(Self.start.addingTimeInterval(2)))],
                    ["tick": 5, "price": 2.25, "timestamp": .string(Timestamp.formatISO8601(Self.start.addingTimeInterval(5)))],
                    ["tick": 6, "price": 2.5, "timestamp": .string(Timestamp.formatISO8601(Self.start.addingTimeInterval(6)))],
                ])
                #expect(body["next_after_tick"] == .int(6))
                #expect(body["completeness"] == [
                    "first_tick_seen": 0, "end_tick": 9, "ticks_expected": 10, "ticks_stored": 8, "completeness": 0.8,
                    "gaps": [["from_tick": 3, "to_tick": 4]], "gaps_truncated": false,
                ])
            }
            try await client.execute(uri: "/api/persistence/game/g1/ticks?after_tick=6", method: .get) { response in
                let body = try Self.json(response)
                #expect(body["count"] == .int(3))
                #expect(body["next_after_tick"] == .null)
            }
            try await client.execute(uri: "/api/persistence/game/nope/ticks", method: .get) { response in
                #expect(response.status == .notFound)
                let body = try Self.json(response)
                #expect(body["error"] == .string("game not found"))
            }
            try await client.execute(uri: "/api/persistence/games?limit=1", method: .get) { response in
                #expect(response.status == .ok)
                let body = try Self.json(response)
                #expect(body["enabled"] == .bool(true))
                #expect(body["count"] == .int(1))
                #expect(body["games"] == [stored.json])
            }
        }
    }

    @Test func withPersistenceOffTheGamesComeFromMemoryAndTicksSayDisabled() async throws {
        let f = try Self.fixture(enabled: false)
        for (index, id) in ["old", "new"].enumerated() {
            let events = (0..<5).map { tick in
                IngestEvent.gameState(GameStateUpdate(gameID: id, tick: tick, price: 1, rugged: tick == 4, timestamp: Self.start))
            }
            f.runtime.ingestor.ingest(events, now: Self.start.addingTimeInterval(Double(index) * 60))
        }
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/api/persistence/games", method: .get) { response in
                #expect(response.status == .ok)
                let body = try Self.json(response)
                #expect(body["enabled"] == .bool(false))
                #expect(body["count"] == .int(2))
                guard case .array(let games)? = body["games"] else { Issue.record("no games"); return }
                #expect(games.map { $0.objectValue?["game_id"] } == [.string("new"), .string("old")])
            }
            try await client.execute(uri: "/api/persistence/game/old/ticks", method: .get) { response in
                #expect(response.status == .ok)
                let body = try Self.json(response)
                #expect(body == JSONObject([("enabled", .bool(false)), ("message", .string("Persistence is disabled"))]))
            }
        }
    }

    @Test func readsWaitForNoOneWhenTheReportPlacesAreTaken() async throws {
        let f = try Self.fixture(enabled: true)
        // Slow reports hold every place of the gate until released (one stream each: a stream has one reader).
        let releases = (0..<f.runtime.reports.limit).map { _ in AsyncStream<Void>.makeStream() }
        let holders = releases.map { release in
            Task { await f.runtime.reports.run { for await _ in release.stream { break } } }
        }
        while await f.runtime.reports.run({ () }) != nil { await Task.yield() }
        try await f.app.test(.router) { client in
            for uri in ["/api/persistence/games", "/api/persistence/game/g/ticks"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .serviceUnavailable, "\(uri)")
                    #expect(response.headers[.retryAfter] == "1")
                }
            }
        }
        for release in releases { release.continuation.finish() }
        for holder in holders { _ = await holder.value }
    }

    @Test func aFailingStoreIsA503() async throws {
        let store = try MongoStore(url: "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200", database: "down", logger: Logger(label: "test"))
        let f = try Self.fixture(enabled: true, store: store)
        try await f.app.test(.router) { client in
            for uri in ["/api/persistence/games", "/api/persistence/game/g/ticks"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .serviceUnavailable, "\(uri)")
                    let body = try Self.json(response)
                    #expect(body["error"]?.stringValue?.hasPrefix("store unavailable") == true)
                }
            }
        }
        await store.close()
    }
}
