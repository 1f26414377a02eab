import Foundation
import Logging
import ServiceLifecycle
import Testing
import TEDCore
@testable import TEDPersistence
@testable import TEDStore
import TEDTestSupport

/// The spool in the write path, against a real MongoDB-compatible server and real spool files.
@Suite struct SpoolIntegrationTests {
    let logger = Logger(label: "test")

    func spool(maxBytes: Int64 = 64 << 20) async throws -> Spool {
        let path = try TestServer.temporaryDirectory().appendingPathComponent("spool.sqlite").path
        return Spool(file: try await SpoolFile(path: path, maxBytes: maxBytes, logger: logger))
    }

    @Test func anOutageLongerThanMemoryCanHoldSpillsToTheSpoolAndLosesNothing() async throws {
        let server = try SecantusProcess()
        try await server.start()
        let store = try MongoStore(url: server.url, database: "spool_outage", logger: logger)
        let spool = try await spool()
        let ingestor = Ingestor.forTests(flag: .forTests(enabled: true), pendingCapacity: 50)
        let flush = FlushScheduler(ingestor: ingestor, store: store, interval: .milliseconds(100), batchSize: 20,
                                   shutdownGrace: .seconds(5), clock: ManualClock(), spool: spool, logger: logger)
        try await server.stop()
        // Five games of 40 ticks while the store is down: far more than the 50 records memory may hold.
        for game in 0..<5 {
            ingestor.ingest(Feed.game("so-\(game)", ticks: 40))
            #expect(await flush.flushPending(deadline: nil) == false)
        }
        #expect(ingestor.counters.ledger.droppedTotal == 0)
        #expect(ingestor.pendingCount == 0)
        #expect(spool.file.count > 0)
        ingestor.expectBalanced()

        try await server.start()
        #expect(await flush.flushPending(deadline: nil))
        #expect(spool.file.count == 0)
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 200)
        #expect(try await store.documentCount(of: .games, matching: .all) == 5)
        #expect(try await store.documentCount(of: .predictions, matching: .all) == 20)
        let stored = try await store.documents.find(.predictions, where: .ids(["so-0:0:m1"]), sort: nil, limit: nil)
        #expect(stored.first?["actual_end_tick"]?.intValue == 39)  // the resolved version won, not the older one
        ingestor.expectBalanced()
        await store.close()
        try await server.stop()
    }

    @Test func durableIngestIsOnDiskBeforeItIsAcknowledged() async throws {
        let store = try MongoStore(url: TestServer.mongoURL(), database: TestServer.uniqueDatabase(), logger: logger)
        let spool = try await spool()
        let committer = GroupCommitter(spool: spool)
        let ingestor = Ingestor(rules: OutcomeRules(), sizes: BufferSizes(tickSamples: 10, finishedGames: 10, sideBets: 10),
                                pendingCapacity: 1000, flag: .forTests(enabled: true), durableSink: committer)
        // Concurrent requests share commits; each waits for its own.
        try await withRunning([committer]) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for game in 0..<8 {
                    group.addTask {
                        let receipt = ingestor.ingest(Feed.game("du-\(game)", ticks: 25))
                        let ticket = try #require(receipt.durable)
                        _ = try await ticket.wait().get()
                    }
                }
                try await group.waitForAll()
            }
        }
        #expect(ingestor.pendingCount == 0)
        #expect(spool.file.count >= 8 * 25)
        ingestor.expectBalanced()

        // A restart: a new spool handle on the same file replays everything.
        let reopened = Spool(file: try await SpoolFile(path: spool.file.path, maxBytes: 64 << 20, logger: logger))
        await spool.file.close()
        let restarted = Ingestor.forTests(flag: .forTests(enabled: true))
        restarted.spoolRecovered(reopened.file.countByCollection)
        let flush = FlushScheduler(ingestor: restarted, store: store, interval: .seconds(1), batchSize: 50,
                                   shutdownGrace: .seconds(5), clock: ManualClock(), spool: reopened, logger: logger)
        #expect(await flush.flushPending(deadline: nil))
        #expect(reopened.file.count == 0)
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 200)
        #expect(try await store.documentCount(of: .games, matching: .all) == 8)
        restarted.expectBalanced()
        await store.close()
    }

    /// SIGTERM with the store unreachable: what is pending moves to the spool before the grace period is spent
    /// waiting for the store, so a SIGKILL at its end (an orchestrator's stop timeout) would lose nothing.
    @Test(.timeLimit(.minutes(1)))
    func shutdownSpoolsWhatIsPendingBeforeWaitingForTheStore() async throws {
        // Nothing listens on port 1: each write waits 2 s for a server before it fails.
        let store = try MongoStore(url: "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=2000", database: "nowhere", logger: logger)
        let spool = try await spool()
        let ingestor = Ingestor.forTests(flag: .forTests(enabled: true))
        let clock = ManualClock()
        let recorder = LogRecorder()
        let flush = FlushScheduler(ingestor: ingestor, store: store, interval: .seconds(3600), batchSize: 50,
                                   shutdownGrace: .seconds(1), clock: clock, spool: spool, logger: recorder.logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: flush)], logger: logger))
        ingestor.ingest(Feed.game("sd-1", ticks: 30))
        let pending = ingestor.pendingCount
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await clock.waitForSleepers()
            await group.triggerGracefulShutdown()
            await recorder.waitFor("Moved pending records to the spool")
            #expect(spool.file.count == pending)
            #expect(!recorder.messages.contains { $0.hasPrefix("Error persisting") }, "the spill waited for the store")
            clock.advance(by: .seconds(1))  // the grace period ends: the drain stops after the write in flight
            try await tasks.waitForAll()
        }
        #expect(ingestor.pendingCount == 0)
        ingestor.expectBalanced()
        await store.close()
    }

    /// SIGTERM during a long spool replay: the replay stops and the shutdown's grace period bounds the exit, instead
    /// of the replay running to its end first.
    @Test(.timeLimit(.minutes(1)))
    func aLongReplayStopsWhenShutdownBegins() async throws {
        let clock = ManualClock()
        let shutdownRequested = Shared(false)
        let (writes, writeBegins) = AsyncStream<Void>.makeStream()
        // Every write once shutdown is asked for takes an hour of the clock: the grace period ends during the
        // drain's first write.
        let store = FaultInjectingStore(try MongoStore(url: TestServer.mongoURL(), database: TestServer.uniqueDatabase(), logger: logger),
                                        beforeWrite: { _ in
                                            writeBegins.yield()
                                            if shutdownRequested.value.withLock({ $0 }) { clock.advance(by: .seconds(3600)) }
                                        })
        let spool = try await spool()
        let ingestor = Ingestor.forTests(flag: .forTests(enabled: true))
        for game in 0..<40 {
            let records = (0..<1000).map { tick in
                StoreRecord.tickSample(TickSample(gameID: "lr-\(game)", tick: tick, price: 1, features: nil,
                                                  timestamp: Feed.start, createdAt: Feed.start))
            }
            try await spool.file.append(records)
        }
        ingestor.spoolRecovered(spool.file.countByCollection)
        let flush = FlushScheduler(ingestor: ingestor, store: store, interval: .seconds(1), batchSize: 100,
                                   shutdownGrace: .milliseconds(100), clock: clock, spool: spool, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: flush)], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await clock.waitForSleepers()
            clock.advance(by: .seconds(1))  // the interval ends: a replay of 400 batches begins
            for await _ in writes { break }
            shutdownRequested.value.withLock { $0 = true }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let left = spool.file.count
        #expect(left > 10_000, "the replay went on after shutdown began: \(left) rows left")
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 40_000 - left)
        ingestor.expectBalanced()
        await store.close()
    }

    /// A client faster than the spill: while the spool has room, memory holds at most twice the high-water mark and
    /// requests past it wait for the spill, instead of memory filling up and the oldest records being dropped (the
    /// default policy in memory mode).
    @Test(.timeLimit(.minutes(1)))
    func pastTwiceTheHighWaterMarkRequestsWaitForTheSpillInsteadOfDropping() async throws {
        // A store that is down and says so at once (a write to nowhere would hold its batch for seconds).
        let store = FaultInjectingStore(try MongoStore(url: "mongodb://127.0.0.1:1", database: "nowhere", logger: logger))
        store.faults.withLock { $0.failing = Set(CollectionName.flushed) }
        let spool = try await spool()
        var settings = Settings()
        settings.maxPending = 1000
        settings.overflowPolicy = .dropOldest
        let flag = PersistenceFlag.forTests(enabled: true)
        let ingestor = Ingestor(rules: OutcomeRules(), sizes: BufferSizes(tickSamples: 100, finishedGames: 10, sideBets: 10),
                                pendingCapacity: 1000, highWater: 30, flag: flag)
        let flush = FlushScheduler(ingestor: ingestor, store: store, interval: .seconds(3600), batchSize: 100,
                                   shutdownGrace: .seconds(1), clock: ManualClock(), spool: spool, logger: logger)
        // As `ted serve` wires it: the high-water mark signals the flush service, whose spill runs beside its loop.
        ingestor.onHighWater(flush.relievePressure)
        let runtime = PersistenceRuntime(settings: settings, flag: flag, ingestor: ingestor, store: store,
                                         statistics: FlushStatistics(), spool: spool)
        var events = 0
        var mostPending = 0
        try await withRunning([flush]) {
            for game in 0..<40 {
                let feed = Feed.game("w-\(game)", ticks: 30)
                events += feed.count
                // What is tested is that requests wait for the spill, not the service's 2 s bound on one wait, which a
                // loaded CI machine's spool (each commit waits for the disk) overran once.
                await runtime.waitForRoom(for: feed.count, limit: .seconds(30))
                ingestor.ingest(feed)
                mostPending = max(mostPending, ingestor.pendingCount)
            }
        }
        #expect(events > ingestor.pendingCapacity)
        #expect(mostPending <= 60 + 40, "at most twice the high-water mark, plus one game's records")
        #expect(ingestor.counters.ledger.droppedTotal == 0)
        #expect(spool.file.count > 0)
        ingestor.expectBalanced()
        await store.close()
    }

    @Test func aFullSpoolLeavesRecordsPendingAndTheRejectPolicyRefuses() async throws {
        let store = try MongoStore(url: "mongodb://127.0.0.1:1", database: "nowhere", logger: logger)
        let spool = try await spool(maxBytes: 1 << 16)
        var settings = Settings()
        settings.overflowPolicy = .reject
        settings.maxPending = 100
        let flag = PersistenceFlag.forTests(enabled: true)
        let ingestor = Ingestor.forTests(flag: flag, pendingCapacity: 100)
        let runtime = PersistenceRuntime(settings: settings, flag: flag, ingestor: ingestor, store: store,
                                         statistics: FlushStatistics(), spool: spool)
        let flush = FlushScheduler(ingestor: ingestor, store: store, interval: .seconds(1), batchSize: 100,
                                   shutdownGrace: .seconds(1), clock: ManualClock(), spool: spool, logger: logger)
        var game = 0
        while runtime.admission() == nil && game < 200 {
            ingestor.ingest(Feed.game("full-\(game)", ticks: 30))
            await flush.spillToSpool()
            game += 1
        }
        #expect(runtime.admission() != nil)
        #expect(spool.isFull)
        // The request that filled memory may have pushed a few records out: they are counted, never silent.
        #expect(ingestor.counters.ledger.droppedTotal < 40)
        ingestor.expectBalanced()
        await store.close()
    }
}
