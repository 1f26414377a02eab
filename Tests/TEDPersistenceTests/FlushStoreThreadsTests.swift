import Logging
import ServiceLifecycle
import Testing
import TEDCore
@testable import TEDPersistence
import TEDStore
import TEDTestSupport

/// While the flush keeps up, the store's writing threads yield the CPU to requests; while it is behind (a full batch
/// still waiting after a round) they compete for it as equals, and they yield again once it has caught up.
@Suite struct FlushStoreThreadsTests {
    let logger = Logger(label: "test")

    @Test(.timeLimit(.minutes(1)))
    func theStoreCompetesForTheCPUOnlyWhileTheFlushIsBehind() async throws {
        let ingestor = Ingestor.forTests(flag: .forTests(enabled: true))
        let storeThreads = StoreThreadPriority(yieldsToRequests: true)
        let yieldedAtWrite = Shared<[Bool]>([])
        let store = FaultInjectingStore(try BothStores.sqlite.makeStore(), beforeWrite: { _ in
            let writes = yieldedAtWrite.value.withLock { seen in
                seen.append(storeThreads.yieldsToRequests)
                return seen.count
            }
            // A full batch and more arrives while the first round writes.
            if writes == 1 { ingestor.ingest(Self.ticks(100..<250)) }
        })
        ingestor.ingest(Self.ticks(0..<100))
        let clock = ManualClock()
        let flush = FlushScheduler(ingestor: ingestor, store: store, interval: .seconds(1), batchSize: 100,
                                   shutdownGrace: .seconds(5), clock: clock, storeThreads: storeThreads, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: flush)], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await clock.waitForSleepers()
            try await clock.step(by: .seconds(1))
            // Round 1 wrote what was pending when it began, yielding; 150 ticks were left, so round 2 began at once
            // with the store competing, wrote them, and the store yields again.
            #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 250)
            let seen = yieldedAtWrite.value.withLock { $0 }
            #expect(seen.first == true)
            #expect(seen.last == false, "round 2 ran with the store still yielding: \(seen)")
            #expect(storeThreads.yieldsToRequests)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        await store.close()
    }

    static func ticks(_ range: Range<Int>) -> [IngestEvent] {
        range.map { .gameState(GameStateUpdate(gameID: "behind", tick: $0, price: 1, timestamp: Feed.start)) }
    }
}
