import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TEDCore
import TEDPersistence
@testable import TEDServer
import TEDStore

/// `GET /api/persistence/flag-history` and `POST /api/persistence/catch-up` as clients see them (SQLite store; both
/// stores are covered by FlagHistoryTests and CatchUpTests).
@Suite struct FlagHistoryRoutesTests {
    static let token = "route-admin-token-42"
    static let admin: HTTPFields = [.authorization: "Bearer \(token)"]

    @Test func anAdminChangeIsListedWithItsTokensFingerprintNeverTheToken() async throws {
        let f = try HTTPTests.fixture(enabled: false, adminToken: Self.token)
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/api/persistence/enable", method: .post, headers: Self.admin) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/api/persistence/disable", method: .post, headers: Self.admin) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/api/persistence/flag-history?limit=5", method: .get) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(!text.contains(Self.token))
                let body = try HTTPTests.json(response)
                #expect(body.keys == ["count", "changes", "unsynced"])
                #expect(body["count"] == .int(2))
                // The fixture's history runs no sync: both changes are still local.
                #expect(body["unsynced"] == .int(2))
                guard case .array(let changes)? = body["changes"], case .object(let newest)? = changes.first else {
                    Issue.record("no changes in \(text)")
                    return
                }
                #expect(newest.keys == ["at", "from", "to", "source", "token_fingerprint", "host"])
                #expect(newest["from"] == .bool(true))
                #expect(newest["to"] == .bool(false))
                #expect(newest["source"] == .string("api"))
                #expect(newest["token_fingerprint"] == .string(FlagChange.fingerprint(ofToken: Self.token)))
                #expect(newest["host"] == .string(FlagChange.localHost))
                #expect(newest["at"]?.stringValue.flatMap(Timestamp.parseISO8601) != nil)
            }
            // Past 1000 the limit is capped, as every limit of the API is.
            try await client.execute(uri: "/api/persistence/flag-history?limit=5000", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/api/persistence/flag-history?limit=1", method: .get) { response in
                let reply = try HTTPTests.json(response)
                #expect(reply["count"] == .int(1))
            }
        }
    }

    @Test(arguments: ["0", "ten", "-1", "1.5"])
    func aBadLimitIsA400NamingIt(_ limit: String) async throws {
        let f = try HTTPTests.fixture()
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/api/persistence/flag-history?limit=\(limit)", method: .get) { response in
                #expect(response.status == .badRequest)
                let reply = try HTTPTests.json(response)
                #expect(reply["field"] == .string("limit"))
            }
        }
    }

    @Test func catchUpNeedsTheAdminTokenAndIsA409WhileOff() async throws {
        let f = try HTTPTests.fixture(enabled: false, adminToken: Self.token)
        f.runtime.ingestor.ingest([.gameState(GameStateUpdate(gameID: "g", tick: 0, price: 1, timestamp: Date()))])
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/api/persistence/catch-up", method: .post) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/api/persistence/catch-up", method: .post, headers: Self.admin) { response in
                #expect(response.status == .conflict)
                let reply = try HTTPTests.json(response)
                #expect(reply["error"]?.stringValue?.contains("off") == true)
            }
            #expect(f.runtime.ingestor.counters.ledger.total(.caughtUp) == 0)
            #expect(f.runtime.ingestor.pendingCount == 0)

            // On: the tick received while off (off since start) is queued, once.
            try await client.execute(uri: "/api/persistence/enable", method: .post, headers: Self.admin) { _ in }
            try await client.execute(uri: "/api/persistence/catch-up", method: .post, headers: Self.admin) { response in
                #expect(response.status == .ok)
                let body = try HTTPTests.json(response)
                #expect(body["caught_up"] == ["games": 0, "tick_samples": 1, "predictions": 0, "side_bets": 0])
                guard case .array(let periods)? = body["periods"], case .object(let period)? = periods.first else {
                    Issue.record("no period")
                    return
                }
                #expect(periods.count == 1)
                #expect(period["from"]?.stringValue.flatMap(Timestamp.parseISO8601) != nil)
                #expect(period["to"]?.stringValue.flatMap(Timestamp.parseISO8601) != nil)
            }
            try await client.execute(uri: "/api/persistence/catch-up", method: .post, headers: Self.admin) { response in
                let reply = try HTTPTests.json(response)
                #expect(reply["caught_up"] == ["games": 0, "tick_samples": 0, "predictions": 0, "side_bets": 0])
            }
            try await client.execute(uri: "/api/persistence/status", method: .get) { response in
                let body = try HTTPTests.json(response)
                guard case .object(let repository)? = body["repository"], case .object(let accounting)? = repository["accounting"],
                      case .object(let ticks)? = accounting["tick_samples"] else {
                    Issue.record("no accounting")
                    return
                }
                #expect(ticks["caught_up"] == .int(1))
                #expect(ticks["pending"] == .int(1))
                #expect(ticks["balanced"] == .bool(true))
            }
        }
    }
}
