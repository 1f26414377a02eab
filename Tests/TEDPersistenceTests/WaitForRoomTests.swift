import Foundation
import Logging
import Testing
import TEDCore
@testable import TEDPersistence
import TEDStore

/// `PersistenceRuntime.waitForRoom`: a request past twice the high-water mark sleeps until the ingestor says room was
/// made, with real spool files. Each test makes room only once the request is asleep, and allows the request a wait far
/// longer than the test's time limit: a lost wake-up fails the test instead of passing on a timeout.
@Suite struct WaitForRoomTests {
    let logger = Logger(label: "test")

    struct Setup {
        let ingestor: Ingestor
        let runtime: PersistenceRuntime
        let spool: Spool
        let clock: ManualClock
    }

    /// Memory mode with a spool, a high-water mark of 30 (so requests wait past 60 pending records) and room for 5,000.
    func setup(spoolBytes: Int64 = 64 << 20) async throws -> Setup {
        let path = try TestServer.temporaryDirectory().appendingPathComponent("spool.sqlite").path
        let spool = Spool(file: try await SpoolFile(path: path, maxBytes: spoolBytes, logger: logger))
        let flag = PersistenceFlag.forTests(enabled: true)
        let ingestor = Ingestor(rules: OutcomeRules(), sizes: BufferSizes(tickSamples: 100, finishedGames: 10, sideBets: 10),
                                pendingCapacity: 5000, highWater: 30, flag: flag)
        let clock = ManualClock()
        let runtime = PersistenceRuntime(settings: Settings(), flag: flag, ingestor: ingestor, store: nil,
                                         statistics: FlushStatistics(), spool: spool, clock: clock)
        return Setup(ingestor: ingestor, runtime: runtime, spool: spool, clock: clock)
    }

    /// The flush service, only to spill (the store is never written): a spill runs as at the high-water mark.
    func spiller(_ s: Setup) throws -> FlushScheduler {
        let store = try SQLiteStore(path: TestServer.temporaryDirectory().appendingPathComponent("store.sqlite").path, logger: logger)
        return FlushScheduler(ingestor: s.ingestor, store: store, interval: .seconds(3600), batchSize: 100,
                              shutdownGrace: .seconds(1), clock: ManualClock(), spool: s.spool, logger: logger)
    }

    /// Fills memory past the ceiling: `games` games of 30 ticks (31 records or more each).
    func fill(_ ingestor: Ingestor, games: Int) {
        for game in 0..<games { ingestor.ingest(Feed.game("room-\(game)", ticks: 30)) }
    }

    /// Returns once `count` requests sleep in `waitForRoom` (a yield between looks; the test's time limit bounds it).
    func untilWaiting(_ ingestor: Ingestor, _ count: Int = 1) async {
        while ingestor.roomWaiterCount < count { await Task.yield() }
    }

    @Test(.timeLimit(.minutes(1)))
    func aWaitingRequestGoesOnWhenTheFlushSettlesABatch() async throws {
        let s = try await setup()
        fill(s.ingestor, games: 4)
        #expect(s.ingestor.pendingCount > 60)
        async let waited = s.runtime.waitForRoom(for: 10, limit: .seconds(3600))
        await untilWaiting(s.ingestor)
        // Taking batches is not room yet: their records are still pending until the store settles them.
        var batches: [PendingQueue.Batch] = []
        while let batch = s.ingestor.takeBatch(limit: 5000) { batches.append(batch) }
        #expect(s.ingestor.roomWaiterCount == 1)
        for batch in batches { s.ingestor.settle(batch, fates: Array(repeating: .stored, count: batch.count)) }
        #expect(await waited == .roomMade)
        #expect(s.ingestor.roomWaiterCount == 0)
    }

    @Test(.timeLimit(.minutes(1)))
    func aWaitingRequestGoesOnWhenTheSpillHandsRecordsToTheSpool() async throws {
        let s = try await setup()
        let flush = try spiller(s)
        fill(s.ingestor, games: 4)
        // Two requests with different needs: one spill makes room for both.
        async let small = s.runtime.waitForRoom(for: 1, limit: .seconds(3600))
        async let large = s.runtime.waitForRoom(for: 25, limit: .seconds(3600))
        await untilWaiting(s.ingestor, 2)
        await flush.spillToSpool()
        #expect(await small == .roomMade)
        #expect(await large == .roomMade)
        #expect(s.ingestor.pendingCount == 0)
        #expect(s.spool.file.count > 60)
    }

    @Test(.timeLimit(.minutes(1)))
    func aSpillTheFullSpoolRefusesEndsTheWait() async throws {
        // 64 KiB: far less than the records of 30 games.
        let s = try await setup(spoolBytes: 1 << 16)
        let flush = try spiller(s)
        fill(s.ingestor, games: 30)
        let pending = s.ingestor.pendingCount
        async let waited = s.runtime.waitForRoom(for: 10, limit: .seconds(3600))
        await untilWaiting(s.ingestor)
        await flush.spillToSpool()
        #expect(await waited == .spoolFull)
        #expect(s.spool.isFull)
        #expect(s.ingestor.pendingCount == pending)
        // With the spool full there is nothing to wait for: the overflow policy applies at once.
        #expect(await s.runtime.waitForRoom(for: 10, limit: .seconds(3600)) == .notNeeded)
    }

    /// The limit is kept on the service clock: the request still waits a moment before it, and times out at it.
    @Test(.timeLimit(.minutes(1)))
    func withoutRoomTheWaitEndsAtItsLimit() async throws {
        let s = try await setup()
        fill(s.ingestor, games: 4)
        let start = s.clock.now
        async let waited = s.runtime.waitForRoom(for: 10, limit: .seconds(2))
        await untilWaiting(s.ingestor)
        try await s.clock.waitForSleepers(1)
        s.clock.advance(to: start.addingTimeInterval(1.999))
        #expect(s.clock.sleeperCount == 1)
        #expect(s.ingestor.roomWaiterCount == 1)
        s.clock.advance(to: start.addingTimeInterval(2))
        #expect(await waited == .timedOut)
        #expect(s.ingestor.roomWaiterCount == 0)
        #expect(s.clock.sleeperCount == 0)
    }

    @Test(.timeLimit(.minutes(1)))
    func aCancelledRequestStopsWaitingAndLeavesNoWaiterBehind() async throws {
        let s = try await setup()
        fill(s.ingestor, games: 4)
        let outcome = await withTaskGroup(of: PersistenceRuntime.RoomWait.self) { group in
            group.addTask { await s.runtime.waitForRoom(for: 10, limit: .seconds(3600)) }
            await untilWaiting(s.ingestor)
            group.cancelAll()
            return await group.next()
        }
        #expect(outcome == .cancelled)
        #expect(s.ingestor.roomWaiterCount == 0)
    }

    @Test func belowTheCeilingOrInDurableModeNothingWaits() async throws {
        let s = try await setup()
        fill(s.ingestor, games: 1)
        #expect(s.ingestor.pendingCount <= 60 - 2 * 10)
        #expect(await s.runtime.waitForRoom(for: 10) == .notNeeded)
        var durable = Settings()
        durable.ingestDurability = .durable
        fill(s.ingestor, games: 4)
        let runtime = PersistenceRuntime(settings: durable, flag: s.runtime.flag, ingestor: s.ingestor, store: nil,
                                         statistics: FlushStatistics(), spool: s.spool)
        #expect(await runtime.waitForRoom(for: 10) == .notNeeded)
    }
}
