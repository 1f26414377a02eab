import Logging
import Testing
import TEDCore
@testable import TEDPersistence
import TEDStore

/// The flush keeps the store busy: memory's next batch is already on its way while one is being written.
@Suite struct FlushPipelineTests {
    let logger = Logger(label: "test")

    /// The first write is held in the store until a second write has begun. A flush that takes, writes and settles
    /// one batch at a time never begins the second, and the test ends on its time limit.
    @Test(.timeLimit(.minutes(1)), arguments: BothStores.allCases)
    func theNextBatchIsWrittenBesideTheOneInTheStore(_ kind: BothStores) async throws {
        let writesBegun = Shared(0)
        let (secondWrite, secondWriteBegan) = AsyncStream<Void>.makeStream()
        let store = FaultInjectingStore(try kind.makeStore(), holdingWrite: { _ in
            switch writesBegun.value.withLock({ count in count += 1; return count }) {
            case 1: for await _ in secondWrite { break }
            case 2: secondWriteBegan.yield()
            default: break
            }
        })
        let ingestor = Ingestor.forTests(flag: .forTests(enabled: true))
        ingestor.ingest((0..<300).map { .gameState(GameStateUpdate(gameID: "pipe", tick: $0, price: 1, timestamp: Feed.start)) })
        let flush = FlushScheduler(ingestor: ingestor, store: store, interval: .seconds(60), batchSize: 100,
                                   shutdownGrace: .seconds(5), clock: ManualClock(), logger: logger)
        #expect(await flush.flushPending(deadline: nil))
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 300)
        #expect(try await store.documentCount(of: .games, matching: .all) == 1)
        #expect(ingestor.pendingCount == 0)
        ingestor.expectBalanced()
        await store.close()
    }
}
