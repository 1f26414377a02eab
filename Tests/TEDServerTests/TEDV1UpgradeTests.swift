import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TEDCore
import TEDPersistence
@testable import TEDServer
@testable import TEDStore

/// Upgrading over a database TED-V1 wrote, on the real SecantusDB: TED-V1's documents (ObjectId `_id`s) and unique
/// indexes are made by pymongo, as TED-V1 made them, since this service's BSON codec never writes ObjectIds.
@Suite struct TEDV1UpgradeTests {
    static let cutOver = Timestamp.parseISO8601("2026-03-10T10:00:00Z")!

    /// Two games, `v1-old` (ended) and `v1-live` (running at cut-over, ticks 0…40), a prediction for each, and the
    /// unique indexes of TED-V1.
    static let tedV1Database = """
        import datetime, sys
        from pymongo import MongoClient
        db = MongoClient(sys.argv[1])[sys.argv[2]]
        at = datetime.datetime(2026, 3, 10, 9, 0, tzinfo=datetime.timezone.utc)
        db.games.create_index([("game_id", 1)], unique=True)
        db.tick_samples.create_index([("game_id", 1), ("tick", 1)], unique=True)
        db.predictions.create_index([("game_id", 1), ("predicted_at_tick", 1)])
        def game(gid, end, peak, ended):
            return {"game_id": gid, "start_tick": 0, "end_tick": end, "peak_price": peak, "peak_tick": end // 2,
                    "final_price": 0.0 if ended else 1.2, "ended": ended, "rugged": ended, "created_at": at, "updated_at": at}
        db.games.insert_many([game("v1-old", 120, 3.5, True), game("v1-live", 40, 1.8, False)])
        db.tick_samples.insert_many([{"game_id": "v1-live", "tick": t, "price": 1.0 + t / 100, "timestamp": at, "created_at": at}
                                     for t in range(41)])
        db.predictions.insert_many([{"game_id": gid, "predicted_at_tick": 10, "predicted_end_tick": 61,
                                     "confidence": 0.6, "model_version": "v1", "timestamp": at, "created_at": at}
                                    for gid in ("v1-old", "v1-live")])
        """

    @Test func aTEDV1DatabaseIsAdoptedAndTheRunningGameGoesOnAsOneGame() async throws {
        let database = "ted_v1_\(UInt32.random(in: 0...UInt32.max))"
        let url = try #require(ProcessInfo.processInfo.environment["TED_TEST_MONGO_URL"], "run with ./scripts/test")
        try await Self.python(Self.tedV1Database, arguments: [url, database])
        let store = try MongoStore(url: url, database: database, logger: Logger(label: "test"))
        let runner = MigrationRunner(store: store, migrations: try MigrationFiles.embedded.load())

        // The dry run recognises TED-V1, says what it would change, exits 3 and writes nothing.
        let before = try await Self.schema(of: store)
        let check = try await runner.checkOnly()
        #expect(check.hasPendingWork)
        #expect(check.tedV1.uniqueIndexes.map { "\($0.collection).\($0.spec.name)" } == ["games.game_id_1", "tick_samples.game_id_1_tick_1"])
        #expect(check.tedV1.gamesToRekey == 2)
        #expect(check.tedV1.keptDocuments.map(\.count) == [41, 2])
        #expect(try await Self.schema(of: store) == before)

        let run = try await runner.up()
        #expect(run.adoptedTEDV1)
        #expect(try await runner.checkOnly().hasPendingWork == false)
        #expect(try await runner.up().changedAnything == false)

        // The running game's next records, through the flush's writer: stored, none refused (a refusal would go to
        // the dead-letter). Tick 40, which TED-V1 stored too, is then held twice, under each id. The game ends, so
        // its outcomes are resolved, TED-V1's prediction among them.
        let live = GameRecord(gameID: "v1-live", startTick: 41, endTick: 60, peakPrice: 2.5, peakTick: 55, finalPrice: 0,
                              ended: true, rugged: true, hadPredictions: false, predictionCount: 0, predictionAccuracy: nil,
                              sideBetsPlaced: 0, createdAt: Self.cutOver, updatedAt: Self.cutOver)
        let writer = BatchWriter(store: store, rules: OutcomeRules())
        let ticks = (40...45).map { StoreRecord.tickSample(TickSample(gameID: "v1-live", tick: $0, price: 2, features: nil,
                                                                     timestamp: Self.cutOver, createdAt: Self.cutOver)) }
        let gameWrite = await writer.write([.game(live)], to: .games)
        #expect(gameWrite.fates == [.stored])
        #expect(gameWrite.resolutionError == nil)
        #expect(await writer.write(ticks, to: .tickSamples).fates == Array(repeating: .stored, count: 6))

        // One game: TED-V1's start and this service's end.
        let games = try await store.documents.find(.games, where: .equals("game_id", .string("v1-live")), sort: nil, limit: nil)
        #expect(games.count == 1)
        #expect(games.first?["_id"] == .string("v1-live"))
        #expect(games.first?["start_tick"]?.intValue == 0)
        #expect(games.first?["end_tick"]?.intValue == 60)
        #expect(games.first?["prediction_count"]?.intValue == 1)
        let resolved = try await store.documents.find(.predictions, where: .equals("game_id", .string("v1-live")), sort: nil, limit: nil)
        #expect(resolved.map { $0["actual_end_tick"]?.intValue } == [60])
        #expect(try await store.documentCount(of: .tickSamples, matching: DocumentSelection(gameID: "v1-live")) == 47)

        // The game endpoint finds an old game by its id, its ObjectIds rendered as strings.
        try await Self.app(store).test(.router) { client in
            try await client.execute(uri: "/api/persistence/game/v1-old", method: .get) { response in
                #expect(response.status == .ok)
                guard case .object(let body) = try JSONParser.parse(Array(buffer: response.body)),
                      case .object(let game)? = body["game"], case .array(let predictions)? = body["predictions"] else {
                    Issue.record("unexpected body")
                    return
                }
                #expect(game["_id"] == .string("v1-old"))
                #expect(game["legacy_id"]?.stringValue?.count == 24)
                #expect(predictions.first?.objectValue?["_id"]?.stringValue?.count == 24)
            }
        }
        await store.close()
    }

    /// A run that died between copy and delete left `crashed` twice (its copy carries `legacy_id`; this TED-V1
    /// document lacks fields a game of this service has, so only that mark tells the copy is ours); `both` was
    /// written by this service too, started before the adoption (TED-V1's unique index already gone).
    static let interruptedAdoption = """
        import datetime, sys
        from bson import ObjectId
        from pymongo import MongoClient
        db = MongoClient(sys.argv[1])[sys.argv[2]]
        at = datetime.datetime(2026, 3, 10, 9, 0, tzinfo=datetime.timezone.utc)
        crashed = ObjectId()
        db.games.insert_many([
            {"_id": crashed, "game_id": "crashed", "start_tick": 0, "end_tick": 90, "created_at": at},
            {"_id": "crashed", "game_id": "crashed", "start_tick": 0, "end_tick": 90, "created_at": at, "legacy_id": str(crashed)},
            {"game_id": "both", "start_tick": 0, "end_tick": 40, "peak_price": 1.8, "peak_tick": 20, "final_price": 1.2,
             "ended": False, "rugged": False, "created_at": at, "updated_at": at},
        ])
        """

    @Test func aRunStoppedHalfWayAndAGameWrittenTwiceEachEndAsOneGame() async throws {
        let database = "ted_v1_\(UInt32.random(in: 0...UInt32.max))"
        let url = try #require(ProcessInfo.processInfo.environment["TED_TEST_MONGO_URL"], "run with ./scripts/test")
        try await Self.python(Self.interruptedAdoption, arguments: [url, database])
        let store = try MongoStore(url: url, database: database, logger: Logger(label: "test"))
        let both = GameRecord(gameID: "both", startTick: 41, endTick: 60, peakPrice: 2.5, peakTick: 55, finalPrice: 2.0,
                              ended: false, rugged: false, hadPredictions: false, predictionCount: 0, predictionAccuracy: nil,
                              sideBetsPlaced: 0, createdAt: Self.cutOver, updatedAt: Self.cutOver)
        #expect(try await store.write([.game(both)], to: .games) == [.stored])
        let runner = MigrationRunner(store: store, migrations: try MigrationFiles.embedded.load())
        #expect(try await runner.checkOnly().tedV1.gamesToRekey == 2)

        #expect(try await runner.up().adoptedTEDV1)
        let games = try await store.documents.find(.games, where: .all, sort: DocumentSort("_id"), limit: nil)
        #expect(games.compactMap { $0["_id"]?.stringValue } == ["both", "crashed"])
        #expect(games.first?["start_tick"]?.intValue == 0)
        #expect(games.first?["end_tick"]?.intValue == 60)
        #expect(games.last?["legacy_id"]?.stringValue?.count == 24)
        #expect(try await runner.checkOnly().hasPendingWork == false)
        await store.close()
    }

    /// TED-V1 never wrote SQLite: its signature is not looked for there, even a unique index on `game_id`.
    @Test func anSQLiteDatabaseIsNeverTEDV1() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ted-v1-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory.appendingPathComponent("ted.sqlite").path, logger: Logger(label: "test"))
        let runner = MigrationRunner(store: store, migrations: try MigrationFiles.embedded.load())
        try await runner.up()
        try await store.schema.createIndex(IndexSpec(name: "game_id_1", keys: [("game_id", 1)], unique: true), on: .games)
        #expect(try await runner.tedV1Findings().isEmpty)
        #expect(try await runner.up().changedAnything == false)
        await store.close()
    }

    /// The dry run's schema: collection names and each one's indexes.
    static func schema(of store: MongoStore) async throws -> [String: [String]] {
        var schema: [String: [String]] = [:]
        for name in try await store.schema.collectionNames() {
            schema[name] = try await store.schema.indexes(of: CollectionName(name)).map(\.summary)
        }
        return schema
    }

    static func app(_ store: MongoStore) -> Application<RouterResponder<BasicRequestContext>> {
        let settings = Settings()
        let flag = PersistenceFlag(enabled: true, source: .default, backendName: "MongoDB", logger: Logger(label: "test"))
        let runtime = PersistenceRuntime(settings: settings, flag: flag, ingestor: Ingestor(settings: settings, flag: flag),
                                         store: store, statistics: FlushStatistics())
        let router = Router(context: BasicRequestContext.self)
        ReportRoutes(runtime: runtime, jobs: JobsStatus(instanceID: "test"), now: { cutOver }).register(on: router)
        return Application(router: router)
    }

    /// Runs `script` with the SecantusDB venv's python (next to TED_SECANTUS_BIN, which has pymongo).
    static func python(_ script: String, arguments: [String]) async throws {
        let server = try #require(ProcessInfo.processInfo.environment["TED_SECANTUS_BIN"], "run with ./scripts/test")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: server).deletingLastPathComponent().appendingPathComponent("python")
        process.arguments = ["-c", script] + arguments
        // Its termination handler, not waitUntilExit, which spins a CPU on Linux.
        let status = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        #expect(status == 0)
    }
}
