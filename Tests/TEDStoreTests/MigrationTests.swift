import Foundation
import Logging
import Synchronization
import TEDCore
import Testing
@testable import TEDStore

/// The migrations of `migrations/` against both stores, plus the loader's errors and SHA-256.
@Suite struct MigrationTests {
    // MARK: SHA-256

    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
        // Padding boundaries: the length fits in the last block (55), or needs one more (56, 64).
        (String(repeating: "a", count: 55), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
        (String(repeating: "a", count: 56), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
        (String(repeating: "a", count: 64), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
    ])
    func sha256KnownVectors(input: String, expected: String) {
        #expect(SHA256.hex(Array(input.utf8)) == expected)
    }

    @Test func sha256OfAMillionAs() {
        #expect(SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    // MARK: Files

    @Test func theInitialMigrationDeclaresOnlyTheIndexesQueriesNeed() throws {
        let migrations = try MigrationLoader.load(directory: Fixture.migrationsDirectory)
        let initial = try #require(migrations.first)
        #expect(initial.label == "0001_initial")
        #expect(initial.checksum == SHA256.hex(Array(try Data(contentsOf: URL(fileURLWithPath: Fixture.migrationsDirectory + "/0001_initial.json")))))
        #expect(initial.up.createCollections.map(\.name) == [.games, .predictions, .sideBets, .tickSamples, .metricsHourly])
        let indexes = initial.up.createIndexes.map { "\($0.collection).\($0.spec.keys.map(\.field).joined(separator: ","))" }
        #expect(Set(indexes) == [
            "games.created_at", "predictions.created_at", "predictions.game_id", "side_bets.created_at",
            "side_bets.game_id", "tick_samples.created_at", "metrics_hourly.created_at",
        ])
        #expect(initial.up.createIndexes.allSatisfy { !$0.spec.unique && $0.spec.expireAfterSeconds == nil && !$0.why.isEmpty })
        #expect(Set(initial.down.dropCollections) == Set(CollectionName.data))
    }

    @Test func theFlagHistoryHasACollectionOfItsOwnReadNewestFirst() throws {
        let migrations = try MigrationLoader.load(directory: Fixture.migrationsDirectory)
        let flagHistory = try #require(migrations.first { $0.version == 2 })
        #expect(flagHistory.label == "0002_flag_history")
        #expect(flagHistory.up.createCollections.map(\.name) == [CollectionName("flag_history")])
        #expect(flagHistory.up.createIndexes.map { "\($0.collection).\($0.spec.summary)" } == ["flag_history.created_at_1 {created_at: 1}"])
        #expect(flagHistory.down.dropCollections == [CollectionName("flag_history")])
    }

    @Test func aValidatorIsHandedToTheStoreAsADocument() throws {
        let directory = try Fixture.directory(files: ["0001_logs.json": """
            {"up": {"create_collections": [{"name": "logs", "validator": {"$jsonSchema": {"required": ["at"]}}}]},
             "down": {"drop_collections": ["logs"]}}
            """])
        let migration = try #require(try MigrationLoader.load(directory: directory).first)
        let validator: Document = ["$jsonSchema": .document(["required": .array(["at"])])]
        #expect(migration.up.createCollections == [CollectionSpec(name: CollectionName("logs"), validator: validator)])
    }

    static let badDirectories: [(files: [String: String], message: String)] = [
        (["0001_a.json": "{\"up\": {\"create_collections\": [}"], "0001_a.json: malformed JSON"),
        (["0001_a.json": #"{"up": {}, "down": {}, "version": 1}"#], "0001_a.json: version unknown field"),
        (["0001_a.json": #"{"up": {"create_collections": [{"name": "x", "capped": true}]}, "down": {}}"#],
         "0001_a.json: up.create_collections[0].capped unknown field"),
        (["0001_a.json": #"{"up": {}}"#], "0001_a.json: down is required"),
        (["0001_a.json": #"{"up": {"create_collections": [{"name": "x"}], "create_indexes": [{"collection": "x", "name": "a_1", "keys": [{"field": "a", "order": 1}]}]}, "down": {}}"#],
         "0001_a.json: up.create_indexes[0].why is required"),
        (["0001_a.json": #"{"up": {"create_collections": [{"name": "x"}], "create_indexes": [{"collection": "x", "name": "a_1", "keys": [{"field": "a", "order": 2}], "why": "w"}]}, "down": {}}"#],
         "up.create_indexes[0].keys[0].order must be 1 (ascending) or -1 (descending)"),
        (["0001_a.json": #"{"up": {"create_indexes": [{"collection": "gmaes", "name": "a_1", "keys": [{"field": "a", "order": 1}], "why": "w"}]}, "down": {}}"#],
         "index a_1 is on gmaes, which no migration up to this one creates"),
        (["0001_a.json": #"{"up": {"drop_collections": ["schema_migrations"]}, "down": {}}"#], "is managed by the migration runner"),
        (["0001_a.json": #"{"up": {}, "down": {}}"#, "0001_b.json": #"{"up": {}, "down": {}}"#],
         "version 0001 is used twice: 0001_a.json and 0001_b.json"),
        (["0001_a.json": #"{"up": {}, "down": {}}"#, "0003_c.json": #"{"up": {}, "down": {}}"#],
         "version 0002 is missing (after 0001_a.json): 0003_c.json comes next"),
        (["1_a.json": #"{"up": {}, "down": {}}"#], "1_a.json: the file name must be a 4-digit version"),
        (["README.md": "not a migration"], "holds no migration files"),
        (["0001_a.json": #"{"up": {"create_collections": [{"name": "x"}], "layouts": [{"collection": "x", "layout": "columns"}]}, "down": {}}"#],
         "0001_a.json: up.layouts belongs in a backend's folder"),
        (["0001_a.json": #"{"up": {"create_collections": [{"name": "x"}]}, "down": {}}"#,
          "sqlite/0002_b.json": #"{"up": {"layouts": [{"collection": "x", "layout": "rows"}]}, "down": {}}"#],
         "sqlite/0002_b.json: up.layouts[0].layout \"rows\" is not a layout"),
        (["0001_a.json": #"{"up": {}, "down": {}}"#,
          "sqlite/0002_b.json": #"{"up": {"layouts": [{"collection": "gmaes", "layout": "columns"}]}, "down": {}}"#],
         "sqlite/0002_b.json: up.layouts: gmaes is not created by any migration"),
        (["0001_a.json": #"{"up": {}, "down": {}}"#, "sqlite/0001_b.json": #"{"up": {}, "down": {}}"#],
         "version 0001 is used twice"),
    ]

    @Test(arguments: badDirectories)
    func badFilesAreRefusedNamingTheFile(files: [String: String], message: String) throws {
        let directory = try Fixture.directory(files: files)
        let error = #expect(throws: MigrationError.self) { try MigrationLoader.load(directory: directory) }
        #expect(error?.description.contains(message) == true, "\(error?.description ?? "no error")")
    }

    // MARK: Against the stores

    @Test(arguments: Backend.allCases)
    func checkOnlyOnAFreshDatabaseReportsAllPendingAndWritesNothing(_ backend: Backend) async throws {
        let fixture = try Fixture(backend)
        let store = try fixture.open()
        let runner = try fixture.runner(store)

        let report = try await runner.checkOnly()
        #expect(report.pending.map(\.label) == fixture.labels)
        #expect(report.status.applied.isEmpty)
        #expect(report.collections.map(\.name) == [.games, .predictions, .sideBets, .tickSamples, .metricsHourly, CollectionName("flag_history")])
        #expect(report.collections.allSatisfy { !$0.exists && $0.documentCount == nil && !$0.missingIndexes.isEmpty })
        #expect(report.databaseSizeBytes >= 0)
        #expect(try await runner.status().pending.count == fixture.labels.count)
        #expect(try await store.schema.collectionNames().isEmpty)
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func migrateCreatesEverythingAndASecondRunChangesNothing(_ backend: Backend) async throws {
        let fixture = try Fixture(backend)
        let store = try fixture.open()
        let events = EventLog()
        let runner = try fixture.runner(store, events: events)

        let run = try await runner.up()
        #expect(run.applied.map(\.label) == fixture.labels)
        let names = Set(try await store.schema.collectionNames())
        #expect(names.isSuperset(of: CollectionName.data.map(\.rawValue) + ["schema_migrations"]))
        let migration = try #require(runner.migrations.first)
        for declared in migration.up.createIndexes {
            #expect(try await store.schema.indexes(of: declared.collection).contains(declared.spec), "\(declared.spec.summary)")
        }
        let lines = events.lines
        #expect(lines.contains("✓ Created collection: games"))
        #expect(lines.contains { $0.hasPrefix("✓ Created indexes for games collection") })
        #expect(lines.last == "✓ Database verification complete")

        let rows = try await store.documents.find(.schemaMigrations, where: .all, sort: DocumentSort("_id"), limit: nil)
        #expect(rows.count == fixture.labels.count)
        let row = try #require(rows.first)
        #expect(row["_id"] == "0001")
        #expect(row["version"]?.intValue == 1)
        #expect(row["name"] == "initial")
        #expect(row["checksum"]?.stringValue == migration.checksum)
        #expect(row["applied_at"]?.dateValue != nil)
        #expect(row["duration_ms"]?.intValue != nil)

        let report = try await runner.checkOnly()
        #expect(report.pending.isEmpty)
        #expect(report.collections.allSatisfy { $0.matches && $0.documentCount == 0 && $0.unexpectedIndexes.isEmpty })

        events.clear()
        let again = try await runner.up()
        #expect(again == MigrationRunner.Run())
        #expect(events.lines == ["✓ Database is up to date (version \(fixture.versions.last.map(Migration.id(of:)) ?? ""))",
                                 "✓ Database verification complete"])
        #expect(try await store.documentCount(of: .schemaMigrations, matching: .all) == fixture.labels.count)
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func downThenUpRoundTrips(_ backend: Backend) async throws {
        let fixture = try Fixture(backend)
        let store = try fixture.open()
        let runner = try fixture.runner(store)
        try await runner.up()

        let down = try await runner.down(steps: fixture.labels.count)
        #expect(down.reverted.map(\.label) == fixture.labels.reversed())
        #expect(Set(try await store.schema.collectionNames()).isDisjoint(with: CollectionName.data.map(\.rawValue)))
        #expect(try await runner.status().applied.isEmpty)
        #expect(try await runner.status().pending.count == fixture.labels.count)

        #expect(try await runner.up().applied.count == fixture.labels.count)
        #expect(try await runner.checkOnly().collections.allSatisfy(\.matches))
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func upToDownStepsAndMigrateToWalkTheVersions(_ backend: Backend) async throws {
        let fixture = try Fixture(backend)
        // The version after every built-in one, whichever backend's folder it is in.
        let next = 3 + SQLiteLayoutMigrationTests.layoutLabels.count
        let directory = try Fixture.copyOfMigrations(adding: [Migration.id(of: next) + "_game_tick.json": """
            {"up": {"create_indexes": [{"collection": "tick_samples", "name": "game_id_1_tick_1",
                    "keys": [{"field": "game_id", "order": 1}, {"field": "tick", "order": 1}], "why": "replay reads a game's ticks in order"}]},
             "down": {"drop_indexes": [{"collection": "tick_samples", "name": "game_id_1_tick_1"}]}}
            """])
        let store = try fixture.open()
        let runner = try MigrationRunner(store: store, directory: directory)

        // Versions count across the backends' folders: SQLite's own 0003 and up are no versions of MongoDB's.
        let versions = fixture.versions + [next]
        #expect(try await runner.up(to: 1).applied.map(\.version) == [1])
        #expect(try await runner.status().pending.count == versions.count - 1)
        #expect(try await runner.applyPending().applied.map(\.version) == Array(versions.dropFirst()))
        #expect(try await store.schema.indexes(of: .tickSamples).contains { $0.name == "game_id_1_tick_1" })

        #expect(try await runner.down(steps: 1).reverted.map(\.version) == [next])
        #expect(try await store.schema.indexes(of: .tickSamples).contains { $0.name == "game_id_1_tick_1" } == false)
        #expect(try await runner.migrate(to: next).applied.map(\.version) == [next])
        #expect(try await runner.migrate(to: 0).reverted.map(\.version) == versions.reversed())
        #expect(try await runner.status().applied.isEmpty)

        await #expect(throws: MigrationError.unknownVersion(next + 1, latest: next)) { try await runner.up(to: next + 1) }
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func aModifiedAppliedFileIsRefused(_ backend: Backend) async throws {
        let fixture = try Fixture(backend)
        let directory = try Fixture.copyOfMigrations()
        let store = try fixture.open()
        try await MigrationRunner(store: store, directory: directory).up()

        let file = URL(fileURLWithPath: directory).appendingPathComponent("0001_initial.json")
        let original = try String(contentsOf: file, encoding: .utf8)
        try original.replacingOccurrences(of: "oldest first", with: "oldest first!").write(to: file, atomically: true, encoding: .utf8)
        let tampered = try MigrationRunner(store: store, directory: directory)

        let status = try await tampered.status()
        #expect(status.checksumMismatches.map(\.fileName) == ["0001_initial.json"])
        let error = await #expect(throws: MigrationError.self) { try await tampered.up() }
        #expect(error?.description.contains("0001_initial.json: applied with checksum") == true)
        await #expect(throws: MigrationError.self) { try await tampered.down() }
        #expect(try await store.documentCount(of: .schemaMigrations, matching: .all) == fixture.labels.count)
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func twoConcurrentRunnersApplyEachVersionOnce(_ backend: Backend) async throws {
        let fixture = try Fixture(backend)
        let first = try fixture.open()
        let second = try fixture.open()
        var options = MigrationRunner.Options()
        options.lockPollInterval = .milliseconds(50)

        let (runnerA, runnerB) = (try fixture.runner(first, options: options), try fixture.runner(second, options: options))
        async let runA = runnerA.up()
        async let runB = runnerB.up()
        let (a, b) = try await (runA, runB)

        #expect(a.applied.count + b.applied.count == fixture.labels.count)
        #expect(try await first.appliedMigrations().map(\.id) == fixture.versions.map(Migration.id(of:)))
        await first.close()
        await second.close()
    }

    @Test(arguments: Backend.allCases)
    func aHeldLockMakesTheRunnerWaitThenFailClearly(_ backend: Backend) async throws {
        let fixture = try Fixture(backend)
        let store = try fixture.open()
        let now = Date()
        #expect(try await store.acquireLease(MigrationLock.name, owner: "other-host:42", now: now, expiresAt: now.addingTimeInterval(60)))
        var options = MigrationRunner.Options()
        options.lockTimeout = .milliseconds(300)
        options.lockPollInterval = .milliseconds(50)
        let events = EventLog()

        let runner = try fixture.runner(store, options: options, events: events)
        let error = await #expect(throws: MigrationError.self) { try await runner.up() }
        #expect(error?.description.contains("held by other-host:42") == true, "\(error?.description ?? "")")
        #expect(events.lines.contains("… Another migration runner holds the lock: waiting"))
        #expect(try await store.schema.collectionNames().contains("schema_migrations") == false)
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func aCrashedRunnersLockExpires(_ backend: Backend) async throws {
        let fixture = try Fixture(backend)
        let store = try fixture.open()
        let now = Date()
        #expect(try await store.acquireLease(MigrationLock.name, owner: "crashed", now: now, expiresAt: now.addingTimeInterval(0.5)))
        var options = MigrationRunner.Options()
        options.lockPollInterval = .milliseconds(100)

        #expect(try await fixture.runner(store, options: options).up().applied.count == fixture.labels.count)
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func anIndexWithOtherOptionsIsReportedAndReplacedOnlyWithForce(_ backend: Backend) async throws {
        let fixture = try Fixture(backend)
        let store = try fixture.open()
        // What an older tool left: the collection, and the declared keys with a uniqueness nobody asked for.
        try await store.schema.createCollection(.games, validator: nil)
        let old = IndexSpec(name: "created_at_1", keys: [("created_at", 1)], unique: true)
        try await store.schema.createIndex(old, on: .games)
        let declared = IndexSpec(name: "created_at_1", keys: [("created_at", 1)])
        let events = EventLog()
        let runner = try fixture.runner(store, events: events)

        let games = try #require(try await runner.checkOnly().collections.first { $0.name == .games })
        #expect(games.differingIndexes == [IndexDifference(collection: .games, expected: declared, existing: old)])

        let error = await #expect(throws: MigrationError.self) { try await runner.up() }
        #expect(error?.description.contains("re-run with --force") == true)
        #expect(events.lines.contains("✓ Collection exists: games"))
        #expect(try await store.schema.indexes(of: .games) == [old])
        #expect(try await runner.status().applied.isEmpty)

        #expect(try await runner.up(force: true).applied.count == fixture.labels.count)
        #expect(try await store.schema.indexes(of: .games) == [declared])
        #expect(events.lines.contains { $0.hasPrefix("✓ Replaced index on games") })
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func aRunInterruptedMidVersionFinishesOnRerun(_ backend: Backend) async throws {
        let fixture = try Fixture(backend)
        let store = try fixture.open()
        let migration = try #require(try MigrationLoader.load(directory: Fixture.migrationsDirectory).first)
        // The steps ran up to predictions' indexes, then the process died before the ledger row.
        let partial = MigrationSteps(
            createCollections: Array(migration.up.createCollections.prefix(2)),
            createIndexes: migration.up.createIndexes.filter { [.games, .predictions].contains($0.collection) })
        #expect(try await SchemaSteps(schema: store.schema).apply(partial).isEmpty)

        #expect(try await fixture.runner(store).up().applied.count == fixture.labels.count)
        #expect(try await fixture.runner(store).checkOnly().collections.allSatisfy(\.matches))
        await store.close()
    }
}

extension MigrationTests {
    enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case mongodb
        case sqlite

        var testDescription: String { rawValue }
    }

    /// One fresh database per test: a unique MongoDB database, or an SQLite file in a new temporary directory.
    struct Fixture {
        let backend: Backend
        private let location: String

        init(_ backend: Backend) throws {
            self.backend = backend
            location = switch backend {
            case .mongodb: TestEnvironment.uniqueDatabaseName("ted_migrations")
            case .sqlite: try TestEnvironment.temporaryDirectory().appendingPathComponent("ted.sqlite").path
            }
        }

        /// The versions of `migrations/` this backend takes: SQLite also has its own `sqlite/0003` and up.
        var versions: [Int] { labels.map { Int($0.prefix(4))! } }
        var labels: [String] {
            ["0001_initial", "0002_flag_history"] + (backend == .sqlite ? SQLiteLayoutMigrationTests.layoutLabels : [])
        }

        /// Another connection each call, as two service instances would have.
        func open() throws -> any DocumentStore {
            let logger = Logger(label: "test.migrations")
            return switch backend {
            case .mongodb: try MongoStore(url: try TestEnvironment.mongoURL(), database: location, logger: logger)
            case .sqlite: try SQLiteStore(path: location, logger: logger)
            }
        }

        /// A runner of the real `migrations/` that records its progress in `events`.
        func runner(_ store: any DocumentStore, options: MigrationRunner.Options = MigrationRunner.Options(),
                    events: EventLog = EventLog()) throws -> MigrationRunner {
            try MigrationRunner(store: store, directory: Self.migrationsDirectory, options: options) { events.append($0) }
        }

        static let migrationsDirectory = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("migrations").path

        static func directory(files: [String: String]) throws -> String {
            let directory = try TestEnvironment.temporaryDirectory()
            for (name, contents) in files {
                let file = directory.appendingPathComponent(name)
                try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                try contents.write(to: file, atomically: true, encoding: .utf8)
            }
            return directory.path
        }

        /// The real migrations, plus `files`, in a directory the test may edit.
        static func copyOfMigrations(adding files: [String: String] = [:]) throws -> String {
            let directory = try directory(files: files)
            for name in try FileManager.default.contentsOfDirectory(atPath: migrationsDirectory) {
                try FileManager.default.copyItem(atPath: migrationsDirectory + "/" + name, toPath: directory + "/" + name)
            }
            return directory
        }
    }

    /// Collects the runner's progress lines across tasks.
    final class EventLog: Sendable {
        private let events = Mutex<[MigrationEvent]>([])

        func append(_ event: MigrationEvent) { events.withLock { $0.append(event) } }
        func clear() { events.withLock { $0.removeAll() } }
        var lines: [String] { events.withLock { $0.map(\.description) } }
    }
}
