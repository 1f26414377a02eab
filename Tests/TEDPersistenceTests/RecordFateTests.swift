import Foundation
import Logging
import Testing
import TEDCore
@testable import TEDPersistence
@testable import TEDStore

/// Each record has its own fate: a record the store refuses for good goes to the dead-letter and holds nothing back.
@Suite struct RecordFateTests {
    let logger = Logger(label: "test")

    enum Backend: CaseIterable, Sendable { case mongodb, sqlite }

    func makeStore(_ backend: Backend) throws -> any DocumentStore {
        switch backend {
        case .mongodb: try MongoStore(url: TestServer.mongoURL(), database: TestServer.uniqueDatabase(), logger: logger)
        case .sqlite: try SQLiteStore(path: TestServer.temporaryDirectory().appendingPathComponent("ted.sqlite").path, logger: logger)
        }
    }

    func scheduler(_ ingestor: Ingestor, _ store: any DocumentStore, spool: Spool? = nil) -> FlushScheduler {
        FlushScheduler(ingestor: ingestor, store: store, interval: .milliseconds(100), batchSize: 50,
                       shutdownGrace: .seconds(10), clock: ManualClock(), spool: spool, logger: logger)
    }

    /// Ticks of one game, each at its own price (a foreign unique index on price then refuses only what we choose).
    static func ticks(_ game: String, _ prices: [Double], rugAt: Int? = nil) -> [IngestEvent] {
        prices.enumerated().map { tick, price in
            .gameState(GameStateUpdate(gameID: game, tick: tick, price: price, rugged: tick == rugAt, timestamp: Feed.start))
        }
    }

    @Test(arguments: Backend.allCases)
    func aRefusedRecordIsDeadLetteredAndHoldsNothingBack(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        // An index another program left on the database: unique tick_samples.price.
        try await store.schema.createIndex(IndexSpec(name: "price_unique", keys: [("price", 1)], unique: true), on: .tickSamples)
        let ingestor = Ingestor.forTests(flag: .forTests(enabled: true))
        let flush = scheduler(ingestor, store)
        // Tick 3 repeats tick 1's price: the store refuses that one record for good.
        var events = Self.ticks("a", [1.0, 1.1, 1.2, 1.1, 1.4, 1.5], rugAt: 5)
        events.append(.prediction(Prediction(gameID: "a", predictedAtTick: 2, predictedEndTick: 40, confidence: 0.5,
                                             timestamp: Feed.start, createdAt: Feed.start)))
        ingestor.ingest(events)
        #expect(await flush.flushPending(deadline: nil))
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 5)
        #expect(try await store.documentCount(of: .games, matching: .all) == 1)
        #expect(try await store.documents.count(.predictions, where: .equals("resolved", .bool(true))) == 1)
        #expect(ingestor.counters.pending == 0)
        #expect(ingestor.counters.ledger.value(.rejected, .tickSamples) == 1)
        ingestor.expectBalanced()

        let letters = try await DeadLetters(store: store).list(limit: 10)
        #expect(letters.map(\.recordID) == ["a:3"])
        #expect(letters.first?.collection == .tickSamples)
        #expect(letters.first?.errorMessage.isEmpty == false)
        #expect(letters.first?.record == .tickSample(TickSample(gameID: "a", tick: 3, price: 1.1, features: nil,
                                                                 timestamp: Feed.start, createdAt: letters[0].record!.createdAtForTest)))

        // Later batches of every collection are written as usual.
        ingestor.ingest(Self.ticks("b", [2.0, 2.1, 2.2], rugAt: 2))
        #expect(await flush.flushPending(deadline: nil))
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 8)
        #expect(try await store.documentCount(of: .games, matching: .all) == 2)
        #expect(ingestor.counters.pending == 0)
        ingestor.expectBalanced()
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func deadLettersAreRedrivenOnceTheCauseIsFixed(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        try await store.schema.createIndex(IndexSpec(name: "price_unique", keys: [("price", 1)], unique: true), on: .tickSamples)
        let flag = PersistenceFlag.forTests(enabled: true)
        let ingestor = Ingestor.forTests(flag: flag)
        let flush = scheduler(ingestor, store)
        ingestor.ingest(Self.ticks("a", [1.0, 1.0, 1.0]))
        #expect(await flush.flushPending(deadline: nil))
        #expect(ingestor.counters.ledger.value(.rejected, .tickSamples) == 2)

        try await store.schema.dropIndex(named: "price_unique", on: .tickSamples)
        let runtime = PersistenceRuntime(settings: Settings(), flag: flag, ingestor: ingestor, store: store,
                                         statistics: flush.statistics, requestFlush: {})
        #expect(try await runtime.listDeadLetters(limit: 10).total == 2)
        #expect(try await runtime.redriveDeadLetters(limit: 10) == 2)
        #expect(await flush.flushPending(deadline: nil))
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 3)
        #expect(try await runtime.listDeadLetters(limit: 10).total == 0)
        #expect(ingestor.counters.ledger.value(.recovered, .tickSamples) == 2)
        ingestor.expectBalanced()
        await store.close()
    }

    /// `ted dead-letters redrive`: straight into the store. A letter goes only once its record is stored; refused
    /// again it keeps the new error; retryable it stays as it was.
    @Test(arguments: Backend.allCases)
    func theOfflineRedriveRemovesOnlyTheLettersItStored(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        try await store.schema.createIndex(IndexSpec(name: "price_unique", keys: [("price", 1)], unique: true), on: .tickSamples)
        let ingestor = Ingestor.forTests(flag: .forTests(enabled: true))
        let flush = scheduler(ingestor, store)
        ingestor.ingest(Self.ticks("a", [1.0, 1.0, 1.0, 2.0]) + Self.ticks("b", [1.0]))
        #expect(await flush.flushPending(deadline: nil))
        let deadLetters = DeadLetters(store: store)
        #expect(Set(try await deadLetters.list(limit: 10).map(\.recordID)) == ["a:1", "a:2", "b:0"])

        // The index is still there: every record is refused again and keeps its letter, with the new error.
        let later = Feed.start.addingTimeInterval(3600)
        let again = try await DeadLetterRedrive(store: store, rules: OutcomeRules()).run(limit: 10, now: later)
        #expect(again.stored == 0 && again.refusedAgain == 3 && again.firstError != nil)
        #expect(try await deadLetters.list(limit: 10).allSatisfy { $0.failedAt == later })

        // The index dropped, the store failing for one collection: nothing stored, nothing removed.
        try await store.schema.dropIndex(named: "price_unique", on: .tickSamples)
        let flaky = FaultInjectingStore(store)
        flaky.faults.withLock { $0.failing = [.tickSamples] }
        let failed = try await DeadLetterRedrive(store: flaky, rules: OutcomeRules()).run(limit: 10, now: later)
        #expect(failed.retryable == 3 && failed.stored == 0)
        #expect(try await deadLetters.count() == 3)

        // The cause fixed: two of three re-driven, then the last; each stored once.
        #expect(try await DeadLetterRedrive(store: store, rules: OutcomeRules()).run(limit: 2, now: later).stored == 2)
        #expect(try await deadLetters.count() == 1)
        #expect(try await DeadLetterRedrive(store: store, rules: OutcomeRules()).run(limit: 10, now: later).stored == 1)
        #expect(try await deadLetters.count() == 0)
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 5)
        await store.close()
    }

    @Test func oneCollectionsFailureNeverHoldsAnother() async throws {
        let store = FaultInjectingStore(try makeStore(.sqlite))
        store.faults.withLock { $0.failing = [.games] }
        let ingestor = Ingestor.forTests(flag: .forTests(enabled: true))
        let flush = scheduler(ingestor, store)
        ingestor.ingest(Feed.game("g", ticks: 30))
        #expect(await flush.flushPending(deadline: nil) == false)
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 30)
        #expect(try await store.documentCount(of: .predictions, matching: .all) == 3)
        #expect(try await store.documentCount(of: .sideBets, matching: .all) == 1)
        #expect(try await store.documentCount(of: .games, matching: .all) == 0)
        #expect(ingestor.counters.pendingByCollection[.games] == 1)
        ingestor.expectBalanced()

        store.faults.withLock { $0.failing = [] }
        #expect(await flush.flushPending(deadline: nil))
        #expect(try await store.documentCount(of: .games, matching: .all) == 1)
        // The game was stored last: its end resolves what was stored before it, and its counters come from them.
        #expect(try await store.documents.count(.predictions, where: .equals("resolved", .bool(true))) == 3)
        let game = try #require(try await store.documents.find(.games, where: .all, sort: nil, limit: nil).first)
        #expect(game["prediction_count"]?.intValue == 3)
        #expect(game["side_bets_placed"]?.intValue == 1)
        ingestor.expectBalanced()
        await store.close()
    }
}

extension StoreRecord {
    /// The record's `created_at`, for comparing a dead-lettered record with the one ingested.
    var createdAtForTest: Date {
        switch self {
        case .game(let r): r.createdAt
        case .tickSample(let r): r.createdAt
        case .prediction(let r): r.createdAt
        case .sideBet(let r): r.createdAt
        }
    }
}
