import Foundation
import Testing
import TEDCore
@testable import TEDPersistence
import TEDStore

/// When the write path counts as stuck: pure, with the clock given.
@Suite struct WritePathHealthTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    func counters(oldest: [CollectionName: Date]) -> Ingestor.Counters {
        let ingestor = Ingestor.forTests(flag: .forTests(enabled: true))
        var counters = ingestor.counters
        counters.oldestPendingAt = oldest
        return counters
    }

    @Test func memoryWaitingLongerThanThreeIntervalsIsStuck() {
        let counters = counters(oldest: [.games: Self.start, .tickSamples: Self.start.addingTimeInterval(80)])
        let stuck = WritePathHealth.stuck(counters: counters, flush: FlushStatistics.Snapshot(), spooled: [:],
                                          startedAt: Self.start, interval: .seconds(30), now: Self.start.addingTimeInterval(100))
        #expect(stuck.map(\.collection) == [.games])
        #expect(stuck.first?.place == "memory")
        #expect(stuck.first?.waitingSeconds == 100)
    }

    @Test func aSpoolWithoutProgressIsStuckButOneThatDrainsIsNot() {
        var flush = FlushStatistics.Snapshot()
        flush.spooledSince = [.predictions: Self.start, .sideBets: Self.start]
        flush.progressAt = [.sideBets: Self.start.addingTimeInterval(95)]
        let stuck = WritePathHealth.stuck(counters: counters(oldest: [:]), flush: flush, spooled: [.predictions: 3, .sideBets: 9],
                                          startedAt: Self.start, interval: .seconds(30), now: Self.start.addingTimeInterval(100))
        #expect(stuck.map(\.collection) == [.predictions])
        #expect(stuck.first?.place == "spool")
    }

    @Test func theThresholdIsThreeIntervalsAndAtLeastASecond() {
        #expect(WritePathHealth.threshold(interval: .seconds(30)) == 90)
        #expect(WritePathHealth.threshold(interval: .milliseconds(50)) == 1)
    }
}
