import Foundation
import Logging
import Testing
import TEDCore
@testable import TEDPersistence
@testable import TEDStore

/// Backups on both stores: back up, restore into a fresh database, restore twice, rotation, a cut file.
@Suite struct BackupTests {
    static let migrationsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../migrations").standardizedFileURL.path
    static let logger = Logger(label: "test.backup")
    /// Per collection, how many documents `fill` writes.
    static let sizes: [(CollectionName, Int)] = [
        (.games, 150), (.tickSamples, 320), (.predictions, 90), (.sideBets, 45), (.metricsHourly, 24), (.flagHistory, 12),
    ]
    /// The collections a backup carries besides the migration ledger, in file order.
    static let backedUp: [CollectionName] = sizes.map(\.0)

    enum Backend: String, CaseIterable, CustomTestStringConvertible {
        case sqlite, mongodb
        var testDescription: String { rawValue }

        /// The migrations this backend takes: SQLite also has its own `sqlite/0003` and up.
        var migrationLabels: [String] {
            ["0001_initial", "0002_flag_history"] + (self == .sqlite ? ["0003_tick_sample_columns", "0004_prediction_columns", "0005_side_bet_columns", "0006_game_columns",
                                                       "0007_metrics_hourly_columns", "0008_dead_letter_columns",
                                                       "0009_flag_history_columns"] : [])
        }
    }

    /// A fresh, empty database of `backend`.
    static func makeStore(_ backend: Backend) throws -> any DocumentStore {
        switch backend {
        case .mongodb: try MongoStore(url: TestServer.mongoURL(), database: TestServer.uniqueDatabase(), logger: logger)
        case .sqlite: try SQLiteStore(path: TestServer.temporaryDirectory().appendingPathComponent("ted.sqlite").path, logger: logger)
        }
    }

    /// Migrates `store` and writes `sizes` documents of every value type.
    static func fill(_ store: any DocumentStore) async throws {
        try await MigrationRunner(store: store, directory: migrationsDirectory).applyPending()
        let base = Date(timeIntervalSince1970: 1_700_000_000)
        for (collection, count) in sizes {
            let documents: [Document] = (0..<count).map { i in document(of: collection, index: i, base: base) }
            let outcome = try await store.documents.insert(documents, into: collection)
            #expect(outcome.written == count)
        }
    }

    /// Document `index` of `collection`: the fields a restore checks (the record's own, with its `_id`), then
    /// extra fields with every value type, which must come back unchanged.
    static func document(of collection: CollectionName, index i: Int, base: Date) -> Document {
        let at = DocumentValue.date(base.addingTimeInterval(Double(i) * 60.001))
        let game = "game-\(i % 7)"
        var document: Document
        switch collection {
        case .games:
            document = ["_id": .string("game-\(i)"), "game_id": .string("game-\(i)"), "start_tick": .int64(0),
                        "end_tick": .int64(Int64(i)), "peak_price": .double(Double(i) / 3 + 0.001), "peak_tick": .int64(Int64(i)),
                        "final_price": .double(1), "updated_at": at]
        case .tickSamples:
            document = ["_id": .string("\(game):\(i)"), "game_id": .string(game), "tick": .int64(Int64(i)),
                        "price": .double(Double(i) / 3 + 0.001), "timestamp": at]
        case .predictions:
            document = ["_id": .string("\(game):\(i):m1"), "game_id": .string(game), "predicted_at_tick": .int64(Int64(i)),
                        "predicted_end_tick": .int64(Int64(i) + 40), "confidence": .double(0.5), "model_version": .string("m1"),
                        "timestamp": at]
        case .flagHistory:
            // As the service writes them: a restore checks that the fields give the `_id`.
            return FlagChange(at: base.addingTimeInterval(Double(i) * 60.001), from: i % 2 == 1, to: i % 2 == 0,
                              source: .api, tokenFingerprint: i % 3 == 0 ? nil : "sha256:0123456789abcdef", host: "host").document
        case .sideBets:
            document = ["_id": .string("\(game):\(i)"), "game_id": .string(game), "placed_at_tick": .int64(Int64(i)),
                        "probability": .double(0.2), "expected_value": .double(0.1), "confidence": .double(0.5),
                        "recommendation": .string("BET"), "timestamp": at]
        default:
            document = ["_id": .string("h-" + String(format: "%05d", i)), "hour_start": at, "hour_end": at]
        }
        document.append("x_tick", .int64(Int64(i) * 1_000_000_007))
        document.append("x_small", .int32(Int32(i) - 100))
        document.append("x_price", .double(Double(i) / 3 + 0.001))
        document.append("x_whole", .double(Double(i)))
        document.append("x_peak", i % 50 == 0 ? .double(.infinity) : .double(-Double(i) * 1e-9))
        document.append("created_at", at)
        document.append("x_rugged", .bool(i % 2 == 0))
        document.append("note", i % 3 == 0 ? .null : .string("line \"\(i)\"\né"))
        let hits: [DocumentValue] = [.int64(1), .int32(2), .string("x"), .null]
        document.append("metrics", .document(["e40": .double(0.25), "hits": .array(hits)]))
        return document
    }

    /// Every document of every backed-up collection, by `_id`.
    static func contents(_ store: any DocumentStore) async throws -> [CollectionName: [Document]] {
        var result: [CollectionName: [Document]] = [:]
        for collection in backedUp {
            result[collection] = try await store.documentPage(of: collection, matching: .all, afterID: nil, limit: 10_000)
        }
        return result
    }

    static func expectSame(_ lhs: [CollectionName: [Document]], _ rhs: [CollectionName: [Document]]) {
        for collection in backedUp {
            let a = lhs[collection] ?? [], b = rhs[collection] ?? []
            #expect(a.count == b.count, "\(collection)")
            for (x, y) in zip(a, b) where x != y {
                Issue.record("\(collection) \(x["_id"]?.stringValue ?? "?") differs:\n\(x)\n\(y)")
                break
            }
        }
    }

    static func expectSchemaAsDeclared(_ store: any DocumentStore) async throws {
        let report = try await MigrationRunner(store: store, directory: migrationsDirectory).checkOnly()
        #expect(report.pending.isEmpty)
        for collection in report.collections {
            #expect(collection.matches, "\(collection.name): missing \(collection.missingIndexes.map(\.name))")
        }
        #expect(report.collections.count == CollectionName.data.count + 1, "the data collections and the flag history")
    }

    // MARK: Round trip

    @Test(arguments: Backend.allCases)
    func backupThenRestoreWithDropIntoAFreshDatabase(backend: Backend) async throws {
        let source = try Self.makeStore(backend)
        let target = try Self.makeStore(backend)
        let directory = try TestServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await Self.fill(source)

        // Small pages, so paging by _id is exercised on every collection.
        let backup = try await BackupWriter(store: source, directory: directory.path, keep: 5, database: "db", batchSize: 64)
            .write(now: Date(timeIntervalSince1970: 1_750_000_000))
        #expect((backup.path as NSString).lastPathComponent == "ted-\(backend.rawValue)-20250615-150640.ndjson.gz")
        #expect(backup.header.collections == Self.sizes.map { CollectionCount($0.0, $0.1) } + [CollectionCount(.schemaMigrations, backend.migrationLabels.count)])
        #expect(backup.header.backend == backend.rawValue && backup.header.database == "db" && backup.header.location == source.location)
        #expect(try await BackupReader.readHeader(backup.path) == backup.header)
        #expect(backup.bytes > 0)
        // No temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
                == [BackupFiles.latestName, (backup.path as NSString).lastPathComponent])

        let restorer = BackupRestorer(store: target, migrationsDirectory: Self.migrationsDirectory, batchSize: 50)
        let result = try await restorer.restore(file: backup.path, drop: true)
        #expect(result.restored == Self.sizes.map { CollectionCount($0.0, $0.1) })
        #expect(result.appliedMigrations == backend.migrationLabels)
        #expect(result.warnings.isEmpty)

        Self.expectSame(try await Self.contents(source), try await Self.contents(target))
        try await Self.expectSchemaAsDeclared(target)
        #expect(try await target.appliedMigrations().map(\.id) == backend.migrationLabels.map { String($0.prefix(4)) })

        await source.close()
        await target.close()
    }

    @Test(arguments: Backend.allCases)
    func restoringTwiceGivesTheSameDatabase(backend: Backend) async throws {
        let source = try Self.makeStore(backend)
        let target = try Self.makeStore(backend)
        let directory = try TestServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await Self.fill(source)
        let backup = try await BackupWriter(store: source, directory: directory.path, keep: 5).write()
        let restorer = BackupRestorer(store: target, migrationsDirectory: Self.migrationsDirectory)

        let first = try await restorer.restore(file: backup.path, drop: false)
        let afterFirst = try await Self.contents(target)
        let second = try await restorer.restore(file: backup.path, drop: false)
        #expect(second.restored == first.restored)
        #expect(second.appliedMigrations.isEmpty)
        Self.expectSame(afterFirst, try await Self.contents(target))
        let third = try await restorer.restore(file: backup.path, drop: true)
        #expect(third.restored == first.restored)
        Self.expectSame(afterFirst, try await Self.contents(target))
        Self.expectSame(try await Self.contents(source), afterFirst)
        for (collection, count) in Self.sizes { #expect(try await target.documentCount(of: collection, matching: .all) == count) }
        #expect(try await target.documentCount(of: .schemaMigrations, matching: .all) == backend.migrationLabels.count)

        await source.close()
        await target.close()
    }

    /// One backup format for both stores: a backup taken on either restores into the other, document for document.
    /// SQLite keeps tick samples in columns (and documents of other shapes whole), MongoDB documents; SQLite's own
    /// migration 0003 is no difference between the ledgers.
    @Test(arguments: [(Backend.sqlite, Backend.mongodb), (.mongodb, .sqlite)])
    func aBackupOfOneStoreRestoresIntoTheOther(from: Backend, into: Backend) async throws {
        let source = try Self.makeStore(from)
        let target = try Self.makeStore(into)
        let directory = try TestServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await Self.fill(source)
        let samples = (0..<3).map { tick in
            StoreRecord.tickSample(TickSample(gameID: "flushed", tick: tick, price: 1.5, features: JSONObject([("rank", JSONValue.int(Int64(tick)))]),
                                              timestamp: Date(timeIntervalSince1970: 1_750_000_000), createdAt: Date(timeIntervalSince1970: 1_750_000_001)))
        }
        #expect(try await source.write(samples, to: .tickSamples) == [.stored, .stored, .stored])
        let backup = try await BackupWriter(store: source, directory: directory.path, keep: 1).write()
        let result = try await BackupRestorer(store: target, migrationsDirectory: Self.migrationsDirectory).restore(file: backup.path, drop: true)
        #expect(result.warnings.isEmpty)
        Self.expectSame(try await Self.contents(source), try await Self.contents(target))
        try await Self.expectSchemaAsDeclared(target)
        await source.close()
        await target.close()
    }

    @Test(arguments: Backend.allCases)
    func anEmptyDatabaseBacksUpAndRestores(backend: Backend) async throws {
        let source = try Self.makeStore(backend)
        let target = try Self.makeStore(backend)
        let directory = try TestServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let backup = try await BackupWriter(store: source, directory: directory.path, keep: 1).write()
        #expect(backup.header.collections.allSatisfy { $0.count == 0 })
        let result = try await BackupRestorer(store: target, migrationsDirectory: Self.migrationsDirectory).restore(file: backup.path, drop: true)
        #expect(result.restored.allSatisfy { $0.count == 0 })
        // The migrations of the restore are newer than the (empty) backed-up ledger.
        #expect(result.warnings.count == 1 && result.warnings[0].contains("0001, 0002 were not applied"))
        try await Self.expectSchemaAsDeclared(target)
        await source.close()
        await target.close()
    }

    // MARK: Rotation

    @Test(arguments: Backend.allCases)
    func rotationKeepsTheNewestAndLatestPointsAtTheNewest(backend: Backend) async throws {
        let store = try Self.makeStore(backend)
        let directory = try TestServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await MigrationRunner(store: store, directory: Self.migrationsDirectory).applyPending()
        _ = try await store.documents.insert([["_id": "g-1", "created_at": .date(Date())]], into: .games)
        try Data("keep me".utf8).write(to: directory.appendingPathComponent("notes.txt"))
        let writer = BackupWriter(store: store, directory: directory.path, keep: 3)
        let base = Date(timeIntervalSince1970: 1_750_000_000)
        var paths: [String] = []
        for day in 0..<5 {
            // Not in time order: the rotation goes by the time in the name.
            let offset = [2, 0, 4, 1, 3][day]
            let result = try await writer.write(now: base.addingTimeInterval(Double(offset) * 86_400))
            paths.append(result.path)
        }
        let names = try BackupFiles.list(in: directory.path)
        #expect(names == (2...4).map { BackupFiles.fileName(backend: store.backend, at: base.addingTimeInterval(Double($0) * 86_400)) })
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("notes.txt").path))
        let latest = try FileManager.default.destinationOfSymbolicLink(atPath: directory.appendingPathComponent("latest").path)
        #expect(latest == names.last)
        #expect(try BackupFiles.resolve("latest", directory: directory.path) == directory.appendingPathComponent(names[2]).path)
        // A second backup in the same second is refused rather than overwriting the first.
        await #expect(throws: BackupError.self) { try await writer.write(now: base.addingTimeInterval(4 * 86_400)) }
        await store.close()
    }

    @Test func withoutAnyBackupLatestIsAClearError() throws {
        let directory = try TestServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect {
            try BackupFiles.resolve("latest", directory: directory.path)
        } throws: { error in
            "\(error)".contains("run `ted backup` first")
        }
    }

    // MARK: Damaged files

    @Test(arguments: Backend.allCases)
    func aTruncatedBackupIsRefusedBeforeAnythingChanges(backend: Backend) async throws {
        let source = try Self.makeStore(backend)
        let target = try Self.makeStore(backend)
        let directory = try TestServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await Self.fill(source)
        let backup = try await BackupWriter(store: source, directory: directory.path, keep: 5).write()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: backup.path))
        let cut = directory.appendingPathComponent("cut.ndjson.gz").path
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: cut))

        // The target holds data that a refused restore --drop must not touch.
        try await MigrationRunner(store: target, directory: Self.migrationsDirectory).applyPending()
        _ = try await target.documents.insert([["_id": "keep", "created_at": .date(Date())]], into: .games)

        let restorer = BackupRestorer(store: target, migrationsDirectory: Self.migrationsDirectory)
        await #expect {
            _ = try await restorer.restore(file: cut, drop: true)
        } throws: { error in
            let message = "\(error)"
            return message.contains("cut.ndjson.gz is truncated or damaged") && message.contains("missing:")
                && message.contains("of 320 documents") && message.contains("gzip:")
        }
        #expect(try await target.documentCount(of: .games, matching: .all) == 1)

        // Cut exactly at a line boundary of the decompressed text: only the counts can tell.
        let reader = try await BackupReader.open(backup.path)
        let text = try String(contentsOfFile: reader.decompressed, encoding: .utf8)
        reader.close()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let shortened = directory.appendingPathComponent("short.ndjson").path
        try (lines.prefix(200).joined(separator: "\n") + "\n").write(toFile: shortened, atomically: true, encoding: .utf8)
        let gzipped = try await Self.gzip(shortened)
        await #expect {
            _ = try await restorer.restore(file: gzipped, drop: true)
        } throws: { error in
            "\(error)".contains("missing: tick_samples has 49 of 320 documents, predictions has 0 of 90 documents")
        }
        #expect(try await target.documentCount(of: .games, matching: .all) == 1)

        await source.close()
        await target.close()
    }

    @Test func aFileThatIsNotABackupIsRefused() async throws {
        let directory = try TestServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let plain = directory.appendingPathComponent("x.ndjson").path
        try #"{"hello": 1}"#.write(toFile: plain, atomically: true, encoding: .utf8)
        let gzipped = try await Self.gzip(plain)
        await #expect {
            try await BackupReader.readHeader(gzipped)
        } throws: { error in
            "\(error)".contains("is not a ted backup")
        }
        let notGzip = directory.appendingPathComponent("y.gz").path
        try "plain".write(toFile: notGzip, atomically: true, encoding: .utf8)
        await #expect {
            try await BackupReader.readHeader(notGzip)
        } throws: { error in
            "\(error)".contains("is empty or not a gzip file")
        }
        let reader = try await BackupReader.open(notGzip)
        defer { reader.close() }
        #expect {
            try reader.validate()
        } throws: { error in
            "\(error)".contains("y.gz is empty (gzip:") && "\(error)".contains("not in gzip format")
        }
    }

    @Test func aLineOfAnUnknownCollectionIsRefused() async throws {
        let directory = try TestServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("x.ndjson").path
        try """
            {"ted_backup":1,"backend":"sqlite","created_at":"2025-01-01T00:00:00.000Z","collections":{"games":1}}
            {"c":"gmaes","d":{"_id":"a"}}

            """.write(toFile: path, atomically: true, encoding: .utf8)
        let reader = try await BackupReader.open(try await Self.gzip(path))
        defer { reader.close() }
        #expect {
            try reader.validate()
        } throws: { error in
            "\(error)".contains("line 2: collection gmaes is not in the header")
        }
    }

    /// `gzip -c path > path.gz`.
    static func gzip(_ path: String) async throws -> String {
        let output = path + ".gz"
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: output))
        defer { try? handle.close() }
        #expect(try await Gzip.run(["-c", path], output: handle) == nil)
        return output
    }
}
