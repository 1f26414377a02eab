import Foundation
import Logging
import Testing
import TEDCore
@testable import TEDPersistence
import TEDStore

/// The console's timeline: a sample every 5 s on a manual clock, with the flush rate between samples.
@Suite struct TimelineSamplerTests {
    static let t0 = Day.at(10)

    static func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    @Test func samplesOnAFiveSecondGridWithPendingStoredAndTheFlushRate() async throws {
        let path = try TestServer.temporaryDirectory().appendingPathComponent("ted.sqlite").path
        let store = try SQLiteStore(path: path, logger: Logger(label: "test"))
        let flag = PersistenceFlag.forTests(enabled: true)
        let ingestor = Ingestor.forTests(flag: flag)
        let runtime = PersistenceRuntime(settings: Settings(), flag: flag, ingestor: ingestor, store: store,
                                         statistics: FlushStatistics())
        let clock = ManualClock(Self.t0)
        let task = Task { try await TimelineSampler(runtime: runtime, clock: clock).run() }
        try await clock.waitForSleepers()
        #expect(runtime.timeline.samples == [
            Timeline.Sample(at: Self.t0, pending: 0, spooled: 0, storedTotal: 0, flushRatePerSecond: nil),
        ])

        ingestor.ingest(Feed.game("g-1", ticks: 30))
        let pending = ingestor.counters.pending
        #expect(pending == 35)  // 30 ticks, 3 predictions, 1 side bet, 1 game
        clock.advance(to: Self.at(5))
        try await clock.waitForSleepers()
        #expect(runtime.timeline.samples.last == Timeline.Sample(at: Self.at(5), pending: pending, spooled: 0, storedTotal: 0,
                                                                  flushRatePerSecond: 0))

        let flush = FlushScheduler(ingestor: ingestor, store: store, interval: .seconds(1), batchSize: 10,
                                   shutdownGrace: .seconds(5), clock: clock, logger: Logger(label: "test"))
        #expect(await flush.flushPending(deadline: nil))
        clock.advance(to: Self.at(10))
        try await clock.waitForSleepers()
        #expect(runtime.timeline.samples.last == Timeline.Sample(at: Self.at(10), pending: 0, spooled: 0, storedTotal: pending,
                                                                  flushRatePerSecond: Double(pending) / 5))

        // A late wake-up samples when it wakes and keeps the grid; after a stall longer than the interval the grid
        // restarts from the wake-up.
        clock.advance(to: Self.at(17))
        try await clock.waitForSleepers()
        clock.advance(to: Self.at(20))
        try await clock.waitForSleepers()
        clock.advance(to: Self.at(31))
        try await clock.waitForSleepers()
        clock.advance(to: Self.at(35))
        try await clock.waitForSleepers()
        #expect(runtime.timeline.samples.count == 6)
        clock.advance(to: Self.at(36))
        try await clock.waitForSleepers()
        #expect(runtime.timeline.samples.map { $0.at.timeIntervalSince(Self.t0) } == [0, 5, 10, 17, 20, 31, 36])
        #expect(runtime.timeline.samples.last?.flushRatePerSecond == 0)

        task.cancel()
        try await task.value
        await store.close()
    }

    @Test func keepsTheNewestSamplesUpToItsCapacity() {
        let timeline = Timeline(interval: 5, capacity: 3)
        for i in 0..<5 {
            timeline.record(at: Self.at(Double(i) * 5), pending: i, spooled: 2 * i, storedTotal: 10 * i)
        }
        #expect(timeline.samples.map(\.pending) == [2, 3, 4])
        #expect(timeline.samples.map(\.spooled) == [4, 6, 8])
        #expect(timeline.samples.map(\.flushRatePerSecond) == [2, 2, 2])
        #expect(Timeline().interval == 5)
        #expect(Timeline.defaultCapacity == 180)
    }
}
