import Foundation
import Logging
import Testing
import TEDCore
@testable import TEDStore

/// `tick_samples` in SQLite's column layout: the features' text is what the general writer makes of the same
/// object, every row reads back as the document written (a tick sample from its columns, anything else whole), and
/// filters, sorts, deletes, retention and recordings work over the columns.
@Suite struct TickSampleColumnsTests {
    static let when = Date(timeIntervalSince1970: 1_767_225_600.25)

    static let samples: [TickSample] = [
        TickSample(gameID: "g", tick: 0, price: 1, features: nil, timestamp: when, createdAt: when),
        TickSample(gameID: "gäme-€ \"quoted\" \\ \n", tick: 123_456, price: 0.000_123,
                   features: (["volatility": .double(0.0123), "ticks_since_peak": .int(7), "flag": .bool(true),
                               "none": .null, "label": .string("ünïcode \u{1}"),
                               "nested": ["list": [.int(1), .double(2.5), [], [:], ["deep": .double(-0.0)], ["$types": .int(1)]]]] as JSONValue).objectValue,
                   timestamp: when.addingTimeInterval(0.001), createdAt: when.addingTimeInterval(3600)),
        // Values JSON cannot tell apart get `$types` annotations in the features' text, in document order.
        TickSample(gameID: "", tick: -1, price: -.infinity,
                   features: (["nan": .double(.nan), "low": .int(-1_000_000_000_000_000_000),
                               "in": [.double(.infinity), .int(.min)]] as JSONValue).objectValue,
                   timestamp: Date(timeIntervalSince1970: 0), createdAt: Date(timeIntervalSince1970: -1)),
        TickSample(gameID: "g", tick: Int.min, price: .nan, features: JSONObject([]), timestamp: when, createdAt: when),
    ]

    static func makeStore() throws -> SQLiteStore {
        try SQLiteStore(path: TestEnvironment.temporaryDirectory().appendingPathComponent("ted.sqlite").path, logger: Logger(label: "test"))
    }

    /// NaN is not equal to itself: documents are compared by the text the general writer makes of them.
    static func text(_ documents: [Document]) throws -> [String] {
        try documents.map { String(decoding: try DocumentJSON.encode($0), as: UTF8.self) }
    }

    // MARK: The features column

    @Test(arguments: samples.filter { $0.features != nil })
    func theFeaturesTextEqualsTheDocumentPath(_ sample: TickSample) throws {
        var writer = DocumentJSONWriter()
        try writer.encode(features: sample.features!)
        #expect(Array(writer.bytes) == (try DocumentJSON.encode(sample.features!.document)))
    }

    /// One writer serves a whole batch: features with annotations leave nothing behind for the next ones.
    @Test func aReusedWriterWritesEachFeaturesAfresh() throws {
        var writer = DocumentJSONWriter()
        for sample in (Self.samples + Self.samples.reversed()) {
            guard let features = sample.features else { continue }
            try writer.encode(features: features)
            #expect(Array(writer.bytes) == (try DocumentJSON.encode(features.document)))
        }
    }

    @Test func featuresTooDeepOrNamingTheReservedFieldAreRefusedAsOnTheDocumentPath() throws {
        var deep = JSONValue.int(1)
        for _ in 0..<(JSONParser.maxDepth + 1) { deep = .object(JSONObject([("d", deep)])) }
        var writer = DocumentJSONWriter()
        #expect(throws: StoreError.self) { try writer.encode(features: deep.objectValue!) }
        #expect(throws: StoreError.self) { try DocumentJSON.encode(deep.objectValue!.document) }
        let reserved = JSONObject([("$types", .int(1))])
        #expect(throws: StoreError.self) { try writer.encode(features: reserved) }
        #expect(throws: StoreError.self) { try DocumentJSON.encode(reserved.document) }
    }

    // MARK: Through the store

    /// The flush's path: the rows read back as the samples' documents, a tick sample is kept in the columns alone
    /// (a NaN price, which a REAL column cannot hold, keeps its whole document), a second write is
    /// `alreadyStored`, and a sample the store cannot hold is refused alone.
    @Test func recordsReadBackAsTheirDocuments() async throws {
        let store = try Self.makeStore()
        let unstorable = TickSample(gameID: "bad", tick: 1, price: 1, features: nil, timestamp: Self.when,
                                    createdAt: Date(timeIntervalSince1970: 1e300))
        let records = (Self.samples + [unstorable]).map(StoreRecord.tickSample)
        let fates = try await store.write(records, to: .tickSamples)
        #expect(fates.prefix(Self.samples.count).allSatisfy { $0 == .stored })
        guard case .refused? = fates.last else {
            Issue.record("the unstorable sample was not refused: \(String(describing: fates.last))")
            return
        }
        #expect(try await store.write(Array(records.prefix(2)), to: .tickSamples) == [.alreadyStored, .alreadyStored])

        let stored = try await store.find(.tickSamples, where: .all, sort: DocumentSort("_id"), limit: nil)
        let expected = Self.samples.map(\.document).sorted { $0["_id"]!.stringValue! < $1["_id"]!.stringValue! }
        #expect(try Self.text(stored) == Self.text(expected))
        let wholeDocuments = try await store.connection.run { database throws(StoreError) in
            try database.rows(#"SELECT _id FROM "tick_samples" WHERE document IS NOT NULL"#) { $0.text(0) ?? "" }
        }
        #expect(wholeDocuments == [Self.samples[3].id])
        let lastHour = DocumentFilter.dateRange("created_at", from: Self.when.addingTimeInterval(3599), to: Self.when.addingTimeInterval(3601))
        #expect(try await store.find(.tickSamples, where: lastHour, sort: nil, limit: nil).map { $0["_id"] } == [.string(Self.samples[1].id)])
        await store.close()
    }

    /// The flush's insert is prepared once: when another process converts the table back (`ted migrate down`)
    /// the next batch fails as retryable, its records kept, instead of each being refused.
    @Test func aTableConvertedByAnotherProcessFailsTheBatchRetryably() async throws {
        let path = try TestEnvironment.temporaryDirectory().appendingPathComponent("ted.sqlite").path
        let store = try SQLiteStore(path: path, logger: Logger(label: "test"))
        let other = try SQLiteStore(path: path, logger: Logger(label: "test"))
        let samples = Self.samples.prefix(2).map(StoreRecord.tickSample)
        #expect(try await store.write([samples[0]], to: .tickSamples) == [.stored])
        #expect(try await other.changeLayout(of: .tickSamples, to: .documents) == 1)
        let error = await #expect(throws: StoreError.self) { try await store.write([samples[1]], to: .tickSamples) }
        #expect(error?.isRetryable == true && error?.message.contains("column layout") == true)
        #expect(try await other.changeLayout(of: .tickSamples, to: .columns) == 1)
        #expect(try await store.write([samples[1]], to: .tickSamples) == [.stored])
        await other.close()
        await store.close()
    }

    /// Generic writes (a restore, a document written by hand): a tick sample goes to the columns, any other
    /// document is kept whole and reads back unchanged, with its fields still in the columns for filters.
    @Test func documentsOfAnyShapeReadBackUnchanged() async throws {
        let store = try Self.makeStore()
        let sample = Self.samples[1].document
        let odd: [Document] = [
            ["_id": "old-1", "game_id": "legacy", "tick": .int32(3), "price": .int64(2), "created_at": .date(Self.when),
             "extra": .array([.bool(true), .null])],
            ["_id": "old-2", "tick": "not a number", "created_at": "2020-01-01T00:00:00Z", "timestamp": .date(Self.when)],
            ["_id": "undated"],
            // A tick sample's fields in another order is another document.
            ["_id": "g:9", "tick": .int64(9), "game_id": "g", "price": .double(1), "timestamp": .date(Self.when), "created_at": .date(Self.when)],
        ]
        #expect(try await store.insert([sample] + odd, into: .tickSamples) == WriteOutcome(written: 5))
        let all = try await store.find(.tickSamples, where: .all, sort: DocumentSort("_id"), limit: nil)
        #expect(try Self.text(all) == Self.text(([sample] + odd).sorted { $0["_id"]!.stringValue! < $1["_id"]!.stringValue! }))

        #expect(try await store.count(.tickSamples, where: .equals("game_id", "legacy")) == 1)
        #expect(try await store.count(.tickSamples, where: .equals("tick", .int64(3))) == 1)
        #expect(try await store.count(.tickSamples, where: .equals("price", .double(2))) == 1)
        #expect(try await store.count(.tickSamples, where: .equals("extra", .array([.bool(true), .null]))) == 1)
        #expect(try await store.count(.tickSamples, where: .equals("tick", "not a number")) == 0, "only a column's type is filtered on")
        #expect(try await store.count(.tickSamples, where: .equals("features.ticks_since_peak", .int64(7))) == 1)
        #expect(try await store.count(.tickSamples, where: .equals("features.flag", .bool(true))) == 1)
        #expect(try await store.count(.tickSamples, where: .equals("features", .null)) == 4, "null matches a missing field")
        #expect(try await store.count(.tickSamples, where: .dateRange("timestamp", from: Self.when, to: Self.when.addingTimeInterval(1))) == 3)

        // An upsert replaces every column, a tick sample's row loses the whole document it had.
        let replaced: Document = ["_id": "old-1", "game_id": "other"]
        #expect(try await store.upsert([replaced, sample], into: .tickSamples) == WriteOutcome(written: 2))
        #expect(try await store.find(.tickSamples, where: .ids(["old-1"]), sort: nil, limit: nil) == [replaced])
        #expect(try await store.count(.tickSamples, where: .equals("game_id", "legacy")) == 0)
        await store.close()
    }

    @Test func findsSortsAndDeletesOverTheColumns() async throws {
        let store = try Self.makeStore()
        let samples: [TickSample] = (0..<6).map { (i: Int) -> TickSample in
            let features = JSONObject([("rank", JSONValue.int(Int64(i)))])
            let createdAt = Self.when.addingTimeInterval(Double(i) * 60)
            return TickSample(gameID: i % 2 == 0 ? "even" : "odd", tick: 10 - i, price: Double(i) / 4, features: features,
                              timestamp: Self.when, createdAt: createdAt)
        }
        _ = try await store.write(samples.shuffled().map(StoreRecord.tickSample), to: .tickSamples)
        let byTick = try await store.find(.tickSamples, where: .equals("game_id", "even"), sort: DocumentSort("tick"), limit: 2)
        #expect(byTick == [samples[4].document, samples[2].document])
        let byFeature = try await store.find(.tickSamples, where: .all, sort: DocumentSort("features.rank", ascending: false), limit: 1)
        #expect(byFeature == [samples[5].document])
        #expect(try await store.delete(from: .tickSamples, where: .all, limit: 2) == 2, "oldest first")
        #expect(try await store.delete(from: .tickSamples, where: .equals("game_id", "odd"), limit: 1) == 1)
        let left = try await store.find(.tickSamples, where: .all, sort: DocumentSort("created_at"), limit: nil)
        #expect(left == [samples[2].document, samples[4].document, samples[5].document])
        await store.close()
    }

    @Test func retentionFindsTickSamplesByTheirCreatedAtColumn() async throws {
        let store = try Self.makeStore()
        let samples: [TickSample] = [3.0, 0.5, 2.0].enumerated().map { (i: Int, days: Double) -> TickSample in
            TickSample(gameID: "g", tick: i, price: 1, features: nil, timestamp: Self.when, createdAt: Self.when.addingTimeInterval(-days * 86_400))
        }
        _ = try await store.write(samples.map(StoreRecord.tickSample), to: .tickSamples)
        _ = try await store.insert([["_id": "undated"]], into: .tickSamples)
        let cutoff = Self.when.addingTimeInterval(-86_400)
        #expect(try await store.expiredCount(in: .tickSamples, before: cutoff) == 2)
        #expect(try await store.oldestExpired(in: .tickSamples, before: cutoff) == samples[0].createdAt)
        #expect(try await store.deleteExpired(from: .tickSamples, before: cutoff, limit: 1) == 1)
        #expect(try await store.oldestExpired(in: .tickSamples, before: cutoff) == samples[2].createdAt)
        #expect(try await store.count(.tickSamples, where: .all) == 3)
        await store.close()
    }

    /// A game's recording reads the columns: only its samples with a number tick, in tick order; a sample kept
    /// whole without a price is corrupt, named.
    @Test func recordedTicksReadTheColumns() async throws {
        let store = try Self.makeStore()
        let samples: [TickSample] = [5, 1, 3].map { (tick: Int) -> TickSample in
            TickSample(gameID: "g", tick: tick, price: Double(tick) / 2, features: nil, timestamp: Self.when, createdAt: Self.when)
        }
        _ = try await store.write(samples.map(StoreRecord.tickSample), to: .tickSamples)
        _ = try await store.insert([["_id": "g:x", "game_id": "g", "tick": "x"], ["_id": "g1:2", "game_id": "g1", "tick": .int64(2)]], into: .tickSamples)
        let ticks = try await store.recordedTicks(ofGame: "g", afterTick: 1, limit: 10)
        #expect(ticks == [RecordedTick(tick: 3, price: 1.5, timestamp: Self.when), RecordedTick(tick: 5, price: 2.5, timestamp: Self.when)])
        _ = try await store.insert([["_id": "g:7", "game_id": "g", "tick": .int64(7), "timestamp": .date(Self.when)]], into: .tickSamples)
        let error = await #expect(throws: StoreError.self) { try await store.recordedTicks(ofGame: "g", afterTick: 0, limit: 10) }
        #expect(error?.kind == .corrupt && error?.message.contains("g:7") == true && error?.message.contains("price") == true)
        await store.close()
    }
}
