import Foundation
import Testing
import TEDCore
import TEDPersistence
@testable import TEDStore
import TEDTestSupport

/// Game recordings and the games list on both stores: ticks page by tick (not by key text), completeness and gaps
/// on the sampling grid, the 100-gap cap over a recording longer than one read page, and the latest games.
@Suite struct GameRecordingTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func sample(_ game: String, _ tick: Int) -> Document {
        TickSample(gameID: game, tick: tick, price: 1 + Double(tick) / 100, features: JSONObject([("x", .int(Int64(tick)))]),
                   timestamp: start.addingTimeInterval(Double(tick) / 4), createdAt: start).document
    }

    static func game(_ id: String, first: Int = 0, end: Int, createdAt: Date = start) -> Document {
        var record = GameRecord(gameID: id, startTick: first, endTick: end, peakPrice: 2, peakTick: end / 2, finalPrice: 0.5,
                                ended: true, rugged: true, hadPredictions: false, predictionCount: 0, predictionAccuracy: nil,
                                sideBetsPlaced: 0, createdAt: createdAt, updatedAt: createdAt)
        record.ticksSeen = end + 1 - first
        return record.document
    }

    /// Inserts in a shuffled order, in batches, so neither store hands back insertion order by chance.
    static func insert(_ documents: [Document], into collection: CollectionName, _ store: any DocumentStore) async throws {
        var generator = SeededRandom(seed: 7)
        let shuffled = documents.shuffled(using: &generator)
        for start in stride(from: 0, to: shuffled.count, by: 1000) {
            _ = try await store.documents.insert(Array(shuffled[start..<min(start + 1000, shuffled.count)]), into: collection)
        }
    }

    static func allTicks(_ games: StoredGames, _ id: String, limit: Int) async throws -> (ticks: [Int], pages: Int) {
        var ticks: [Int] = []
        var after = -1
        var pages = 0
        while true {
            let recording = try #require(try await games.recording(ofGame: id, afterTick: after, limit: limit))
            pages += 1
            #expect(recording.ticks.count <= limit)
            ticks += recording.ticks.map(\.tick)
            guard let next = recording.nextAfterTick else { break }
            #expect(next == recording.ticks.last?.tick)
            after = next
        }
        return (ticks, pages)
    }

    @Test(arguments: BothStores.allCases)
    func ticksPageInTickOrderAndOnlyOfTheirGame(_ backend: BothStores) async throws {
        let store = try backend.makeStore()
        defer { Task { await store.close() } }
        // Ticks 0–120 but 10, 11 and 20: as text "100" < "11" < "2", so only a numeric order gives them back sorted.
        let stored = (0...120).filter { ![10, 11, 20].contains($0) }
        // "g:1" shares the key prefix "g:" (its keys are "g:1:<tick>"), "h" does not.
        try await Self.insert(stored.map { Self.sample("g", $0) } + (0..<30).map { Self.sample("g:1", $0) }
                                + (0..<5).map { Self.sample("h", $0) }, into: .tickSamples, store)
        try await Self.insert([Self.game("g", end: 125)], into: .games, store)
        let games = StoredGames(store: store, sampleEveryTicks: 1)

        let (ticks, pages) = try await Self.allTicks(games, "g", limit: 7)
        #expect(ticks == stored)
        #expect(pages == (stored.count + 6) / 7)

        let page = try #require(try await games.recording(ofGame: "g", afterTick: 9, limit: 3))
        #expect(page.ticks.map(\.tick) == [12, 13, 14])
        #expect(page.ticks[0].price == 1.12)
        #expect(page.ticks[0].timestamp == Self.start.addingTimeInterval(3))
        #expect(page.nextAfterTick == 14)
        let last = try #require(try await games.recording(ofGame: "g", afterTick: 118, limit: 2))
        #expect(last.ticks.map(\.tick) == [119, 120])
        #expect(last.nextAfterTick == nil)

        let c = page.completeness
        #expect(c.firstTickSeen == 0)
        #expect(c.endTick == 125)
        #expect(c.ticksExpected == 126)
        #expect(c.ticksStored == stored.count)
        #expect(c.gaps == [.init(fromTick: 10, toTick: 11), .init(fromTick: 20, toTick: 20), .init(fromTick: 121, toTick: 125)])
        #expect(c.completeness == Double(stored.count) / 126)
        #expect(!c.gapsTruncated)

        let prefixed = try #require(try await games.recording(ofGame: "g:1", afterTick: -1, limit: 100))
        #expect(prefixed.ticks.map(\.tick) == Array(0..<30))
        #expect(try await games.recording(ofGame: "nope", afterTick: -1, limit: 10) == nil)
    }

    @Test(arguments: BothStores.allCases)
    func aGameWithoutTicksOrTicksWithoutAGameStillHaveARecording(_ backend: BothStores) async throws {
        let store = try backend.makeStore()
        defer { Task { await store.close() } }
        try await Self.insert([Self.game("joined", first: 40, end: 99)], into: .games, store)
        try await Self.insert((50...60).map { Self.sample("orphan", $0) }, into: .tickSamples, store)
        let games = StoredGames(store: store, sampleEveryTicks: 1)

        let joined = try #require(try await games.recording(ofGame: "joined", afterTick: -1, limit: 10))
        #expect(joined.ticks.isEmpty)
        #expect(joined.completeness.firstTickSeen == 40)
        #expect(joined.completeness.ticksStored == 0)
        #expect(joined.completeness.gaps == [.init(fromTick: 0, toTick: 99)])
        #expect(joined.completeness.completeness == 0)

        // No game document: the ticks say what is known, and a game joined at tick 50 misses 0–49.
        let orphan = try #require(try await games.recording(ofGame: "orphan", afterTick: -1, limit: 10))
        #expect(orphan.completeness.firstTickSeen == 50)
        #expect(orphan.completeness.endTick == 60)
        #expect(orphan.completeness.gaps == [.init(fromTick: 0, toTick: 49)])
        #expect(orphan.nextAfterTick == 59)
    }

    @Test(arguments: BothStores.allCases)
    func gapsAreCappedAndCountedOverSeveralReadPages(_ backend: BothStores) async throws {
        let store = try backend.makeStore()
        defer { Task { await store.close() } }
        // Every other tick of 0–12 000: 6001 ticks, more than one read page (5000), and 6000 one-tick gaps.
        let stored = Array(stride(from: 0, through: 12_000, by: 2))
        #expect(stored.count > StoredGames.completenessPageSize)
        try await Self.insert(stored.map { Self.sample("long", $0) }, into: .tickSamples, store)
        let games = StoredGames(store: store, sampleEveryTicks: 1)
        let recording = try #require(try await games.recording(ofGame: "long", afterTick: 9990, limit: 5000))
        #expect(recording.ticks.first?.tick == 9992)
        let expectedCount = (12_000 - 9992) / 2 + 1
        #expect(recording.ticks.count == expectedCount)
        #expect(recording.nextAfterTick == nil)
        let c = recording.completeness
        #expect(c.ticksStored == stored.count)
        #expect(c.ticksExpected == 12_001)
        #expect(c.gaps.count == RecordingCompleteness.maxListedGaps)
        #expect(c.gaps.first == .init(fromTick: 1, toTick: 1))
        #expect(c.gaps.last == .init(fromTick: 199, toTick: 199))
        #expect(c.gapsTruncated)
    }

    @Test(arguments: BothStores.allCases)
    func completenessFollowsTheSamplingGrid(_ backend: BothStores) async throws {
        let store = try backend.makeStore()
        defer { Task { await store.close() } }
        // STREAM_SAMPLE_EVERY_TICKS=5: ticks 0, 5, …, 100 are the recording; 25 and 30 are missing, and the game ended
        // at 107, so 105 is missing too.
        let stored = stride(from: 0, through: 100, by: 5).filter { $0 != 25 && $0 != 30 }
        try await Self.insert(stored.map { Self.sample("s", $0) }, into: .tickSamples, store)
        try await Self.insert([Self.game("s", end: 107)], into: .games, store)
        let recording = try #require(try await StoredGames(store: store, sampleEveryTicks: 5)
            .recording(ofGame: "s", afterTick: -1, limit: 1000))
        let c = recording.completeness
        #expect(c.ticksExpected == 22)
        #expect(c.ticksStored == 19)
        #expect(c.gaps == [.init(fromTick: 25, toTick: 30), .init(fromTick: 105, toTick: 105)])
        #expect(c.completeness == 19.0 / 22)
    }

    @Test(arguments: BothStores.allCases)
    func theLatestGamesComeNewestFirst(_ backend: BothStores) async throws {
        let store = try backend.makeStore()
        defer { Task { await store.close() } }
        let created = (0..<12).map { Self.start.addingTimeInterval(Double($0) * 60) }
        try await Self.insert(created.enumerated().map { Self.game("game-\($0.offset)", end: 10, createdAt: $0.element) },
                              into: .games, store)
        let games = StoredGames(store: store, sampleEveryTicks: 1)

        let newest = try await games.latest(limit: 5, before: nil)
        #expect(newest.map { $0.objectValue?["_id"] } == (7...11).reversed().map { .string("game-\($0)") })
        // Started before game 4 (strictly): games 3, 2, 1, 0.
        let older = try await games.latest(limit: 50, before: created[4])
        #expect(older.map { $0.objectValue?["_id"] } == (0...3).reversed().map { .string("game-\($0)") })
        #expect(older.first?.objectValue?["created_at"] == .string(Timestamp.formatISO8601(created[3])))
        #expect(try await games.latest(limit: 5, before: created[0]).isEmpty)
    }

    @Test func theFinishedGamesInMemoryComeNewestFirst() async throws {
        let flag = PersistenceFlag.forTests(enabled: false)
        let ingestor = Ingestor.forTests(flag: flag)
        let times = (0..<4).map { Self.start.addingTimeInterval(Double($0) * 60) }
        for (index, time) in times.enumerated() {
            ingestor.ingest(Feed.game("mem-\(index)", ticks: 5), now: time)
        }
        let runtime = PersistenceRuntime(settings: Settings(), flag: flag, ingestor: ingestor, store: nil, statistics: FlushStatistics())
        #expect(runtime.storedGames == nil)
        #expect(runtime.finishedGamesInMemory(limit: 10, before: nil).map(\.gameID) == ["mem-3", "mem-2", "mem-1", "mem-0"])
        #expect(runtime.finishedGamesInMemory(limit: 1, before: times[2]).map(\.gameID) == ["mem-1"])
    }
}
