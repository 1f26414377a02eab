import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import TEDCore
import TEDPersistence
@testable import TEDServer
import TEDStore

@Suite struct HTTPTests {
    struct Fixture {
        let runtime: PersistenceRuntime
        let app: Application<RouterResponder<TEDRequestContext>>
    }

    static func fixture(enabled: Bool = false, adminToken: String? = nil, ingestToken: String? = nil,
                        maxBodyBytes: Int = 4 << 20, corsOrigins: [String] = [], rateLimit: Int? = nil,
                        jobs: JobsStatus? = nil,
                        extraRoutes: (Router<TEDRequestContext>) -> Void = { _ in }) throws -> Fixture {
        var settings = Settings()
        settings.corsOrigins = corsOrigins
        settings.rateLimitPerSecond = rateLimit
        settings.adminToken = adminToken
        settings.ingestToken = ingestToken
        settings.ingestMaxBodyBytes = maxBodyBytes
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ted-http-\(UUID().uuidString)")
        settings.sqlitePath = directory.appendingPathComponent("ted.sqlite").path
        let store = try SQLiteStore(path: settings.sqlitePath, logger: Logger(label: "test"))
        let flag = PersistenceFlag(enabled: enabled, source: .default, backendName: "SQLite", logger: Logger(label: "test"))
        let ingestor = Ingestor(settings: settings, flag: flag)
        let runtime = PersistenceRuntime(settings: settings, flag: flag, ingestor: ingestor, store: store, statistics: FlushStatistics())
        let router = TEDApplication.router(runtime: runtime, registry: nil, version: "test", jobs: jobs)
        extraRoutes(router)
        return Fixture(runtime: runtime, app: Application(router: router))
    }

    static func json(_ response: TestResponse) throws -> JSONObject {
        let bytes = Array(buffer: response.body)
        guard case .object(let object) = try JSONParser.parse(bytes) else { throw CancellationError() }
        return object
    }

    /// Ingest takes only JSON and NDJSON content types (anything else is a 415).
    static let jsonType: HTTPFields = [.contentType: "application/json"]

    static let gameState = #"{"type":"game_state","game_id":"g1","tick":1,"price":1.5}"#

    @Test func acceptsOneEventAnArrayAndNDJSON() async throws {
        let f = try Self.fixture()
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/api/ingest", method: .post, headers: Self.jsonType, body: ByteBuffer(string: Self.gameState)) { response in
                #expect(response.status == .accepted)
                let reply = try Self.json(response)
                #expect(reply["accepted"] == .int(1))
            }
            let array = #"[{"type":"game_state","game_id":"g1","tick":2,"price":1.6},{"type":"prediction","game_id":"g1","predicted_at_tick":2,"predicted_end_tick":80,"confidence":0.4},{"type":"side_bet","game_id":"g1","placed_at_tick":2,"probability":0.2,"expected_value":0.1,"confidence":0.5,"recommendation":"PLACE_SIDE_BET"}]"#
            try await client.execute(uri: "/api/ingest", method: .post, headers: Self.jsonType, body: ByteBuffer(string: array)) { response in
                #expect(response.status == .accepted)
                let reply = try Self.json(response)
                #expect(reply["accepted"] == .int(3))
            }
            let ndjson = #"{"type":"game_state","game_id":"g1","tick":3,"price":1.7}"# + "\n\n" + #"{"type":"game_state","game_id":"g1","tick":4,"price":1.8}"# + "\n"
            try await client.execute(uri: "/api/ingest", method: .post, headers: [.contentType: "application/x-ndjson"],
                                     body: ByteBuffer(string: ndjson)) { response in
                #expect(response.status == .accepted)
                let reply = try Self.json(response)
                #expect(reply["accepted"] == .int(2))
            }
            try await client.execute(uri: "/api/tick-history?limit=10", method: .get) { response in
                let body = try Self.json(response)
                #expect(body["count"] == .int(4))
            }
            try await client.execute(uri: "/api/side-bet-history", method: .get) { response in
                let body = try Self.json(response)
                #expect(body["count"] == .int(1))
            }
        }
    }

    @Test func aRequestWithOneBadEventIsRejectedWhole() async throws {
        let f = try Self.fixture()
        try await f.app.test(.router) { client in
            let body = #"[{"type":"game_state","game_id":"g1","tick":1,"price":1},{"type":"game_state","game_id":"g1","tick":2,"price":1},{"type":"game_state","game_id":"g1","tick":-3,"price":1}]"#
            try await client.execute(uri: "/api/ingest", method: .post, headers: Self.jsonType, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .badRequest)
                let error = try Self.json(response)
                #expect(error["index"] == .int(2))
                #expect(error["field"] == .string("tick"))
                #expect(error["error"]?.stringValue?.contains("tick") == true)
            }
            try await client.execute(uri: "/api/tick-history", method: .get) { response in
                let reply = try Self.json(response)
                #expect(reply["count"] == .int(0))
            }
        }
        #expect(f.runtime.ingestor.counters.acceptedEvents.isEmpty)
    }

    @Test func newTicksAfterARugAreA409AndAnExactReSendIsAccepted() async throws {
        let f = try Self.fixture(enabled: true)
        try await f.app.test(.router) { client in
            let game = #"[{"type":"game_state","game_id":"g1","tick":0,"price":1},{"type":"game_state","game_id":"g1","tick":1,"price":0.2,"rugged":true}]"#
            try await client.execute(uri: "/api/ingest", method: .post, headers: Self.jsonType, body: ByteBuffer(string: game)) { response in
                #expect(response.status == .accepted)
            }
            let pending = f.runtime.ingestor.pendingCount
            // A retry after a lost response: accepted, nothing new.
            try await client.execute(uri: "/api/ingest", method: .post, headers: Self.jsonType, body: ByteBuffer(string: game)) { response in
                #expect(response.status == .accepted)
            }
            #expect(f.runtime.ingestor.pendingCount == pending)
            // A second round under the same id: refused whole, the other game's event included.
            let second = #"[{"type":"game_state","game_id":"g2","tick":0,"price":1},{"type":"game_state","game_id":"g1","tick":0,"price":1.3}]"#
            try await client.execute(uri: "/api/ingest", method: .post, headers: Self.jsonType, body: ByteBuffer(string: second)) { response in
                #expect(response.status == .conflict)
                let error = try Self.json(response)
                #expect(error["field"] == .string("game_id"))
                #expect(error["index"] == .int(1))
            }
            #expect(f.runtime.ingestor.pendingCount == pending)
            #expect(f.runtime.ingestor.currentGame == nil)
            #expect(f.runtime.ingestor.counters.rejectedRequests["game_closed"] == 1)
            try await client.execute(uri: "/api/game-state", method: .post, headers: Self.jsonType,
                                     body: ByteBuffer(string: #"{"gameId":"g1","tickCount":2,"price":1.1}"#)) { response in
                #expect(response.status == .conflict)
            }
        }
    }

    @Test(arguments: [
        (#"{"type":"game_state","game_id":"g1","tick":1,"price":NaN}"#, "body"),
        (#"{"type":"game_state""#, "body"),
        (#"{"type":"warp","game_id":"g1"}"#, "type"),
        (#"{"type":"game_state","game_id":"g1","tick":"1","price":1}"#, "tick"),
        (#"{"type":"game_state","game_id":"bad id!","tick":1,"price":1}"#, "game_id"),
        (#"{"type":"prediction","game_id":"g1","predicted_at_tick":1,"predicted_end_tick":5,"confidence":1.5}"#, "confidence"),
        (#"{"type":"side_bet","game_id":"g1","placed_at_tick":1,"probability":0.5,"expected_value":1,"confidence":0.5,"recommendation":"MAYBE"}"#, "recommendation"),
        (#"42"#, "body"),
    ])
    func badInputIsA400NamingTheField(body: String, field: String) async throws {
        let f = try Self.fixture()
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/api/ingest", method: .post, headers: Self.jsonType, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .badRequest)
                let reply = try Self.json(response)
                #expect(reply["field"] == .string(field))
            }
        }
    }

    @Test func invalidUTF8IsA400() async throws {
        let f = try Self.fixture()
        try await f.app.test(.router) { client in
            var buffer = ByteBuffer(string: #"{"type":"game_state","game_id":"g"#)
            buffer.writeBytes([0xC3, 0x28])
            buffer.writeString(#"","tick":1,"price":1}"#)
            try await client.execute(uri: "/api/ingest", method: .post, headers: Self.jsonType, body: buffer) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test func anOversizeBodyIsA413() async throws {
        let f = try Self.fixture(maxBodyBytes: 2048)
        try await f.app.test(.router) { client in
            let big = "[" + Array(repeating: Self.gameState, count: 100).joined(separator: ",") + "]"
            try await client.execute(uri: "/api/ingest", method: .post, headers: Self.jsonType, body: ByteBuffer(string: big)) { response in
                #expect(response.status == .contentTooLarge)
                let reply = try Self.json(response)
                #expect(reply["field"] == .string("body"))
            }
            // The service is still up and accepting.
            try await client.execute(uri: "/api/ingest", method: .post, headers: Self.jsonType, body: ByteBuffer(string: Self.gameState)) { response in
                #expect(response.status == .accepted)
            }
        }
    }

    @Test func rawRugsGameStateUpdatesAreAccepted() async throws {
        let f = try Self.fixture()
        try await f.app.test(.router) { client in
            let body = #"[{"gameId":"20260101-abc","tickCount":7,"price":1.23,"active":true,"rugged":false,"leaderboard":[1,2]},{"gameId":"20260101-abc","tickCount":8,"price":1.3,"active":true,"rugged":false}]"#
            try await client.execute(uri: "/api/game-state", method: .post, headers: Self.jsonType, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .accepted)
                let reply = try Self.json(response)
                #expect(reply["accepted"] == .int(2))
            }
            try await client.execute(uri: "/api/game-state", method: .post, headers: Self.jsonType, body: ByteBuffer(string: #"{"gameId":"x","price":1}"#)) { response in
                #expect(response.status == .badRequest)
                let reply = try Self.json(response)
                #expect(reply["field"] == .string("tickCount"))
            }
            try await client.execute(uri: "/api/tick-history", method: .get) { response in
                let body = try Self.json(response)
                #expect(body["count"] == .int(2))
            }
        }
    }

    @Test func historyLimitsAreValidated() async throws {
        let f = try Self.fixture()
        try await f.app.test(.router) { client in
            for uri in ["/api/tick-history?limit=0", "/api/prediction-history?limit=abc", "/api/side-bet-history?limit=-1"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .badRequest)
                    let reply = try Self.json(response)
                    #expect(reply["field"] == .string("limit"))
                }
            }
        }
    }

    @Test func finishedGamesAppearInThePredictionHistory() async throws {
        let f = try Self.fixture()
        try await f.app.test(.router) { client in
            let feed = #"[{"type":"prediction","game_id":"g9","predicted_at_tick":0,"predicted_end_tick":10,"confidence":0.5},{"type":"game_state","game_id":"g9","tick":0,"price":1},{"type":"game_state","game_id":"g9","tick":30,"price":2,"rugged":true}]"#
            try await client.execute(uri: "/api/ingest", method: .post, headers: Self.jsonType, body: ByteBuffer(string: feed)) { response in
                #expect(response.status == .accepted)
            }
            try await client.execute(uri: "/api/prediction-history", method: .get) { response in
                let body = try Self.json(response)
                #expect(body["count"] == .int(1))
                guard case .array(let games) = body["games"], case .object(let summary) = games.first else {
                    Issue.record("no games"); return
                }
                #expect(summary["predictions"] == .int(1))
                #expect(summary["mean_e40"] == .double(-0.5))
            }
        }
    }

    @Test func persistenceStatusHasTheDocumentedShape() async throws {
        let off = try Self.fixture(enabled: false)
        try await off.app.test(.router) { client in
            try await client.execute(uri: "/api/persistence/status", method: .get) { response in
                let body = try Self.json(response)
                #expect(body["enabled"] == .bool(false))
                #expect(body["message"] == .string("Persistence is disabled"))
            }
        }
        let on = try Self.fixture(enabled: true)
        try await on.app.test(.router) { client in
            try await client.execute(uri: "/api/ingest", method: .post, headers: Self.jsonType, body: ByteBuffer(string: Self.gameState)) { _ in }
            try await client.execute(uri: "/api/persistence/status", method: .get) { response in
                let body = try Self.json(response)
                #expect(body["enabled"] == .bool(true))
                #expect(body["backend"] == .string("sqlite"))
                #expect(body["flag_source"] == .string("default"))
                let repository = try #require(body["repository"]?.objectValue)
                for key in ["enabled", "last_save", "records_saved", "records_pending", "records_dropped", "errors", "last_error"] {
                    #expect(repository[key] != nil, "repository.\(key)")
                }
                #expect(repository["records_pending"] == .int(2))  // the game and its tick sample
                let manager = try #require(body["manager"]?.objectValue)
                for key in ["enabled", "running", "persist_interval", "batch_size", "retention_days"] {
                    #expect(manager[key] != nil, "manager.\(key)")
                }
            }
        }
    }

    /// The flush loop idles while the flag is off: `manager.running` is true only with the loop alive and the flag on.
    @Test func managerRunningIsTheTasksRealState() async throws {
        let f = try Self.fixture(enabled: false)
        let tasks = PersistenceTasks(flag: f.runtime.flag, statistics: f.runtime.statistics, logger: Logger(label: "test"))
        tasks.loopStarted()
        @Sendable func running(_ client: some TestClientProtocol) async throws -> JSONValue? {
            try await client.execute(uri: "/api/persistence/status", method: .get) { response in
                try Self.json(response)["manager"]?.objectValue?["running"]
            }
        }
        try await f.app.test(.router) { client in
            var seen: [JSONValue?] = [try await running(client)]
            f.runtime.flag.set(true, source: .api)
            seen.append(try await running(client))
            f.runtime.flag.set(false, source: .api)
            seen.append(try await running(client))
            f.runtime.flag.set(true, source: .api)
            tasks.loopStopped()
            seen.append(try await running(client))
            #expect(seen == [.bool(false), .bool(true), .bool(false), .bool(false)])
        }
    }

    @Test func theAdminSwitchNeedsTheToken() async throws {
        let disabled = try Self.fixture()
        try await disabled.app.test(.router) { client in
            try await client.execute(uri: "/api/persistence/enable", method: .post) { response in
                #expect(response.status == .forbidden)
            }
        }
        let f = try Self.fixture(adminToken: "s3cret-token")
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/api/persistence/enable", method: .post, headers: [.authorization: "Bearer wrong"]) { response in
                #expect(response.status == .forbidden)
                #expect(!String(buffer: response.body).contains("s3cret"))
            }
            #expect(!f.runtime.flag.isEnabled)
            try await client.execute(uri: "/api/persistence/enable", method: .post, headers: [.authorization: "Bearer s3cret-token"]) { response in
                #expect(response.status == .ok)
            }
            #expect(f.runtime.flag.isEnabled)
            #expect(f.runtime.flag.snapshot.source == .api)
            try await client.execute(uri: "/api/persistence/disable", method: .post, headers: [.authorization: "Bearer s3cret-token"]) { response in
                #expect(response.status == .ok)
            }
            #expect(!f.runtime.flag.isEnabled)
        }
    }

    @Test func theIngestTokenIsEnforcedWhenSet() async throws {
        let f = try Self.fixture(ingestToken: "feed-key")
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/api/ingest", method: .post, headers: Self.jsonType, body: ByteBuffer(string: Self.gameState)) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/api/ingest", method: .post, headers: [.authorization: "Bearer feed-key", .contentType: "application/json"],
                                     body: ByteBuffer(string: Self.gameState)) { response in
                #expect(response.status == .accepted)
            }
        }
    }

    @Test func statusAndHealthAnswer() async throws {
        let f = try Self.fixture()
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/api/ingest", method: .post, headers: Self.jsonType, body: ByteBuffer(string: "{")) { _ in }
            try await client.execute(uri: "/api/status", method: .get) { response in
                #expect(response.status == .ok)
                let body = try Self.json(response)
                #expect(body["version"] == .string("test"))
                let buffers = try #require(body["buffers"]?.objectValue)
                #expect(buffers["tick_samples"]?.objectValue?["capacity"] == .int(1200))
                let ingest = try #require(body["ingest"]?.objectValue)
                #expect(ingest["rejected_requests"]?.objectValue?["malformed_json"] == .int(1))
            }
            for uri in ["/health/live", "/health/ready", "/api/health"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .ok, "\(uri)")
                }
            }
        }
    }

    @Test func corsIsOffUnlessOriginsAreListed() async throws {
        let off = try Self.fixture()
        try await off.app.test(.router) { client in
            try await client.execute(uri: "/api/status", method: .get, headers: [.origin: "https://dash.example"]) { response in
                #expect(response.headers[.accessControlAllowOrigin] == nil)
            }
        }
        let on = try Self.fixture(corsOrigins: ["https://dash.example"])
        try await on.app.test(.router) { client in
            try await client.execute(uri: "/api/status", method: .get, headers: [.origin: "https://dash.example"]) { response in
                #expect(response.headers[.accessControlAllowOrigin] == "https://dash.example")
            }
            try await client.execute(uri: "/api/status", method: .get, headers: [.origin: "https://evil.example"]) { response in
                #expect(response.headers[.accessControlAllowOrigin] == nil)
            }
            try await client.execute(uri: "/api/ingest", method: .options,
                                     headers: [.origin: "https://dash.example", .accessControlRequestMethod: "POST"]) { response in
                #expect(response.status == .noContent)
                #expect(response.headers[.accessControlAllowMethods]?.contains("POST") == true)
            }
        }
    }

    @Test func theRateLimitBucketRefillsAtItsRate() {
        let buckets = RateLimiter<TEDRequestContext>.Buckets(burst: 2, refillPerSecond: 2)
        let start = ContinuousClock.now
        #expect(buckets.take("a", now: start))
        #expect(buckets.take("a", now: start))
        #expect(!buckets.take("a", now: start))
        #expect(buckets.take("b", now: start))  // per client
        #expect(!buckets.take("a", now: start + .milliseconds(400)))
        #expect(buckets.take("a", now: start + .milliseconds(600)))
    }

    @Test func theRateLimitAnswers429ButNeverToProbes() async throws {
        let f = try Self.fixture()
        // No refill, so the outcome does not depend on how fast the machine runs the requests.
        let router = TEDApplication.router(runtime: f.runtime, registry: nil, version: "test",
                                           rateLimit: .init(burst: 3, refillPerSecond: 0))
        try await Application(router: router).test(.router) { client in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<5 {
                try await client.execute(uri: "/api/status", method: .get) { response in statuses.append(response.status) }
            }
            #expect(statuses == [.ok, .ok, .ok, .tooManyRequests, .tooManyRequests])
            try await client.execute(uri: "/health/live", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/api/status", method: .get) { response in
                #expect(response.headers[.retryAfter] == "1")
                let reply = try Self.json(response)
                #expect(reply["error"] != nil)
            }
        }
    }

    @Test func readinessTurns503WhenTheStoreIsDownAndNothingMoreCanBeHeld() async throws {
        var settings = Settings()
        settings.maxPending = 10
        settings.backend = .mongodb
        let store = try MongoStore(url: "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200", database: "down", logger: Logger(label: "test"))
        let flag = PersistenceFlag(enabled: true, source: .default, backendName: "MongoDB", logger: Logger(label: "test"))
        let ingestor = Ingestor(settings: settings, flag: flag)
        let runtime = PersistenceRuntime(settings: settings, flag: flag, ingestor: ingestor, store: store, statistics: FlushStatistics())
        let app = Application(router: TEDApplication.router(runtime: runtime, registry: nil, version: "test"))
        try await app.test(.router) { client in
            try await client.execute(uri: "/health/ready", method: .get) { response in
                #expect(response.status == .ok)  // degraded: the store is down but records can still be held
                let reply = try Self.json(response)
                #expect(reply["checks"]?.objectValue?["persistence"] == .string("degraded"))
            }
            let feed = (0..<12).map { #"{"type":"game_state","game_id":"g","tick":\#($0),"price":1}"# }.joined(separator: "\n")
            try await client.execute(uri: "/api/ingest", method: .post, headers: [.contentType: "application/x-ndjson"],
                                     body: ByteBuffer(string: feed)) { response in
                #expect(response.status == .accepted)
            }
            try await client.execute(uri: "/health/ready", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let reply = try Self.json(response)
                #expect(reply["failing"] == .string("persistence"))
            }
            try await client.execute(uri: "/health/live", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
        await store.close()
    }

    /// The store answers, yet records have waited in memory for far more than three flush intervals (a write path
    /// that does not move, whatever the reason): readiness is 503 and names the collection.
    @Test func readinessTurns503WhenTheWritePathIsStuck() async throws {
        let fixture = try Self.fixture(enabled: true)
        let fresh = try Self.fixture(enabled: true)
        try await fresh.app.test(.router) { client in
            fresh.runtime.ingestor.ingest([.gameState(GameStateUpdate(gameID: "g", tick: 0, price: 1, timestamp: Date()))])
            try await client.execute(uri: "/health/ready", method: .get) { response in
                #expect(response.status == .ok)  // just queued: nothing waits too long yet
            }
        }
        // Queued ten minutes ago and never written (the default interval is 30 s).
        let stale = Date().addingTimeInterval(-600)
        fixture.runtime.ingestor.ingest([.gameState(GameStateUpdate(gameID: "h", tick: 0, price: 1, timestamp: stale))], now: stale)
        try await fixture.app.test(.router) { client in
            try await client.execute(uri: "/health/ready", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let reply = try Self.json(response)
                #expect(reply["checks"]?.objectValue?["persistence"] == .string("stuck"))
                guard case .array(let stuck)? = reply["stuck"] else { Issue.record("no stuck list"); return }
                #expect(Set(stuck.compactMap { $0.objectValue?["collection"]?.stringValue }) == ["games", "tick_samples"])
            }
            try await client.execute(uri: "/api/persistence/status", method: .get) { response in
                let reply = try Self.json(response)
                guard case .array(let stuck)? = reply["stuck"] else { Issue.record("no stuck list"); return }
                #expect(stuck.count == 2)
            }
        }
    }
}
