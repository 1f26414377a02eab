import Foundation
import Logging
import TEDCore
import Testing
@testable import TEDStore

/// `SQLiteStore` on real files in a temporary directory, and its JSON encoding.
@Suite struct SQLiteStoreTests {
    // MARK: DocumentJSON

    static let when = Date(timeIntervalSince1970: 1_700_000_000.123)

    @Test func jsonRoundTripsEveryValueType() throws {
        let document: Document = [
            "_id": "a",
            "text": .string("quote \" backslash \\ newline \n tab \t nul \u{0} bell \u{7} é 😀 \u{2028}"),
            "double": 0.1, "whole double": .double(5), "negative zero": .double(-0.0), "huge": 1e300, "tiny": .double(.leastNonzeroMagnitude),
            "int64": .int64(42), "int64 max": .int64(.max), "int64 min": .int64(.min),
            "int64 -10^18": .int64(-1_000_000_000_000_000_000), "int64 above -10^18": .int64(-999_999_999_999_999_999),
            "int32": .int32(-7), "int32 max": .int32(.max), "int32 min": .int32(.min),
            "true": true, "false": false, "null": .null,
            "date": .date(Self.when), "before 1970": .date(Date(timeIntervalSince1970: -86_400.5)),
            "nested": .document([
                "when": .date(Self.when),
                "list": .array([.int32(1), .date(Self.when), .array([.int32(2), "x"]), .document(["deep": .int32(3)])]),
            ]),
            "empty document": .document([:]), "empty array": .array([]),
            "key.with.dots": .int32(9), "key \"quoted\"": .date(Self.when), "$jsonSchema": "dollar keys are fine below $types",
        ]
        let decoded = try DocumentJSON.decode(try DocumentJSON.encode(document))
        #expect(decoded == document)
        #expect(decoded.keys == document.keys)
        #expect(decoded["negative zero"]?.doubleValue?.sign == .minus)
    }

    /// Escapes land at every offset of the 8-byte scan, and SQLite reads them as the decoder does.
    @Test func jsonEscapesAtEveryOffset() async throws {
        var documents: [Document] = []
        for offset in 0..<20 {
            for special in ["\"", "\\", "\n", "\r", "\t", "\u{0}", "\u{1}", "\u{1F}", "\u{7F}", "é", "😀", "/"] {
                let text = String(repeating: "a", count: offset) + special + "bcdefghij"
                documents.append(["_id": .string("\(offset)-\(documents.count)"), "text": .string(text), text: .int32(1)])
            }
        }
        for document in documents {
            #expect(try DocumentJSON.decode(try DocumentJSON.encode(document)) == document)
        }
        try await withStore { store, _ async throws in
            _ = try await store.insert(documents, into: .games)
            // SQLite 3.40's json_extract cuts a string at an escaped NUL, so such a value cannot be filtered on.
            for document in documents.prefix(48) where document["text"]?.stringValue?.contains("\u{0}") == false {
                let text = try #require(document["text"])
                #expect(try await store.find(.games, where: .equals("text", text), sort: nil, limit: nil) == [document])
            }
        }
    }

    @Test func jsonRoundTripsNonFiniteDoubles() throws {
        let decoded = try DocumentJSON.decode(try DocumentJSON.encode(["nan": .double(.nan), "inf": .double(.infinity), "-inf": .double(-.infinity)]))
        #expect(decoded["nan"]?.doubleValue?.isNaN == true)
        #expect(decoded["inf"] == .double(.infinity))
        #expect(decoded["-inf"] == .double(-.infinity))
    }

    @Test func jsonIsPlainJSONWithTheTypesListedLast() throws {
        let document: Document = ["_id": "x", "created_at": .date(Date(timeIntervalSince1970: 1.5)), "n": .int32(1), "d": 2.0, "i": 3]
        let text = String(decoding: try DocumentJSON.encode(document), as: UTF8.self)
        #expect(text == #"{"_id":"x","created_at":1500,"n":1,"d":2.0,"i":3,"$types":[["date","created_at"],["int32","n"]]}"#)
        #expect(String(decoding: try DocumentJSON.encode(["_id": "y"]), as: UTF8.self) == #"{"_id":"y"}"#)
    }

    @Test func jsonKeepsDatesToTheMillisecond() throws {
        let fine = Date(timeIntervalSince1970: 1_700_000_000.123_6)
        let decoded = try DocumentJSON.decode(try DocumentJSON.encode(["at": .date(fine)]))
        #expect(decoded["at"] == .date(Date(timeIntervalSince1970: 1_700_000_000.124)))
    }

    @Test func jsonRefusesWhatItCannotStore() throws {
        var deep: DocumentValue = .int32(1)
        for _ in 0..<JSONParser.maxDepth { deep = .array([deep]) }
        let refused: [Document] = [
            ["$types": .array([])],
            ["deep": deep],
            ["date": .date(Date(timeIntervalSinceReferenceDate: .infinity))],
        ]
        for document in refused {
            let error = #expect(throws: StoreError.self) { try DocumentJSON.encode(document) }
            #expect(error?.kind == .operationFailed)
        }
        var deepest: DocumentValue = .int32(1)
        for _ in 0..<(JSONParser.maxDepth - 1) { deepest = .array([deepest]) }
        #expect(try DocumentJSON.decode(try DocumentJSON.encode(["deep": deepest]))["deep"] == deepest)
    }

    @Test(arguments: [
        "", "not json", "[1,2]", "\"text\"", #"{"a":1"#, #"{"a":1}x"#,
        #"{"a":1,"$types":{}}"#,
        #"{"a":1,"$types":[["bogus","a"]]}"#,
        #"{"a":1,"$types":[["date"]]}"#,
        #"{"a":1,"$types":[[1,"a"]]}"#,
        #"{"a":"x","$types":[["date","a"]]}"#,
        #"{"a":1.5,"$types":[["date","a"]]}"#,
        #"{"a":1,"$types":[["date","missing"]]}"#,
        #"{"a":1,"$types":[["date","a",0]]}"#,
        #"{"a":[1],"$types":[["date","a",-1]]}"#,
        #"{"a":[1],"$types":[["date","a",true]]}"#,
        #"{"a":{"b":1},"$types":[["date","a"]]}"#,
        #"{"a":3000000000,"$types":[["int32","a"]]}"#,
        #"{"a":"12x","$types":[["int64","a"]]}"#,
        #"{"a":0,"$types":[["nan","a"]]}"#,
        #"{"a":1,"$types":[["date","a"],["date","a"]]}"#,
        #"{"a":1,"$types":[["date""# + String(repeating: #","a""#, count: 100_000) + "]]}",
    ])
    func jsonRejectsCorruptText(text: String) {
        let error = #expect(throws: StoreError.self) { try DocumentJSON.decode(Array(text.utf8)) }
        #expect(error?.kind == .corrupt)
    }

    @Test func jsonRejectsInvalidUTF8() {
        let bytes: [UInt8] = [UInt8(ascii: "{"), UInt8(ascii: "\""), 0xFF, UInt8(ascii: "\""), UInt8(ascii: ":"), UInt8(ascii: "1"), UInt8(ascii: "}")]
        let error = #expect(throws: StoreError.self) { try DocumentJSON.decode(bytes) }
        #expect(error?.kind == .corrupt)
    }

    // MARK: Writes

    @Test func insertingTwiceCountsTheRetryAsAlreadyStored() async throws {
        try await withStore { store, _ async throws in
            let documents = (0..<3).map { Self.record("g\($0)", minute: $0) }
            #expect(try await store.insert(documents, into: .games) == WriteOutcome(written: 3))
            #expect(try await store.insert(documents + [Self.record("g3", minute: 3)], into: .games) == WriteOutcome(written: 1, alreadyStored: 3))
            let twice = Self.record("g4", minute: 4)
            #expect(try await store.insert([twice, twice], into: .games) == WriteOutcome(written: 1, alreadyStored: 1))
            #expect(try await store.count(.games, where: .all) == 5)
            #expect(try await store.find(.games, where: .ids(["g1"]), sort: nil, limit: nil) == [documents[1]])
        }
    }

    @Test func aFailedBatchWritesNothing() async throws {
        try await withStore { store, _ async throws in
            let error = await #expect(throws: StoreError.self) {
                try await store.insert([Self.record("fine", minute: 0), ["no_id": true]], into: .games)
            }
            #expect(error?.kind == .operationFailed)
            #expect(try await store.count(.games, where: .all) == 0)
        }
    }

    @Test func upsertReplacesTheDocument() async throws {
        try await withStore { store, _ async throws in
            #expect(try await store.insert([Self.record("p", minute: 1, game: "old")], into: .predictions).written == 1)
            let replacement = Self.record("p", minute: 5, game: "new")
            #expect(try await store.upsert([replacement, Self.record("q", minute: 2)], into: .predictions) == WriteOutcome(written: 2))
            #expect(try await store.upsert([replacement], into: .predictions) == WriteOutcome(written: 1))
            #expect(try await store.find(.predictions, where: .ids(["p"]), sort: nil, limit: nil) == [replacement])
            // The created_at column follows the replacement.
            let found = try await store.find(.predictions, where: .dateRange("created_at", from: Self.minute(5), to: nil), sort: nil, limit: nil)
            #expect(found == [replacement])
        }
    }

    // MARK: Reads

    static let sample: [Document] = [
        ["_id": "a", "game_id": "g1", "tick": .int64(10), "score": 1.5, "flag": true, "note": .null,
         "meta": .document(["kind": "x", "level": .int32(3)]), "tags": .array(["r", "s"]), "at": .date(minute(30)), "created_at": .date(minute(0))],
        ["_id": "b", "game_id": "g1", "tick": .int64(20), "score": 2.5, "flag": false,
         "meta": .document(["kind": "y", "level": .int32(1)]), "at": .date(minute(10)), "created_at": .date(minute(1))],
        ["_id": "c", "game_id": "g2", "tick": .int32(30), "score": .double(20), "flag": .int64(1), "note": "text",
         "meta": .document(["kind": "x", "level": .int32(2)]), "tags": .array(["r"]), "at": .date(minute(20)), "created_at": .date(minute(2))],
        ["_id": "d", "game_id": "g2", "tick": .int64(40), "score": .double(-1), "flag": true, "note": .document(["a": 1]),
         "we'ird": 1, "at": "not a date", "created_at": .date(minute(3))],
        ["_id": "e", "game_id": "'); DROP TABLE games; --", "tick": .int64(50), "created_at": "not a date"],
    ]

    @Test(arguments: [
        (DocumentFilter.all, ["a", "b", "c", "d", "e"]),
        (.ids(["c", "a", "zzz"]), ["a", "c"]),
        (.ids([]), []),
        (.idAfter("b"), ["c", "d", "e"]),
        (.idAfter(""), ["a", "b", "c", "d", "e"]),
        (.equals("_id", "b"), ["b"]),
        (.equals("_id", 1), []),
        (.equals("game_id", "g1"), ["a", "b"]),
        (.equals("game_id", "'); DROP TABLE games; --"), ["e"]),
        (.equals("tick", .int64(20)), ["b"]),
        (.equals("tick", .int32(30)), ["c"]),
        (.equals("tick", .double(40)), ["d"]),
        (.equals("score", .int64(20)), ["c"]),
        (.equals("score", 1.5), ["a"]),
        (.equals("flag", true), ["a", "d"]),
        (.equals("flag", false), ["b"]),
        (.equals("flag", 1), ["c"]),
        (.equals("note", .null), ["a", "b", "e"]),
        (.equals("note", "text"), ["c"]),
        (.equals("note", .document(["a": 1])), ["d"]),
        (.equals("meta.kind", "x"), ["a", "c"]),
        (.equals("meta.level", .int64(1)), ["b"]),
        (.equals("meta", .document(["kind": "y", "level": .int32(1)])), ["b"]),
        (.equals("meta", .document(["level": .int32(1), "kind": "y"])), []),
        (.equals("tags", .array(["r"])), ["c"]),
        (.equals("at", .date(SQLiteStoreTests.minute(20))), ["c"]),
        (.equals("created_at", .date(SQLiteStoreTests.minute(1))), ["b"]),
        (.equals("created_at", "not a date"), ["e"]),
        (.equals("we'ird", 1), ["d"]),
        (.dateRange("created_at", from: SQLiteStoreTests.minute(1), to: SQLiteStoreTests.minute(3)), ["b", "c"]),
        (.dateRange("created_at", from: SQLiteStoreTests.minute(2), to: nil), ["c", "d"]),
        (.dateRange("created_at", from: nil, to: SQLiteStoreTests.minute(1)), ["a"]),
        (.dateRange("created_at", from: nil, to: nil), ["a", "b", "c", "d", "e"]),
        (.dateRange("at", from: SQLiteStoreTests.minute(10), to: SQLiteStoreTests.minute(30)), ["b", "c"]),
        (.dateRange("at", from: SQLiteStoreTests.minute(0), to: nil), ["a", "b", "c"]),
        (.and([.equals("game_id", "g1"), .dateRange("created_at", from: SQLiteStoreTests.minute(1), to: nil)]), ["b"]),
        (.and([.equals("flag", true), .and([.equals("meta.kind", "x")])]), ["a"]),
        (.and([]), ["a", "b", "c", "d", "e"]),
    ])
    func findTranslatesEveryFilter(filter: DocumentFilter, expected: [String]) async throws {
        try await withStore { store, _ async throws in
            #expect(try await store.insert(Self.sample, into: .games).written == Self.sample.count)
            let found = try await store.find(.games, where: filter, sort: nil, limit: nil)
            #expect(found.compactMap { $0["_id"]?.stringValue } == expected)
            #expect(try await store.count(.games, where: filter) == expected.count)
        }
    }

    @Test func findSortsAndLimits() async throws {
        try await withStore { store, _ async throws in
            _ = try await store.insert(Self.sample.shuffled(), into: .games)
            func ids(_ sort: DocumentSort?, _ limit: Int?, _ filter: DocumentFilter = .all) async throws -> [String] {
                try await store.find(.games, where: filter, sort: sort, limit: limit).compactMap { $0["_id"]?.stringValue }
            }
            #expect(try await ids(DocumentSort("tick"), nil) == ["a", "b", "c", "d", "e"])
            #expect(try await ids(DocumentSort("tick", ascending: false), 2) == ["e", "d"])
            #expect(try await ids(DocumentSort("_id", ascending: false), 1) == ["e"])
            #expect(try await ids(DocumentSort("created_at", ascending: false), 3, .dateRange("created_at", from: Self.minute(0), to: nil)) == ["d", "c", "b"])
            #expect(try await ids(DocumentSort("meta.level"), nil, .equals("meta.kind", "x")) == ["c", "a"])
            #expect(try await ids(DocumentSort("at"), nil, .dateRange("at", from: Self.minute(0), to: nil)) == ["b", "c", "a"])
            #expect(try await ids(nil, 0) == [])
        }
    }

    @Test func readsOfAMissingCollectionFindNothingAndCreateNothing() async throws {
        try await withStore { store, _ async throws in
            let missing = CollectionName("nothing_here")
            #expect(try await store.find(missing, where: .all, sort: DocumentSort("x"), limit: 5) == [])
            #expect(try await store.count(missing, where: .equals("a", 1)) == 0)
            #expect(try await store.delete(from: missing, where: .all, limit: 10) == 0)
            #expect(try await store.schema.indexes(of: missing) == [])
            try await store.releaseLease("nobody", owner: "me")
            #expect(try await store.schema.collectionNames() == [])
        }
    }

    @Test func collectionNamesAreQuotedOrRefused() async throws {
        try await withStore { store, _ async throws in
            let odd = CollectionName("we\"ird name; --")
            #expect(try await store.insert([["_id": "1"]], into: odd).written == 1)
            #expect(try await store.find(odd, where: .all, sort: nil, limit: nil) == [["_id": "1"]])
            #expect(try await store.schema.collectionNames() == [odd.rawValue])
            for name in ["", "sqlite_master", "SQLITE_x", "_ted_indexes"] {
                let error = await #expect(throws: StoreError.self) { try await store.count(CollectionName(name), where: .all) }
                #expect(error?.kind == .operationFailed)
            }
            let error = await #expect(throws: StoreError.self) { try await store.count(odd, where: .equals("a.\"b", 1)) }
            #expect(error?.kind == .operationFailed)
        }
    }

    @Test func anUnreadableRowIsReportedAsCorrupt() async throws {
        try await withStore { store, _ async throws in
            // A table in the document layout (a collection ted keeps no columns for).
            let scratch = CollectionName("scratch")
            _ = try await store.insert([["_id": "good"]], into: scratch)
            _ = try await store.connection.run { database throws(StoreError) in
                try database.execute(#"INSERT INTO "scratch" (_id, created_at, doc) VALUES ('bad', NULL, '{"x":')"#)
            }
            let error = await #expect(throws: StoreError.self) { try await store.find(scratch, where: .all, sort: nil, limit: nil) }
            #expect(error?.kind == .corrupt)
            #expect(error?.message.contains("bad") == true)
        }
    }

    // MARK: Deletes

    @Test func deleteRemovesAtMostLimitOldestFirst() async throws {
        try await withStore { store, _ async throws in
            let documents = (0..<6).map { Self.record("r\($0)", minute: $0, game: $0 % 2 == 0 ? "even" : "odd") }
            _ = try await store.insert(documents.shuffled(), into: .tickSamples)
            #expect(try await store.delete(from: .tickSamples, where: .all, limit: 0) == 0)
            #expect(try await store.delete(from: .tickSamples, where: .all, limit: 2) == 2)
            #expect(try await store.find(.tickSamples, where: .all, sort: DocumentSort("created_at"), limit: nil).compactMap { $0["_id"]?.stringValue }
                    == ["r2", "r3", "r4", "r5"])
            #expect(try await store.delete(from: .tickSamples, where: .equals("game_id", "odd"), limit: 1) == 1)
            #expect(try await store.delete(from: .tickSamples, where: .dateRange("created_at", from: nil, to: Self.minute(5)), limit: 100) == 2)
            #expect(try await store.find(.tickSamples, where: .all, sort: nil, limit: nil).compactMap { $0["_id"]?.stringValue } == ["r5"])
        }
    }

    // MARK: Hourly metrics

    @Test func aggregateHourComputesTheMetricsInSQL() async throws {
        try await withStore { store, _ async throws in
            let start = Self.minute(60), end = Self.minute(120), later = Self.minute(180)
            _ = try await store.insert([
                ["_id": "g-before", "created_at": .date(Self.minute(60).addingTimeInterval(-0.001))],
                ["_id": "g-start", "created_at": .date(start)],
                ["_id": "g-in", "created_at": .date(Self.minute(119))],
                ["_id": "g-end", "created_at": .date(end)],
            ], into: .games)
            _ = try await store.insert([
                // First hour: an even number of e40s (median of the two middle ones) and windows at exactly 40/80/120.
                Self.prediction("p1", at: Self.minute(61), e40: 0.25, absoluteError: 40),
                Self.prediction("p2", at: Self.minute(62), e40: 2.0, absoluteError: 121),
                Self.prediction("p3", at: Self.minute(63), e40: 0.5, absoluteError: 80),
                Self.prediction("p4", at: Self.minute(64), e40: 1.0, absoluteError: 120),
                ["_id": "p5", "created_at": .date(Self.minute(65)), "resolved": false, "error_metrics": .null],
                Self.prediction("p-old", at: Self.minute(59), e40: 100, absoluteError: 0),
                // Second hour: an odd number of e40s, and one resolved without metrics.
                Self.prediction("q1", at: Self.minute(121), e40: 0.5, absoluteError: 0),
                Self.prediction("q2", at: Self.minute(122), e40: 4.0, absoluteError: 200),
                Self.prediction("q3", at: Self.minute(123), e40: 0.125, absoluteError: 80),
                ["_id": "q4", "created_at": .date(Self.minute(124)), "resolved": true],
            ], into: .predictions)
            _ = try await store.insert([
                Self.sideBet("s1", "BET", ev: 0.2, outcome: "WON", payout: 1.5),
                Self.sideBet("s2", "BET", ev: 0.1, outcome: "LOST", payout: -1.0),
                Self.sideBet("s3", "BET", ev: -0.05, outcome: nil, payout: nil),
                Self.sideBet("s4", "SKIP", ev: 0.3, outcome: "WON", payout: 9),
                Self.sideBet("s5", "WAIT", ev: 0, outcome: nil, payout: nil),
            ], into: .sideBets)

            #expect(try await store.aggregateHour(start: start, end: end).document == Self.metrics(
                start: start, end: end, games: 2, made: 5, resolved: 4,
                median: 0.75, meanE40: 0.9375, meanAbsoluteError: 90.25, within: (1, 2, 3),
                sideBets: [5, 3, 3, 1, 1], netPayout: 0.5, roi: 25))
            #expect(try await store.aggregateHour(start: end, end: later).document == Self.metrics(
                start: end, end: later, games: 1, made: 4, resolved: 4,
                median: 0.5, meanE40: 4.625 / 3, meanAbsoluteError: 280.0 / 3, within: (1, 2, 2),
                sideBets: [0, 0, 0, 0, 0], netPayout: 0, roi: nil))
            #expect(try await store.aggregateHour(start: later, end: Self.minute(240)).document == Self.metrics(
                start: later, end: Self.minute(240), games: 0, made: 0, resolved: 0,
                median: nil, meanE40: nil, meanAbsoluteError: nil, within: (0, 0, 0),
                sideBets: [0, 0, 0, 0, 0], netPayout: 0, roi: nil))
        }
    }

    @Test func aggregateHourOfAnEmptyDatabaseIsZero() async throws {
        try await withStore { store, _ async throws in
            let metrics = try await store.aggregateHour(start: Self.minute(0), end: Self.minute(60)).document
            #expect(metrics["games_analyzed"] == .int64(0))
            #expect(metrics.value(at: "prediction_metrics.median_e40") == .null)
            #expect(metrics.value(at: "side_bet_metrics.roi_percentage") == .null)
            #expect(try await store.schema.collectionNames() == [])
        }
    }

    // MARK: Leases

    @Test func leasesAreSharedByTwoStoresOnOneFile() async throws {
        try await withStore { first, path async throws in
            let second = try SQLiteStore(path: path, logger: Logger(label: "second"))
            let t0 = Self.minute(0)
            #expect(try await first.acquireLease("flush", owner: "A", now: t0, expiresAt: t0 + 30))
            #expect(try await !second.acquireLease("flush", owner: "B", now: t0 + 10, expiresAt: t0 + 40))
            #expect(try await first.acquireLease("flush", owner: "A", now: t0 + 20, expiresAt: t0 + 50))
            #expect(try await !second.acquireLease("flush", owner: "B", now: t0 + 49.999, expiresAt: t0 + 80))
            // Expired at exactly expires_at: another owner takes over.
            #expect(try await second.acquireLease("flush", owner: "B", now: t0 + 50, expiresAt: t0 + 80))
            let stored = try await first.find(.locks, where: .ids(["flush"]), sort: nil, limit: 1)
            #expect(stored == [["_id": "flush", "acquired_at": .date(t0 + 50), "expires_at": .date(t0 + 80), "owner": "B"]])
            // Releasing someone else's lease does nothing.
            try await first.releaseLease("flush", owner: "A")
            #expect(try await !first.acquireLease("flush", owner: "A", now: t0 + 60, expiresAt: t0 + 90))
            try await second.releaseLease("flush", owner: "B")
            #expect(try await first.acquireLease("flush", owner: "A", now: t0 + 61, expiresAt: t0 + 90))
            #expect(try await !second.acquireLease("flush", owner: "B", now: t0 + 62, expiresAt: t0 + 90))
            #expect(try await second.acquireLease("other", owner: "B", now: t0 + 62, expiresAt: t0 + 90))
            await second.close()
        }
    }

    @Test func exactlyOneOfManyRacingOwnersGetsTheLease() async throws {
        try await withStore { first, path async throws in
            let second = try SQLiteStore(path: path, logger: Logger(label: "second"))
            let now = Self.minute(0)
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for owner in 0..<16 {
                    let store = owner % 2 == 0 ? first : second
                    group.addTask { try await store.acquireLease("race", owner: "owner\(owner)", now: now, expiresAt: now + 30) }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(winners == 1)
            await second.close()
        }
    }

    // MARK: Schema

    @Test func schemaOperationsRoundTrip() async throws {
        try await withStore { store, _ async throws in
            let schema = store.schema
            #expect(try await schema.collectionNames() == [])
            try await schema.createCollection(.games, validator: ["$jsonSchema": .document(["required": .array(["created_at"])])])
            try await schema.createCollection(.games, validator: nil)
            try await schema.createCollection(.metricsHourly, validator: nil)
            #expect(try await schema.collectionNames() == ["games", "metrics_hourly"])

            let byCreation = IndexSpec(name: "created_at_1", keys: [("created_at", 1)])
            let compound = IndexSpec(name: "game_tick", keys: [("game_id", 1), ("tick", -1)], unique: true)
            let ttl = IndexSpec(name: "at_ttl", keys: [("meta.at", 1)], expireAfterSeconds: 3600)
            for index in [byCreation, compound, ttl, byCreation] { try await schema.createIndex(index, on: .games) }
            #expect(try await schema.indexes(of: .games) == [byCreation, compound, ttl])
            #expect(try await schema.indexes(of: .metricsHourly) == [])

            let clashes: [(IndexSpec, Int)] = [
                (IndexSpec(name: "created_at_1", keys: [("tick", 1)]), 86),
                (IndexSpec(name: "created_at_1", keys: [("created_at", 1)], unique: true), 85),
                (IndexSpec(name: "another", keys: [("created_at", 1)]), 85),
                (IndexSpec(name: "text", keys: [("body", 0)]), 0),
            ]
            for (index, code) in clashes {
                let error = await #expect(throws: StoreError.self) { try await schema.createIndex(index, on: .games) }
                #expect(error?.code == code)
            }

            // The real indexes are the ones the queries use.
            for (filter, index) in [
                (DocumentFilter.equals("game_id", "g1"), "games__game_tick"),
                (.dateRange("created_at", from: Self.minute(0), to: nil), "games__created_at_1"),
                (.dateRange("meta.at", from: Self.minute(0), to: Self.minute(1)), "games__at_ttl"),
            ] {
                #expect(try await Self.queryPlan(store, .games, filter).contains("USING INDEX \(index)"))
            }

            // createIndexes creates its collection, like MongoDB.
            try await schema.createIndex(byCreation, on: .predictions)
            #expect(try await schema.collectionNames() == ["games", "metrics_hourly", "predictions"])

            try await schema.dropIndex(named: "game_tick", on: .games)
            try await schema.dropIndex(named: "game_tick", on: .games)
            try await schema.dropIndex(named: "never", on: CollectionName("nowhere"))
            #expect(try await schema.indexes(of: .games) == [byCreation, ttl])
            #expect(try await !Self.queryPlan(store, .games, .equals("game_id", "g1")).contains("USING INDEX"))

            try await schema.dropCollection(.games)
            try await schema.dropCollection(.games)
            #expect(try await schema.collectionNames() == ["metrics_hourly", "predictions"])
            #expect(try await schema.indexes(of: .games) == [])
            #expect(try await schema.indexes(of: .predictions) == [byCreation])
            #expect(try await schema.databaseSizeBytes() > 0)
        }
    }

    // MARK: Lifecycle

    @Test func dataAndIndexesSurviveReopening() async throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("a/b/ted.sqlite").path
        let index = IndexSpec(name: "game_id_1", keys: [("game_id", 1)])

        let store = try SQLiteStore(path: path, logger: Logger(label: "test"))
        #expect(store.backend == .sqlite && store.location == path)
        try await store.ping()
        _ = try await store.insert(Self.sample, into: .games)
        try await store.schema.createIndex(index, on: .games)
        await store.close()
        await store.close()
        let error = await #expect(throws: StoreError.self) { try await store.count(.games, where: .all) }
        #expect(error?.kind == .unavailable)

        let reopened = try SQLiteStore(path: path, logger: Logger(label: "test"))
        #expect(try await reopened.find(.games, where: .all, sort: nil, limit: nil) == Self.sample)
        #expect(try await reopened.schema.indexes(of: .games) == [index])
        await reopened.close()
    }

    @Test func aFileThatIsNotADatabaseIsRefused() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("garbage.sqlite").path
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: StoreError.self) { try SQLiteStore(path: path, logger: Logger(label: "test")) }
        #expect(error?.kind == .corrupt)
    }

    // MARK: Helpers

    static func minute(_ n: Int) -> Date { Date(timeIntervalSince1970: 1_700_000_000 + Double(n) * 60) }

    static func record(_ id: String, minute n: Int, game: String = "g") -> Document {
        ["_id": .string(id), "game_id": .string(game), "tick": .int64(Int64(n)), "price": 1.25, "created_at": .date(minute(n))]
    }

    static func prediction(_ id: String, at: Date, e40: Double, absoluteError: Int64) -> Document {
        ["_id": .string(id), "created_at": .date(at), "resolved": true,
         "error_metrics": .document(["e40": .double(e40), "absolute_error": .int64(absoluteError)])]
    }

    static func sideBet(_ id: String, _ recommendation: String, ev: Double, outcome: String?, payout: Double?) -> Document {
        ["_id": .string(id), "created_at": .date(minute(90)), "recommendation": .string(recommendation), "expected_value": .double(ev),
         "actual_outcome": outcome.map(DocumentValue.string) ?? .null, "payout": payout.map(DocumentValue.double) ?? .null]
    }

    static func metrics(
        start: Date, end: Date, games: Int64, made: Int64, resolved: Int64, median: Double?, meanE40: Double?,
        meanAbsoluteError: Double?, within: (Int64, Int64, Int64), sideBets: [Int64], netPayout: Double, roi: Double?
    ) -> Document {
        func number(_ value: Double?) -> DocumentValue { value.map(DocumentValue.double) ?? .null }
        return [
            "hour_start": .date(start), "hour_end": .date(end), "games_analyzed": .int64(games),
            "predictions_made": .int64(made), "predictions_resolved": .int64(resolved),
            "prediction_metrics": .document([
                "median_e40": number(median), "mean_e40": number(meanE40), "mean_absolute_error": number(meanAbsoluteError),
                "within_1_window": .int64(within.0), "within_2_windows": .int64(within.1), "within_3_windows": .int64(within.2),
            ]),
            "side_bet_metrics": .document([
                "total_recommended": .int64(sideBets[0]), "bets_placed": .int64(sideBets[1]), "positive_ev_count": .int64(sideBets[2]),
                "bets_won": .int64(sideBets[3]), "bets_lost": .int64(sideBets[4]), "net_payout": .double(netPayout),
                "roi_percentage": number(roi),
            ]),
        ]
    }

    /// SQLite's plan for the query `find` runs with `filter`.
    static func queryPlan(_ store: SQLiteStore, _ collection: CollectionName, _ filter: DocumentFilter) async throws -> String {
        let table = try SQLiteTable(collection)
        let query = try SQLiteFilter(filter, on: table)
        let sql = "EXPLAIN QUERY PLAN SELECT \(table.selectList) FROM \(table.quoted) WHERE \(query.sql)"
        return try await store.connection.run { database throws(StoreError) in
            try database.rows(sql, query.bindings) { $0.text(3) ?? "" }.joined(separator: "; ")
        }
    }

    /// A store on a new file (in a directory the store creates), closed afterwards.
    func withStore(_ body: (SQLiteStore, String) async throws -> Void) async throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("data/ted.sqlite").path
        let store = try SQLiteStore(path: path, logger: Logger(label: "test"))
        do {
            try await body(store, path)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }
}
