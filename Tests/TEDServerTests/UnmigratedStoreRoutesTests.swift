import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TEDCore
import TEDPersistence
@testable import TEDServer
import TEDStore

/// `ted serve` on an SQLite file an older ted wrote, without `ted migrate` (MIGRATE_ON_START is off by default, and a
/// newer binary may be started on an old file): readiness is 503 and says the tables to convert, the status says
/// why, reads answer 503 naming the table and `ted migrate`; once migrated, all is well again.
@Suite struct UnmigratedStoreRoutesTests {
    static let game = GameRecord(gameID: "g", startTick: 0, endTick: 90, peakPrice: 2.5, peakTick: 40, finalPrice: 0,
                                 ended: true, rugged: true, hadPredictions: false, predictionCount: 0, predictionAccuracy: nil,
                                 sideBetsPlaced: 0, createdAt: Date(timeIntervalSince1970: 1_767_225_600),
                                 updatedAt: Date(timeIntervalSince1970: 1_767_225_660))

    static func app(_ store: any DocumentStore, enabled: Bool, backend: StoreBackend) -> Application<RouterResponder<TEDRequestContext>> {
        var settings = Settings()
        settings.backend = backend
        let flag = PersistenceFlag(enabled: enabled, source: .default, backendName: backend.rawValue, logger: Logger(label: "test"))
        let runtime = PersistenceRuntime(settings: settings, flag: flag, ingestor: Ingestor(settings: settings, flag: flag),
                                         store: store, statistics: FlushStatistics())
        return Application(router: TEDApplication.router(runtime: runtime, registry: nil, version: "test"))
    }

    static func names(_ list: JSONValue?) -> [String] {
        guard case .array(let entries)? = list else { return [] }
        return entries.compactMap { $0.objectValue?["collection"]?.stringValue }
    }

    static let recordTables = ["games", "predictions", "side_bets", "tick_samples"]

    @Test func anUnmigratedSQLiteFileIsNotReadyAndSaysWhy() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ted-unmigrated-\(UUID().uuidString)/ted.sqlite").path
        let store = try SQLiteStore(path: path, logger: Logger(label: "test"))
        let runner = MigrationRunner(store: store, migrations: try MigrationFiles.embedded.load())
        try await runner.up()
        _ = try await store.write([.game(Self.game)], to: .games)
        try await runner.migrate(to: 2)  // the SQLite-only versions undone: the tables as an older ted kept them

        try await Self.app(store, enabled: true, backend: .sqlite).test(.router) { client in
            try await client.execute(uri: "/health/ready", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let reply = try HTTPTests.json(response)
                #expect(reply["checks"]?.objectValue?["persistence"] == .string("unmigrated"))
                #expect(reply["failing"] == .string("persistence"))
                #expect(Set(Self.names(reply["unmigrated"])).isSuperset(of: Self.recordTables))
            }
            try await client.execute(uri: "/api/persistence/status", method: .get) { response in
                #expect(response.status == .ok)
                let reply = try HTTPTests.json(response)
                guard case .array(let unmigrated)? = reply["unmigrated"],
                      let games = unmigrated.first(where: { $0.objectValue?["collection"] == .string("games") })?.objectValue else {
                    Issue.record("games is not listed as unmigrated")
                    return
                }
                #expect(games["layout"] == .string("documents"))
                #expect(games["expected_layout"] == .string("columns"))
                #expect(games["message"]?.stringValue?.contains("run `ted migrate`") == true)
            }
            for uri in ["/api/persistence/game/g", "/api/persistence/games?limit=5"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .serviceUnavailable, "\(uri)")
                    let message = try HTTPTests.json(response)["error"]?.stringValue ?? ""
                    #expect(message.contains("games still has the documents layout of an older ted"), "\(uri): \(message)")
                    #expect(message.contains("run `ted migrate`"), "\(uri): \(message)")
                }
            }
        }
        // With persistence off nothing is meant to be written: ready, yet the status still says what to do.
        try await Self.app(store, enabled: false, backend: .sqlite).test(.router) { client in
            try await client.execute(uri: "/health/ready", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/api/persistence/status", method: .get) { response in
                let reply = try HTTPTests.json(response)
                #expect(Set(Self.names(reply["unmigrated"])).isSuperset(of: Self.recordTables))
            }
        }

        // `ted migrate` (here, from the same process) while the service runs: ready again, the game readable.
        #expect(try await runner.up().applied.first?.version == 3)
        #expect(try await runner.status().pending.isEmpty)
        try await Self.app(store, enabled: true, backend: .sqlite).test(.router) { client in
            try await client.execute(uri: "/health/ready", method: .get) { response in
                #expect(response.status == .ok)
                let reply = try HTTPTests.json(response)
                #expect(Self.names(reply["unmigrated"]).isEmpty)
            }
            try await client.execute(uri: "/api/persistence/game/g", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
        await store.close()
    }

    /// MongoDB has no layouts: nothing is ever unmigrated there.
    @Test func mongoDBIsNeverUnmigrated() async throws {
        let url = try #require(ProcessInfo.processInfo.environment["TED_TEST_MONGO_URL"], "run with ./scripts/test")
        let store = try MongoStore(url: url, database: "ted_unmigrated_\(UInt32.random(in: 0...UInt32.max))", logger: Logger(label: "test"))
        try await MigrationRunner(store: store, migrations: try MigrationFiles.embedded.load()).up()
        try await Self.app(store, enabled: true, backend: .mongodb).test(.router) { client in
            try await client.execute(uri: "/health/ready", method: .get) { response in
                #expect(response.status == .ok)
                let reply = try HTTPTests.json(response)
                // Not "ok": readiness waits 250 ms for the store's ping, and the test server, shared by the whole
                // suite running in parallel, sometimes answers later ("degraded", still 200). What this test is
                // about is that MongoDB is never called unmigrated.
                #expect(reply["checks"]?.objectValue?["persistence"] != .string("unmigrated"))
                #expect(reply["unmigrated"] == .array([]))
            }
            try await client.execute(uri: "/api/persistence/status", method: .get) { response in
                let reply = try HTTPTests.json(response)
                #expect(reply["unmigrated"] == .array([]))
            }
        }
        await store.close()
    }
}
