import Logging
import Testing
import TEDCore
@testable import TEDPersistence
import TEDStore

/// A flush round writes the records that were pending when it began; what arrives while it writes waits for the next
/// round. Under steady ingest a round that chased new records never ended, and wrote them a few at a time.
@Suite struct FlushRoundBudgetTests {
    let logger = Logger(label: "test")

    @Test(.timeLimit(.minutes(1)), arguments: BothStores.allCases)
    func recordsThatArriveDuringARoundWaitForTheNext(_ kind: BothStores) async throws {
        let ingestor = Ingestor.forTests(flag: .forTests(enabled: true))
        let writes = Shared(0)
        // Ingest goes on while the round's first batch is in the store: 50 more ticks of the same game.
        let store = FaultInjectingStore(try kind.makeStore(), beforeWrite: { _ in
            if writes.value.withLock({ count in count += 1; return count }) == 1 {
                ingestor.ingest((300..<350).map { .gameState(GameStateUpdate(gameID: "steady", tick: $0, price: 1, timestamp: Feed.start)) })
            }
        })
        ingestor.ingest((0..<300).map { .gameState(GameStateUpdate(gameID: "steady", tick: $0, price: 1, timestamp: Feed.start)) })
        #expect(ingestor.pendingCount == 301)  // 300 ticks and their game
        let flush = FlushScheduler(ingestor: ingestor, store: store, interval: .seconds(60), batchSize: 100,
                                   shutdownGrace: .seconds(5), clock: ManualClock(), logger: logger)

        #expect(await flush.flushPending(deadline: nil))
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 300)
        // The 50 new ticks and the game's newer version.
        #expect(ingestor.pendingCount == 51)
        ingestor.expectBalanced()

        #expect(await flush.flushPending(deadline: nil))
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 350)
        #expect(ingestor.pendingCount == 0)
        ingestor.expectBalanced()
        await store.close()
    }
}
