import Foundation
import Logging
import Testing
@testable import TEDStore

/// The MongoDB store against the server at `TED_TEST_MONGO_URL`, plus the pure BSON codec.
@Suite struct MongoStoreTests {
    // MARK: - BSON codec (no server)

    static let everyType: Document = [
        "_id": "doc-1",
        "double": .double(-12.5),
        "string": .string("héllo \u{1F680} with a \0 inside"),
        "empty": .string(""),
        "document": .document(["nested": .document(["deep": .int32(3)]), "flag": false]),
        "array": .array([.int32(1), "two", .double(3.5), .null, .array([]), .document(["k": true])]),
        "true": true,
        "false": false,
        "date": .date(Date(timeIntervalSince1970: 1_714_557_600.123)),
        "before_1970": .date(Date(timeIntervalSince1970: -86_400)),
        "null": .null,
        "int32": .int32(Int32.min),
        "int64": .int64(Int64.max),
    ]

    @Test func bsonRoundTripsEveryType() throws {
        let bytes = try BSONCodec.encode(Self.everyType)
        let decoded = try BSONCodec.decode(bytes)
        #expect(decoded.keys == Self.everyType.keys)
        for field in Self.everyType.fields where field.key != "date" {
            #expect(decoded[field.key] == field.value, "\(field.key)")
        }
        // Dates are stored in milliseconds.
        let date = try #require(decoded["date"]?.dateValue)
        #expect((date.timeIntervalSince1970 * 1000).rounded() == 1_714_557_600_123)
        #expect(try BSONCodec.encode(decoded) == bytes)
    }

    @Test func bsonMatchesTheSpecificationBytes() throws {
        // {"a": int32 1, "b": true}: length, element 0x10 "a" 1, element 0x08 "b" 1, terminator.
        let expected: [UInt8] = [16, 0, 0, 0, 0x10, 0x61, 0, 1, 0, 0, 0, 0x08, 0x62, 0, 1, 0]
        #expect(try BSONCodec.encode(["a": .int32(1), "b": true]) == expected)
    }

    @Test func bsonDecodesObjectIDAsHex() throws {
        let oid: [UInt8] = [0x65, 0x0f, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x70, 0x81, 0x92, 0xa3]
        let bytes = Self.framed([0x07, 0x5f, 0x69, 0x64, 0] + oid)
        #expect(try BSONCodec.decode(bytes) == ["_id": "650f1a2b3c4d5e6f708192a3"])
    }

    @Test func bsonRejectsUnsupportedTypesInStoredDocuments() throws {
        // {"d": decimal128 0, "n": int32 7}
        let bytes = Self.framed([0x13, 0x64, 0] + [UInt8](repeating: 0, count: 16) + [0x10, 0x6e, 0, 7, 0, 0, 0])
        #expect(Self.syncError { try BSONCodec.decode(bytes) }?.kind == .corrupt)
        // Replies skip what they cannot represent and keep the rest.
        #expect(try BSONCodec.decodeReply(bytes) == ["n": .int32(7)])
    }

    @Test func bsonRejectsEveryTruncation() throws {
        let bytes = try BSONCodec.encode(Self.everyType)
        for length in 0..<bytes.count {
            #expect(Self.syncError { try BSONCodec.decode(Array(bytes.prefix(length))) }?.kind == .corrupt, "prefix \(length)")
        }
        // A truncated copy whose length prefix was fixed up still fails inside.
        let cut = Self.framed(Array(bytes[4..<(bytes.count / 2)]))
        #expect(Self.syncError { try BSONCodec.decode(cut) }?.kind == .corrupt)
    }

    @Test func bsonSurvivesHostileBytes() throws {
        let bytes = try BSONCodec.encode(Self.everyType)
        var generator = SplitMix64(seed: 42)
        for _ in 0..<5000 {
            var mutated = bytes
            for _ in 0..<Int(generator.next() % 4 + 1) {
                mutated[Int(generator.next() % UInt64(mutated.count))] = UInt8(truncatingIfNeeded: generator.next())
            }
            // Either outcome is fine; crashing or reading out of bounds is not.
            _ = try? BSONCodec.decode(mutated)
            _ = try? BSONCodec.decodeReply(mutated)
        }
        // Nesting beyond the depth limit: each level is {"a": {...}}.
        var deep = Self.framed([])
        for _ in 0...BSONCodec.maxDepth {
            deep = Self.framed([0x03, 0x61, 0] + deep)
        }
        #expect(Self.syncError { try BSONCodec.decode(deep) }?.kind == .corrupt)
    }

    @Test func bsonRefusesKeysWithNUL() {
        #expect(Self.syncError { try BSONCodec.encode(["a\0b": true]) } != nil)
    }

    // MARK: - Writes

    @Test func insertTwiceCountsAlreadyStored() async throws {
        try await withStore { store async throws in
            let documents = (1...3).map { Self.game("g\($0)", minute: $0) }
            #expect(try await store.insert(documents, into: .games) == WriteOutcome(written: 3))
            #expect(try await store.insert(documents, into: .games) == WriteOutcome(alreadyStored: 3))
            #expect(try await store.count(.games, where: .all) == 3)
            let mixed = documents + [Self.game("g4", minute: 4)]
            #expect(try await store.insert(mixed, into: .games) == WriteOutcome(written: 1, alreadyStored: 3))
            #expect(try await store.count(.games, where: .all) == 4)
            #expect(try await store.insert([], into: .games) == WriteOutcome())
        }
    }

    @Test func upsertReplaces() async throws {
        try await withStore { store async throws in
            var first = Self.game("g1", minute: 1)
            #expect(try await store.upsert([first, Self.game("g2", minute: 2)], into: .games).written == 2)
            first["game_id"] = "replaced"
            first["extra"] = .int32(9)
            #expect(try await store.upsert([first], into: .games) == WriteOutcome(written: 1))
            let stored = try await store.find(.games, where: .ids(["g1"]), sort: nil, limit: nil)
            #expect(stored == [first])
            #expect(try await store.count(.games, where: .all) == 2)
        }
    }

    @Test func insertReportsOtherWriteErrors() async throws {
        try await withStore { store async throws in
            let validator: Document = ["$jsonSchema": .document(["bsonType": "object", "required": .array(["game_id"])])]
            try await store.createCollection(.games, validator: validator)
            let error = await Self.storeError { _ = try await store.insert([["_id": "no-game-id"]], into: .games) }
            #expect(error?.kind == .operationFailed)
        }
    }

    // MARK: - Reads and deletes

    @Test func findAppliesEveryFilterKindSortAndLimit() async throws {
        try await withStore { store async throws in
            let documents = (1...6).map { Self.game("g\($0)", minute: $0 * 10) }
            _ = try await store.insert(documents, into: .games)

            let all = try await store.find(.games, where: .all, sort: DocumentSort("_id"), limit: nil)
            #expect(all == documents)
            let byIDs = try await store.find(.games, where: .ids(["g2", "g5", "missing"]), sort: DocumentSort("_id"), limit: nil)
            #expect(byIDs.map(\.id) == ["g2", "g5"])
            #expect(try await store.count(.games, where: .ids([])) == 0)
            #expect(try await store.count(.games, where: .equals("parity", "even")) == 3)
            #expect(try await store.find(.games, where: .equals("summary.bucket", .int64(1)), sort: DocumentSort("_id"), limit: nil)
                .map(\.id) == ["g3", "g4", "g5"])

            // [10:20, 10:40): g2 (10:20) and g3 (10:30), not g4 (10:40).
            let range = DocumentFilter.dateRange("created_at", from: Self.at(minute: 20), to: Self.at(minute: 40))
            #expect(try await store.find(.games, where: range, sort: DocumentSort("_id"), limit: nil).map(\.id) == ["g2", "g3"])
            #expect(try await store.count(.games, where: .dateRange("created_at", from: Self.at(minute: 40), to: nil)) == 3)
            #expect(try await store.count(.games, where: .dateRange("created_at", from: nil, to: Self.at(minute: 40))) == 3)
            #expect(try await store.count(.games, where: .and([range, .equals("parity", "even")])) == 1)
            #expect(try await store.count(.games, where: .and([])) == 6)

            let newestTwo = try await store.find(.games, where: .all, sort: DocumentSort("created_at", ascending: false), limit: 2)
            #expect(newestTwo.map(\.id) == ["g6", "g5"])
            #expect(try await store.find(.games, where: .all, sort: nil, limit: 0).isEmpty)
        }
    }

    @Test func deleteRemovesOldestFirstUpToTheLimit() async throws {
        try await withStore { store async throws in
            let minutes = [50, 10, 40, 20, 60, 30]
            _ = try await store.insert(minutes.map { Self.game("g\($0)", minute: $0) }, into: .games)
            #expect(try await store.delete(from: .games, where: .all, limit: 2) == 2)
            let left = try await store.find(.games, where: .all, sort: DocumentSort("created_at"), limit: nil)
            #expect(left.map(\.id) == ["g30", "g40", "g50", "g60"])
            #expect(try await store.delete(from: .games, where: .equals("parity", "even"), limit: 10) == 2)
            #expect(try await store.find(.games, where: .all, sort: DocumentSort("created_at"), limit: nil).map(\.id) == ["g30", "g50"])
            #expect(try await store.delete(from: .games, where: .all, limit: 0) == 0)
            #expect(try await store.delete(from: .games, where: .ids(["missing"]), limit: 5) == 0)
        }
    }

    // MARK: - Hourly metrics

    @Test func aggregateHourComputesTheMetricsInTheDatabase() async throws {
        try await withStore { store async throws in
            let hour = Self.at(minute: 0)
            let next = Self.at(minute: 60)
            let games = [0, 30, 59, -1, 60].map { Self.game("g\($0)", minute: $0) }
            _ = try await store.insert(games, into: .games)
            _ = try await store.insert([
                // This hour: four resolved (an even count) at 40/80/120/121 ticks, one unresolved.
                Self.prediction("p1", minute: 1, e40: 0.9, absoluteError: 40),
                Self.prediction("p2", minute: 2, e40: 0.1, absoluteError: 80),
                Self.prediction("p3", minute: 3, e40: 0.6, absoluteError: 120),
                Self.prediction("p4", minute: 4, e40: 0.2, absoluteError: 121),
                Self.prediction("p5", minute: 5, e40: nil, absoluteError: nil),
                // The next hour: three resolved (an odd count).
                Self.prediction("p6", minute: 60, e40: 0.9, absoluteError: 10),
                Self.prediction("p7", minute: 90, e40: 0.1, absoluteError: 50),
                Self.prediction("p8", minute: 119, e40: 0.2, absoluteError: 200),
                // Resolved without metrics: counted as resolved, left out of the median, means and windows.
                ["_id": "p9", "created_at": .date(Self.at(minute: 100)), "resolved": true],
            ], into: .predictions)
            _ = try await store.insert([
                Self.sideBet("b1", minute: 1, recommendation: "BET", expectedValue: 0.2, outcome: "WON", payout: 4.0),
                Self.sideBet("b2", minute: 2, recommendation: "BET", expectedValue: 0.1, outcome: "LOST", payout: -1.0),
                Self.sideBet("b3", minute: 3, recommendation: "BET", expectedValue: -0.1, outcome: "LOST", payout: -1.0),
                Self.sideBet("b4", minute: 4, recommendation: "BET", expectedValue: 0.3, outcome: nil, payout: nil),
                Self.sideBet("b5", minute: 5, recommendation: "SKIP", expectedValue: -0.2, outcome: "WON", payout: 4.0),
                Self.sideBet("b6", minute: 61, recommendation: "BET", expectedValue: 0.5, outcome: "WON", payout: 3.0),
            ], into: .sideBets)

            let metrics = try await store.aggregateHour(start: hour, end: next).document
            #expect(metrics.keys == [
                "hour_start", "hour_end", "games_analyzed", "predictions_made", "predictions_resolved",
                "prediction_metrics", "side_bet_metrics",
            ])
            #expect(metrics["hour_start"] == .date(hour))
            #expect(metrics["hour_end"] == .date(next))
            #expect(metrics["games_analyzed"] == .int64(3))
            #expect(metrics["predictions_made"] == .int64(5))
            #expect(metrics["predictions_resolved"] == .int64(4))
            let p = try #require(metrics["prediction_metrics"]?.documentValue)
            Self.expectClose(p["median_e40"], 0.4)  // (0.2 + 0.6) / 2
            Self.expectClose(p["mean_e40"], 0.45)
            Self.expectClose(p["mean_absolute_error"], 90.25)
            #expect(p["within_1_window"] == .int64(1))
            #expect(p["within_2_windows"] == .int64(2))
            #expect(p["within_3_windows"] == .int64(3))
            let s = try #require(metrics["side_bet_metrics"]?.documentValue)
            #expect(s["total_recommended"] == .int64(5))
            #expect(s["bets_placed"] == .int64(4))
            #expect(s["positive_ev_count"] == .int64(3))
            #expect(s["bets_won"] == .int64(1))
            #expect(s["bets_lost"] == .int64(2))
            #expect(s["net_payout"] == .double(2.0))
            Self.expectClose(s["roi_percentage"], 200.0 / 3)

            let nextMetrics = try await store.aggregateHour(start: next, end: Self.at(minute: 120)).document
            #expect(nextMetrics["games_analyzed"] == .int64(1))
            #expect(nextMetrics["predictions_made"] == .int64(4))
            #expect(nextMetrics["predictions_resolved"] == .int64(4))
            let odd = try #require(nextMetrics["prediction_metrics"]?.documentValue)
            Self.expectClose(odd["median_e40"], 0.2)
            Self.expectClose(odd["mean_e40"], 0.4)
            #expect(odd["within_1_window"] == .int64(1))
            #expect(odd["within_3_windows"] == .int64(2))
            Self.expectClose(nextMetrics["side_bet_metrics"]?.documentValue?["roi_percentage"], 300)

            let empty = try await store.aggregateHour(start: Self.at(minute: -120), end: Self.at(minute: -60)).document
            #expect(empty["games_analyzed"] == .int64(0))
            #expect(empty["predictions_made"] == .int64(0))
            let none = try #require(empty["prediction_metrics"]?.documentValue)
            #expect(none["median_e40"] == .null)
            #expect(none["mean_e40"] == .null)
            #expect(none["mean_absolute_error"] == .null)
            #expect(none["within_3_windows"] == .int64(0))
            let noBets = try #require(empty["side_bet_metrics"]?.documentValue)
            #expect(noBets["net_payout"] == .double(0))
            #expect(noBets["roi_percentage"] == .null)
        }
    }

    // MARK: - Leases

    @Test func leasesExcludeOtherOwnersUntilExpiry() async throws {
        try await withStore { store async throws in
            func at(_ second: Double) -> Date { Self.at(minute: 0).addingTimeInterval(second) }
            #expect(try await store.acquireLease("flush", owner: "a", now: at(0), expiresAt: at(30)))
            #expect(try await !store.acquireLease("flush", owner: "b", now: at(10), expiresAt: at(40)))
            #expect(try await store.acquireLease("flush", owner: "a", now: at(20), expiresAt: at(50)))  // renew
            #expect(try await !store.acquireLease("flush", owner: "b", now: at(40), expiresAt: at(70)))
            #expect(try await store.acquireLease("flush", owner: "b", now: at(50), expiresAt: at(80)))  // expired: takeover
            #expect(try await !store.acquireLease("flush", owner: "a", now: at(55), expiresAt: at(85)))
            #expect(try await store.acquireLease("other", owner: "a", now: at(55), expiresAt: at(85)))

            try await store.releaseLease("flush", owner: "a")  // not a's: no effect
            #expect(try await !store.acquireLease("flush", owner: "a", now: at(56), expiresAt: at(86)))
            try await store.releaseLease("flush", owner: "b")
            #expect(try await store.acquireLease("flush", owner: "a", now: at(57), expiresAt: at(87)))
            let lease = try #require(try await store.find(.locks, where: .ids(["flush"]), sort: nil, limit: nil).first)
            #expect(lease["owner"] == "a")
            #expect(lease["expires_at"] == .date(at(87)))
        }
    }

    // MARK: - Schema

    @Test func schemaOperations() async throws {
        try await withStore { store async throws in
            let schema = store.schema
            try await schema.createCollection(.tickSamples, validator: nil)
            try await schema.createCollection(.tickSamples, validator: nil)
            try await schema.createCollection(.games, validator: nil)
            #expect(try await schema.collectionNames() == ["games", "tick_samples"])

            let unique = IndexSpec(name: "game_tick", keys: [("game_id", 1), ("tick", -1)], unique: true)
            let ttl = IndexSpec(name: "created_ttl", keys: [("created_at", 1)], expireAfterSeconds: 3600)
            try await schema.createIndex(unique, on: .tickSamples)
            try await schema.createIndex(ttl, on: .tickSamples)
            try await schema.createIndex(ttl, on: .tickSamples)
            #expect(try await schema.indexes(of: .tickSamples).sorted { $0.name < $1.name } == [ttl, unique])
            #expect(try await schema.indexes(of: CollectionName("missing")).isEmpty)

            // Created now: the TTL index above would let the server's TTL monitor delete an older sample mid-test.
            let sample: Document = ["_id": "s1", "game_id": "g", "tick": .int64(1), "created_at": .date(Date())]
            _ = try await store.insert([sample], into: .tickSamples)
            // A duplicate on a secondary unique key is the same record under another `_id`: already stored.
            var clash = sample
            clash["_id"] = "s2"
            #expect(try await store.insert([clash], into: .tickSamples) == WriteOutcome(alreadyStored: 1))
            #expect(try await store.count(.tickSamples, where: .all) == 1)
            #expect(try await schema.databaseSizeBytes() > 0)

            try await schema.dropIndex(named: "game_tick", on: .tickSamples)
            try await schema.dropIndex(named: "game_tick", on: .tickSamples)
            #expect(try await schema.indexes(of: .tickSamples) == [ttl])

            try await schema.dropCollection(.tickSamples)
            try await schema.dropCollection(.tickSamples)
            #expect(try await schema.collectionNames() == ["games"])
        }
    }

    @Test func pingAndLocation() async throws {
        try await withStore { store async throws in
            try await store.ping()
            #expect(store.backend == .mongodb)
            #expect(store.location.hasSuffix("/" + store.database))
        }
    }

    // MARK: - Failures

    @Test func unreachableServerIsUnavailableQuickly() async throws {
        let password = "Sup3rS3cretPw"
        // Port 1 on loopback: nothing listens there.
        let store = try MongoStore(
            url: "mongodb://ted:\(password)@127.0.0.1:1/?authSource=admin", database: "ted", logger: Logger(label: "test"))
        #expect(!store.location.contains(password))
        let clock = ContinuousClock()
        let started = clock.now
        let error = await Self.storeError { try await store.ping() }
        // The store sets a 2 s server-selection timeout; libmongoc's own default would wait 30 s. The bound sits
        // between the two, with room for a loaded machine (9 s were seen with four builds running).
        #expect(clock.now - started < .seconds(20))
        #expect(error?.kind == .unavailable)
        #expect(error.map { !$0.message.contains(password) } == true)
        let insertError = await Self.storeError { _ = try await store.insert([["_id": "x"]], into: .games) }
        #expect(insertError?.kind == .unavailable)
        await store.close()
        await store.close()
        #expect(await Self.storeError { try await store.ping() }?.kind == .unavailable)
    }

    @Test func badURLIsAConfigurationError() {
        let password = "Sup3rS3cretPw"
        let error = Self.syncError { _ = try MongoStore(url: "mongodb://ted:\(password)@", database: "ted", logger: Logger(label: "test")) }
        #expect(error?.kind == .configuration)
        #expect(error.map { !$0.message.contains(password) } == true)
        let badName = Self.syncError { _ = try MongoStore(url: "mongodb://127.0.0.1:1", database: "a.b", logger: Logger(label: "test")) }
        #expect(badName?.kind == .configuration)
    }

    // MARK: - Fixtures

    /// A document around raw element bytes: length prefix and terminator.
    static func framed(_ elements: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: Int32(elements.count + 5).littleEndian, Array.init) + elements + [0]
    }

    /// 2024-05-01T10:00:00Z plus `minute` minutes.
    static func at(minute: Int) -> Date { Date(timeIntervalSince1970: 1_714_557_600 + Double(minute) * 60) }

    static func game(_ id: String, minute: Int) -> Document {
        [
            "_id": .string(id), "game_id": .string(id), "parity": minute / 10 % 2 == 0 ? "even" : "odd",
            "summary": .document(["bucket": .int64(Int64(minute / 30))]),
            "created_at": .date(at(minute: minute)),
        ]
    }

    static func prediction(_ id: String, minute: Int, e40: Double?, absoluteError: Int?) -> Document {
        let metrics: DocumentValue = e40.map { e40 in
            .document(["e40": .double(e40), "absolute_error": .int64(Int64(absoluteError ?? 0))])
        } ?? .null
        return [
            "_id": .string(id), "game_id": "g", "created_at": .date(at(minute: minute)),
            "resolved": .bool(e40 != nil), "error_metrics": metrics,
        ]
    }

    static func sideBet(
        _ id: String, minute: Int, recommendation: String, expectedValue: Double, outcome: String?, payout: Double?
    ) -> Document {
        [
            "_id": .string(id), "game_id": "g", "created_at": .date(at(minute: minute)),
            "recommendation": .string(recommendation), "expected_value": .double(expectedValue),
            "actual_outcome": outcome.map(DocumentValue.string) ?? .null, "payout": payout.map(DocumentValue.double) ?? .null,
        ]
    }

    static func expectClose(_ value: DocumentValue?, _ expected: Double, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let actual = value?.doubleValue else {
            Issue.record("expected \(expected), got \(String(describing: value))", sourceLocation: sourceLocation)
            return
        }
        #expect(abs(actual - expected) < 1e-9, "\(actual) ≠ \(expected)", sourceLocation: sourceLocation)
    }

    /// Opens a store on a fresh database, runs `body`, then drops what it created and closes the store.
    func withStore(_ body: (MongoStore) async throws -> Void) async throws {
        let store = try MongoStore(
            url: TestEnvironment.mongoURL(), database: TestEnvironment.uniqueDatabaseName(), logger: Logger(label: "test"))
        do {
            try await body(store)
        } catch {
            await Self.dropEverything(store)
            throw error
        }
        await Self.dropEverything(store)
    }

    static func dropEverything(_ store: MongoStore) async {
        for name in (try? await store.collectionNames()) ?? [] {
            try? await store.dropCollection(CollectionName(name))
        }
        await store.close()
    }

    /// The `StoreError` `body` throws (nil when it succeeds or throws something else).
    static func storeError(_ body: () async throws -> Void) async -> StoreError? {
        do {
            try await body()
            return nil
        } catch {
            return error as? StoreError
        }
    }

    static func syncError<T>(_ body: () throws -> T) -> StoreError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error as? StoreError
        }
    }
}

private extension Document {
    var id: String? { self["_id"]?.stringValue }
}

/// A seeded generator, so a failing mutation can be replayed.
private struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
