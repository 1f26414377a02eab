import Foundation
import Logging
import ServiceLifecycle
import Testing
import TEDCore
@testable import TEDPersistence
@testable import TEDStore

/// The write path against the real MongoDB-compatible server and real SQLite files.
@Suite struct FlushIntegrationTests {
    let logger = Logger(label: "test")

    enum Backend: CaseIterable { case mongodb, sqlite }

    func makeStore(_ backend: Backend) throws -> any DocumentStore {
        switch backend {
        case .mongodb: try MongoStore(url: TestServer.mongoURL(), database: TestServer.uniqueDatabase(), logger: logger)
        case .sqlite: try SQLiteStore(path: TestServer.temporaryDirectory().appendingPathComponent("ted.sqlite").path, logger: logger)
        }
    }

    func scheduler(_ ingestor: Ingestor, _ store: any DocumentStore, batchSize: Int = 7) -> FlushScheduler {
        FlushScheduler(ingestor: ingestor, store: store, interval: .milliseconds(100), batchSize: batchSize,
                       shutdownGrace: .seconds(10), clock: ManualClock(), logger: logger)
    }

    @Test(arguments: Backend.allCases)
    func flushWritesEveryRecordOnceWithDeterministicIDs(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        let ingestor = Ingestor.forTests(flag: .forTests(enabled: true))
        ingestor.ingest(Feed.game("g-1", ticks: 30, predictedEnd: 69))
        #expect(await scheduler(ingestor, store).flushPending(deadline: nil))
        #expect(ingestor.counters.pending == 0)

        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 30)
        #expect(try await store.documentCount(of: .predictions, matching: .all) == 3)
        #expect(try await store.documentCount(of: .sideBets, matching: .all) == 1)
        let games = try await store.documents.find(.games, where: .all, sort: nil, limit: nil)
        #expect(games.count == 1)
        let game = try #require(games.first)
        #expect(game["_id"]?.stringValue == "g-1")
        #expect(game["start_tick"]?.intValue == 0)
        #expect(game["end_tick"]?.intValue == 29)
        #expect(game["duration_ticks"]?.intValue == 30)
        #expect(game["first_tick_seen"]?.intValue == 0)
        #expect(game["ticks_seen"]?.intValue == 30)
        #expect(game["completeness"]?.doubleValue == 1)
        #expect(game["peak_price"]?.doubleValue == 2.6)
        #expect(game["peak_tick"]?.intValue == 16)
        #expect(game["side_bets_placed"]?.intValue == 1)
        #expect(game["had_predictions"]?.boolValue == true)
        // predicted 69, actual 29: raw error 40 → within one window for all three predictions.
        #expect(game["prediction_accuracy"]?.doubleValue == 1.0)

        let prediction = try #require(try await store.documents.find(.predictions, where: .ids(["g-1:10:m1"]), sort: nil, limit: nil).first)
        #expect(prediction.value(at: "error_metrics.raw_error")?.intValue == 40)
        #expect(prediction.value(at: "error_metrics.e40")?.doubleValue == 1.0)
        #expect(prediction["actual_end_tick"]?.intValue == 29)
        let sideBet = try #require(try await store.documents.find(.sideBets, where: .ids(["g-1:5"]), sort: nil, limit: nil).first)
        #expect(sideBet["actual_outcome"]?.stringValue == "WON")  // 29 ≤ 5 + 40 − 1
        #expect(sideBet["payout"]?.doubleValue == 4)
        #expect(try await store.documents.count(.tickSamples, where: .ids(["g-1:0", "g-1:29"])) == 2)
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func aResentBatchAddsNoDuplicate(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        let writer = BatchWriter(store: store, rules: OutcomeRules())
        let records = (0..<50).map { tick in
            StoreRecord.tickSample(TickSample(gameID: "g", tick: tick, price: 1, features: nil, timestamp: Feed.start, createdAt: Feed.start))
        }
        let first = await writer.write(records, to: .tickSamples)
        let second = await writer.write(records, to: .tickSamples)
        #expect(first.fates == Array(repeating: .stored, count: 50))
        #expect(second.fates == Array(repeating: .alreadyStored, count: 50))
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 50)
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func withTheFlagOffNothingIsWrittenNorQueued(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        let flag = PersistenceFlag.forTests(enabled: false)
        let ingestor = Ingestor.forTests(flag: flag)
        ingestor.ingest(Feed.game("off-1", ticks: 20))
        #expect(ingestor.counters.pending == 0)
        #expect(ingestor.latestTickSamples(100).count == 20)  // memory goes on as before
        #expect(await scheduler(ingestor, store).flushPending(deadline: nil))
        #expect(try await store.schema.collectionNames().isEmpty)
        // Turning it on later does not write what was ingested while off.
        flag.set(true, source: .api)
        ingestor.ingest(Feed.game("on-1", ticks: 10))
        #expect(await scheduler(ingestor, store).flushPending(deadline: nil))
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 10)
        #expect(try await store.documents.count(.games, where: .ids(["off-1"])) == 0)
        await store.close()
    }

    @Test func pendingWhenOffStaysAndIsWrittenWhenOnAgain() async throws {
        let store = try makeStore(.sqlite)
        let flag = PersistenceFlag.forTests(enabled: true)
        let ingestor = Ingestor.forTests(flag: flag)
        ingestor.ingest(Feed.game("p-1", ticks: 10))
        flag.set(false, source: .api)
        #expect(await scheduler(ingestor, store).flushPending(deadline: nil))
        #expect(ingestor.counters.pending > 0)
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 0)
        flag.set(true, source: .api)
        #expect(await scheduler(ingestor, store).flushPending(deadline: nil))
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 10)
        await store.close()
    }

    @Test func aStoppedServerKeepsRecordsPendingUntilItIsBack() async throws {
        let server = try SecantusProcess()
        try await server.start()
        let store = try MongoStore(url: server.url, database: "outage", logger: logger)
        let ingestor = Ingestor.forTests(flag: .forTests(enabled: true))
        let flush = scheduler(ingestor, store, batchSize: 100)
        ingestor.ingest(Feed.game("o-1", ticks: 40))
        #expect(await flush.flushPending(deadline: nil))

        try await server.stop()
        ingestor.ingest(Feed.game("o-2", ticks: 40))
        let pendingBefore = ingestor.counters.pending
        #expect(pendingBefore > 40)
        #expect(await flush.flushPending(deadline: nil) == false)
        #expect(ingestor.counters.pending == pendingBefore)
        // Each collection is tried on its own: one failed attempt each.
        #expect(flush.statistics.snapshot.errors == CollectionName.flushed.count)
        #expect(flush.statistics.snapshot.lastError != nil)

        try await server.start()
        #expect(await flush.flushPending(deadline: nil))
        #expect(ingestor.counters.pending == 0)
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 80)
        #expect(try await store.documentCount(of: .games, matching: .all) == 2)
        let ledger = ingestor.counters.ledger
        for collection in CollectionName.flushed {
            #expect(ledger.value(.accepted, collection) == ledger.value(.stored, collection) + ledger.value(.superseded, collection))
        }
        await store.close()
        try await server.stop()
    }

    @Test(arguments: Backend.allCases)
    func aRestartInMidGameKeepsTheStoredStartPeakAndCounters(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        let first = Ingestor.forTests(flag: .forTests(enabled: true))
        var events: [IngestEvent] = (0...10).map { tick in
            .gameState(GameStateUpdate(gameID: "r-1", tick: tick, price: tick == 5 ? 9 : 1, timestamp: Feed.start))
        }
        events.append(.sideBet(SideBet(gameID: "r-1", placedAtTick: 3, probability: 0.2, expectedValue: 0.1, confidence: 0.5,
                                       recommendation: .bet, timestamp: Feed.start, createdAt: Feed.start)))
        first.ingest(events)
        #expect(await scheduler(first, store).flushPending(deadline: nil))

        let restarted = Ingestor.forTests(flag: .forTests(enabled: true))
        restarted.ingest((11...15).map { tick in
            .gameState(GameStateUpdate(gameID: "r-1", tick: tick, price: 2, timestamp: Feed.start))
        })
        #expect(await scheduler(restarted, store).flushPending(deadline: nil))
        let game = try #require(try await store.storedGame("r-1"))
        #expect(game["start_tick"]?.intValue == 0)
        #expect(game["end_tick"]?.intValue == 15)
        #expect(game["peak_price"]?.doubleValue == 9)
        #expect(game["peak_tick"]?.intValue == 5)
        #expect(game["side_bets_placed"]?.intValue == 1)
        await store.close()
    }

    @Test(.timeLimit(.minutes(1)))
    func gracefulShutdownDrainsWhatIsPending() async throws {
        let store = try makeStore(.sqlite)
        let ingestor = Ingestor.forTests(flag: .forTests(enabled: true))
        let clock = ManualClock()
        let flush = FlushScheduler(ingestor: ingestor, store: store, interval: .seconds(3600), batchSize: 50,
                                   shutdownGrace: .seconds(10), clock: clock, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: flush)], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await clock.waitForSleepers()  // the loop waits for its interval, which never ends
            ingestor.ingest(Feed.game("s-1", ticks: 120))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(ingestor.counters.pending == 0)
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 120)
        await store.close()
    }

    /// The interval alone starts a flush: before it ends nothing is written, once the clock passes it everything is,
    /// while the service still runs (the shutdown's drain would hide a flush that never came).
    @Test(.timeLimit(.minutes(1)))
    func theIntervalFlushRunsByItself() async throws {
        let store = try makeStore(.sqlite)
        let ingestor = Ingestor.forTests(flag: .forTests(enabled: true))
        let clock = ManualClock()
        let flush = FlushScheduler(ingestor: ingestor, store: store, interval: .seconds(1), batchSize: 7,
                                   shutdownGrace: .seconds(10), clock: clock, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: flush)], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await clock.waitForSleepers()
            ingestor.ingest(Feed.game("i-1", ticks: 25))
            try await clock.step(by: .milliseconds(999))
            #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 0, "flushed before the interval ended")
            try await clock.step(by: .milliseconds(1))
            #expect(ingestor.counters.pending == 0)
            #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 25)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        await store.close()
    }
}
