import Foundation
import Testing
import TEDCore
@testable import TEDPersistence
@testable import TEDStore

/// `ted export` on both stores: every record of a collection, in its documented schema; NDJSON and CSV that parse
/// back; the same bytes from SQLite and MongoDB; the time and game filters; one page in memory at a time.
@Suite struct ExportTests {
    static let base = Date(timeIntervalSince1970: 1_800_000_000.123)
    static let gameCount = 12
    static let formats = ExportFormat.allCases

    /// Records of every exported collection, with what the encoders must get right: features in no sorted order,
    /// optional nested objects both present and null, a model version with a quote and a comma, fractional dates.
    static func documents() -> [CollectionName: [Document]] {
        var games: [Document] = [], ticks: [Document] = [], predictions: [Document] = [], sideBets: [Document] = []
        for g in 0..<gameCount {
            let id = "game-\(g)"
            let created = base.addingTimeInterval(Double(g) * 60)
            let end = 19
            var game = GameRecord(gameID: id, startTick: 0, endTick: end, peakPrice: 2.5 + Double(g), peakTick: 7, finalPrice: 0.01,
                                  ended: true, rugged: g % 4 != 0, hadPredictions: true, predictionCount: 3,
                                  predictionAccuracy: g % 2 == 0 ? 1.0 / 3 : nil, sideBetsPlaced: 2, createdAt: created, updatedAt: created)
            game.ticksSeen = 20
            games.append(game.document)
            for tick in 0...end {
                let features: JSONObject? = tick % 3 == 0 ? nil : JSONObject([
                    ("vol", .double(0.1 * Double(tick))), ("above", .bool(tick > 10)), ("count", .int(Int64(tick))),
                ])
                ticks.append(TickSample(gameID: id, tick: tick, price: 1 + Double(tick % 7) / 3, features: features,
                                        timestamp: created.addingTimeInterval(Double(tick) / 4), createdAt: created).document)
            }
            for tick in [0, 5, 10] {
                var prediction = Prediction(
                    gameID: id, predictedAtTick: tick, predictedEndTick: 15 + tick, confidence: 0.7,
                    uncertaintyBounds: tick == 5 ? UncertaintyBounds(lower: 12, upper: 30.5) : nil,
                    featuresUsed: tick == 10 ? JSONObject([("z", .array([.int(1), .string("a,\"b\"")])), ("a", .null)]) : nil,
                    modelVersion: g % 3 == 0 ? "m\"1, beta" : "v2", timestamp: created.addingTimeInterval(Double(tick)),
                    createdAt: created)
                if g % 2 == 0 { prediction = prediction.resolved(actualEndTick: end, endInferred: g % 4 == 0) }
                predictions.append(prediction.document)
            }
            for tick in [3, 15] {
                var bet = SideBet(gameID: id, placedAtTick: tick, probability: 0.25, expectedValue: -0.1, confidence: 0.5,
                                  recommendation: tick == 3 ? .bet : .skip, timestamp: created.addingTimeInterval(Double(tick)),
                                  createdAt: created)
                if g % 2 == 0 { bet = bet.resolved(actualEndTick: end, windowTicks: 40, payoutMultiplier: 5) }
                sideBets.append(bet.document)
            }
        }
        let hours: [Document] = (0..<3).map { h in
            let start = Timestamp.hourStart(base).addingTimeInterval(Double(h) * 3600)
            return [
                "_id": .string(Timestamp.formatISO8601(start)), "hour_start": .date(start), "hour_end": .date(start.addingTimeInterval(3600)),
                "games_analyzed": .int64(Int64(h)), "predictions_made": .int64(3), "predictions_resolved": .int64(2),
                "prediction_metrics": .document([
                    "median_e40": .double(0.5), "mean_e40": h == 0 ? .null : .double(-0.125), "mean_absolute_error": .double(20),
                    "within_1_window": .int64(1), "within_2_windows": .int64(2), "within_3_windows": .int64(2),
                ]),
                "side_bet_metrics": .document([
                    "total_recommended": .int64(2), "bets_placed": .int64(1), "positive_ev_count": .int64(0), "bets_won": .int64(1),
                    "bets_lost": .int64(0), "net_payout": .double(4), "roi_percentage": .double(400),
                ]),
                "created_at": .date(start.addingTimeInterval(3600)), "updated_at": .date(start.addingTimeInterval(3601)),
            ]
        }
        return [.games: games, .tickSamples: ticks, .predictions: predictions, .sideBets: sideBets, .metricsHourly: hours]
    }

    /// The same records as another writer might have left them: fields in reverse order (features too) and whole
    /// numbers of number fields stored as integers. The export must not show the difference.
    static func reshuffled(_ document: Document) -> Document {
        Document(document.fields.reversed().map { field in
            switch field.value {
            case .double(let d) where d.rounded() == d: (field.key, .int64(Int64(d)))
            case .document(let nested) where field.key.hasPrefix("features"): (field.key, .document(Document(nested.fields.reversed())))
            default: field
            }
        })
    }

    static func fill(_ store: any DocumentStore, reshuffle: Bool = false) async throws {
        for (collection, documents) in documents() {
            let outcome = try await store.documents.insert(reshuffle ? documents.map(reshuffled) : documents, into: collection)
            #expect(outcome.written == documents.count)
        }
    }

    static func export(_ store: any DocumentStore, _ schema: ExportSchema, _ format: ExportFormat, query: ExportQuery = ExportQuery(),
                       pageSize: Int = 7) async throws -> [UInt8] {
        let path = try TestServer.temporaryDirectory().appendingPathComponent("\(schema.collection).\(format)").path
        try await CollectionExporter(store: store, pageSize: pageSize).export(schema, query: query, format: format, to: path)
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func ndjsonObjects(_ bytes: [UInt8]) throws -> [JSONObject] {
        try JSONParser.parseLines(bytes).map { try #require($0.objectValue) }
    }

    @Test(arguments: BothStores.allCases)
    func anExportHoldsExactlyTheStoredRecordsAndParsesBack(_ backend: BothStores) async throws {
        let store = try backend.makeStore()
        defer { Task { await store.close() } }
        try await Self.fill(store)
        let source = Self.documents()
        for schema in ExportSchema.all {
            let stored = try await store.documentCount(of: schema.collection, matching: .all)
            #expect(stored == source[schema.collection]?.count)

            let ndjson = try Self.ndjsonObjects(try await Self.export(store, schema, .ndjson))
            #expect(ndjson.count == stored, "\(schema.collection)")
            let names = schema.fields.map(\.name)
            #expect(ndjson.allSatisfy { $0.keys == names }, "\(schema.collection) fields in schema order")
            #expect(Set(ndjson.compactMap { $0["_id"]?.stringValue }) == Set(source[schema.collection]!.compactMap { $0["_id"]?.stringValue }))

            let csv = try CSV.parse(try await Self.export(store, schema, .csv))
            #expect(csv.first == schema.columns)
            #expect(csv.count - 1 == stored, "\(schema.collection)")
            #expect(csv.dropFirst().allSatisfy { $0.count == schema.columns.count })
        }
    }

    @Test(arguments: BothStores.allCases)
    func valuesKeepTheirMeaningInBothFormats(_ backend: BothStores) async throws {
        let store = try backend.makeStore()
        defer { Task { await store.close() } }
        try await Self.fill(store)
        let predictions = try Self.ndjsonObjects(try await Self.export(store, .predictions, .ndjson))
        let resolved = try #require(predictions.first { $0["_id"] == .string("game-0:5:m\"1, beta") })
        #expect(resolved["model_version"] == .string("m\"1, beta"))
        #expect(resolved["uncertainty_bounds"] == ["lower": 12.0, "upper": 30.5])
        #expect(resolved["error_metrics"]?.objectValue?["e40"] == .double(0.025))
        #expect(resolved["timestamp"] == .string(Timestamp.formatISO8601(Self.base.addingTimeInterval(5))))
        let open = try #require(predictions.first { $0["_id"] == .string("game-1:10:v2") })
        #expect(open["error_metrics"] == .null)
        #expect(open["features_used"] == ["a": nil, "z": [1, "a,\"b\""]])

        let csv = try CSV.parse(try await Self.export(store, .predictions, .csv))
        let header = try #require(csv.first)
        let row = try #require(csv.first { $0.first == "game-0:5:m\"1, beta" })
        func cell(_ column: String) -> String { row[header.firstIndex(of: column)!] }
        #expect(cell("model_version") == "m\"1, beta")
        #expect(cell("uncertainty_bounds.upper") == "30.5")
        #expect(cell("error_metrics.raw_error") == "1")
        #expect(cell("error_metrics.e40") == "0.025")
        #expect(cell("features_used") == "")
        let openRow = try #require(csv.first { $0.first == "game-1:10:v2" })
        #expect(openRow[header.firstIndex(of: "error_metrics.e40")!] == "")
        #expect(try JSONParser.parse(Array(openRow[header.firstIndex(of: "features_used")!].utf8)) == ["a": nil, "z": [1, "a,\"b\""]])

        let ticks = try CSV.parse(try await Self.export(store, .tickSamples, .csv))
        let tickRow = try #require(ticks.first { $0.first == "game-3:4" })
        #expect(tickRow == ["game-3:4", "game-3", "4", String(1 + 4.0 / 3), #"{"above":false,"count":4,"vol":"# + JSONValue.double(0.1 * 4).serializedString + "}",
                            Timestamp.formatISO8601(Self.base.addingTimeInterval(181)), Timestamp.formatISO8601(Self.base.addingTimeInterval(180))])
    }

    @Test func bothStoresGiveTheSameBytes() async throws {
        let sqlite = try BothStores.sqlite.makeStore()
        let mongo = try BothStores.mongodb.makeStore()
        defer { Task { await sqlite.close(); await mongo.close() } }
        try await Self.fill(sqlite)
        try await Self.fill(mongo, reshuffle: true)
        for schema in ExportSchema.all {
            for format in Self.formats {
                let a = try await Self.export(sqlite, schema, format, pageSize: 5)
                let b = try await Self.export(mongo, schema, format, pageSize: 1000)
                #expect(!a.isEmpty)
                #expect(a == b, "\(schema.collection) as \(format)")
            }
        }
    }

    @Test(arguments: BothStores.allCases)
    func theTimeAndGameFiltersSelectTheirRecords(_ backend: BothStores) async throws {
        let store = try backend.makeStore()
        defer { Task { await store.close() } }
        try await Self.fill(store)
        let source = Self.documents()
        for schema in ExportSchema.all {
            // From a record's time (included) to another's (excluded).
            let times = source[schema.collection]!.map { $0[schema.timeField]!.dateValue! }.sorted()
            let since = times[times.count / 4], until = times[times.count * 3 / 4]
            let inWindow = source[schema.collection]!.filter { document in
                let at = document[schema.timeField]!.dateValue!
                return at >= since && at < until
            }
            let windowed = try Self.ndjsonObjects(try await Self.export(store, schema, .ndjson, query: ExportQuery(since: since, until: until)))
            #expect(!inWindow.isEmpty && inWindow.count < times.count)
            #expect(windowed.compactMap { $0["_id"]?.stringValue } == inWindow.compactMap { $0["_id"]?.stringValue }.sorted(),
                    "\(schema.collection)")
            guard schema.hasGameID else {
                await #expect(throws: ExportError.self) {
                    try await Self.export(store, schema, .ndjson, query: ExportQuery(gameID: "game-4"))
                }
                continue
            }
            let ofGame = source[schema.collection]!.filter { $0["game_id"] == .string("game-4") && $0[schema.timeField]!.dateValue! >= since }
            let selected = try Self.ndjsonObjects(try await Self.export(store, schema, .ndjson, query: ExportQuery(since: since, gameID: "game-4")))
            #expect(!ofGame.isEmpty)
            #expect(selected.count == ofGame.count, "\(schema.collection)")
            #expect(selected.allSatisfy { $0["game_id"] == .string("game-4") })
        }
    }

    @Test(arguments: BothStores.allCases)
    func onePageIsReadAndWrittenAtATime(_ backend: BothStores) async throws {
        let store = try backend.makeStore()
        defer { Task { await store.close() } }
        try await Self.fill(store)
        let directory = try TestServer.temporaryDirectory()
        let path = directory.appendingPathComponent("ticks.csv").path
        let total = try await store.documentCount(of: .tickSamples, matching: .all)
        var seen: [ExportProgress] = []
        let result = try await CollectionExporter(store: store, pageSize: 25).export(.tickSamples, query: ExportQuery(), format: .csv, to: path) { progress in
            // The page is on disk (in the file not yet renamed) before the next one is read.
            let partial = try? FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".ticks.csv.partial-") }
            let size = partial?.first.flatMap { try? FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent($0).path)[.size] as? NSNumber }
            #expect(size?.int64Value == progress.bytes)
            seen.append(progress)
        }
        #expect(result.records == total)
        #expect(seen.count == (total + 24) / 25)
        let steps = zip([0] + seen.map(\.records), seen.map(\.records)).map { $1 - $0 }
        #expect(steps.allSatisfy { $0 >= 1 && $0 <= 25 })
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(left == ["ticks.csv"])
    }

    @Test(arguments: BothStores.allCases)
    func anEmptyExportIsAHeaderOrNothing(_ backend: BothStores) async throws {
        let store = try backend.makeStore()
        defer { Task { await store.close() } }
        #expect(try await Self.export(store, .sideBets, .ndjson).isEmpty)
        #expect(try CSV.parse(try await Self.export(store, .sideBets, .csv)) == [ExportSchema.sideBets.columns])
    }

    @Test(arguments: [
        (["--format": "xml"], "--format"), ([:], "--collection"), (["--collection": "users"], "--collection"),
        (["--collection": "games", "--all": ""], "--all"), (["--collection": "games", "--since": "yesterday"], "--since"),
        (["--collection": "games", "--since": "2026-02-01", "--until": "2026-01-31T23:00:00Z"], "--until"),
        (["--collection": "metrics_hourly", "--game": "g1"], "--game"), (["--collection": "games", "--game": ""], "--game"),
        (["--collection": "games", "--out": ""], "--out"), (["--collection": "games", "--out": "/nonexistent-dir/x.csv"], "--out"),
    ] as [([String: String], String)])
    func badOptionsAreRefusedNamingTheOption(_ options: [String: String], _ option: String) throws {
        let directory = try TestServer.temporaryDirectory()
        do {
            _ = try ExportPlan(collection: options["--collection"], all: options["--all"] != nil, since: options["--since"],
                               until: options["--until"], game: options["--game"], format: options["--format"] ?? "csv",
                               out: options["--out"] ?? directory.appendingPathComponent("out.csv").path)
            Issue.record("accepted \(options)")
        } catch {
            #expect(error.option == option, "\(options): \(error.message)")
        }
    }

    @Test func allWritesOneFilePerCollectionIntoADirectory() throws {
        let directory = try TestServer.temporaryDirectory().appendingPathComponent("exports").path
        let plan = try ExportPlan(collection: nil, all: true, since: "2026-01-01", until: nil, game: "g1", format: "ndjson", out: directory)
        #expect(plan.jobs.map(\.path) == ["games", "tick_samples", "predictions", "side_bets"].map { "\(directory)/\($0).ndjson" })
        #expect(plan.skipped == [.metricsHourly])
        #expect(plan.query.since == Timestamp.parseISO8601("2026-01-01T00:00:00Z"))
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) && isDirectory.boolValue)
        #expect(throws: ExportError.self) {
            _ = try ExportPlan(collection: "games", all: false, since: nil, until: nil, game: nil, format: "csv", out: directory)
        }
    }
}

/// RFC 4180, as the export writes it: CRLF line ends, quoted fields with doubled quotes.
enum CSV {
    struct Malformed: Error {}

    static func parse(_ bytes: [UInt8]) throws -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field: [UInt8] = []
        var index = 0, quoted = false, fieldStarted = false
        while index < bytes.count {
            let byte = bytes[index]
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\"") {
                        field.append(byte)
                        index += 1
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(byte)
                }
            } else if byte == UInt8(ascii: "\"") {
                guard field.isEmpty else { throw Malformed() }
                quoted = true
                fieldStarted = true
            } else if byte == UInt8(ascii: ",") {
                row.append(String(decoding: field, as: UTF8.self))
                field = []
                fieldStarted = true
            } else if byte == 0x0D {
                guard index + 1 < bytes.count, bytes[index + 1] == 0x0A else { throw Malformed() }
                row.append(String(decoding: field, as: UTF8.self))
                rows.append(row)
                row = []
                field = []
                fieldStarted = false
                index += 1
            } else {
                field.append(byte)
                fieldStarted = true
            }
            index += 1
        }
        guard !quoted, !fieldStarted, field.isEmpty else { throw Malformed() }  // every row ends with CRLF
        return rows
    }
}
