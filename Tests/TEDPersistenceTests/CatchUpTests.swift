import Foundation
import Logging
import Testing
import TEDCore
@testable import TEDPersistence
@testable import TEDStore

/// Catch-up after a rollback, on both stores: exactly the records of the off periods, counted `caught_up`, the
/// accounting balanced, nothing new the second time, nothing at all while the flag is off.
@Suite struct CatchUpTests {
    let logger = Logger(label: "test")

    typealias Backend = BothStores

    func makeStore(_ backend: Backend) throws -> any DocumentStore { try backend.makeStore() }

    /// Ticks `ticks` of game `id` (rugged at `rugAt`), a prediction at each tick in `predictionsAt` and a side bet at
    /// each tick in `sideBetsAt`, received now (the rings' records carry the time they were received).
    static func events(_ id: String, ticks: Range<Int>, rugAt: Int? = nil, predictionsAt: [Int] = [], sideBetsAt: [Int] = []) -> [IngestEvent] {
        let now = Date()
        var events: [IngestEvent] = []
        for tick in ticks {
            events.append(.gameState(GameStateUpdate(gameID: id, tick: tick, price: 1 + Double(tick) / 100, rugged: tick == rugAt, timestamp: now)))
            if predictionsAt.contains(tick) {
                events.append(.prediction(Prediction(gameID: id, predictedAtTick: tick, predictedEndTick: 19, confidence: 0.6,
                                                     modelVersion: "m1", timestamp: now, createdAt: now)))
            }
            if sideBetsAt.contains(tick) {
                events.append(.sideBet(SideBet(gameID: id, placedAtTick: tick, probability: 0.4, expectedValue: 0.2, confidence: 0.5,
                                               recommendation: .bet, timestamp: now, createdAt: now)))
            }
        }
        return events
    }

    @Test(arguments: Backend.allCases)
    func catchUpWritesExactlyTheOffPeriodsRecordsOnce(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        let flag = PersistenceFlag.forTests(enabled: true)
        let ingestor = Ingestor.forTests(flag: flag)
        let flush = FlushScheduler(ingestor: ingestor, store: store, interval: .milliseconds(100), batchSize: 50,
                                   shutdownGrace: .seconds(10), clock: ManualClock(), logger: logger)
        let runtime = PersistenceRuntime(settings: Settings(), flag: flag, ingestor: ingestor, store: store, statistics: FlushStatistics())

        // On: game a whole, and the first half of game b (stored as it comes).
        ingestor.ingest(Self.events("a", ticks: 0..<20, rugAt: 19, predictionsAt: [0]))
        ingestor.ingest(Self.events("b", ticks: 0..<10, predictionsAt: [0], sideBetsAt: [2]))
        #expect(await flush.flushPending(deadline: nil))
        // Off (a rollback): the rest of b, then game c whole; nothing of it is queued.
        flag.set(false, source: .api)
        ingestor.ingest(Self.events("b", ticks: 10..<20, rugAt: 19, predictionsAt: [12], sideBetsAt: [15]))
        ingestor.ingest(Self.events("c", ticks: 0..<20, rugAt: 19, predictionsAt: [5], sideBetsAt: [6]))
        #expect(ingestor.pendingCount == 0)
        #expect(runtime.catchUp() == .disabled, "never while off")
        #expect(ingestor.pendingCount == 0)
        // On again: game d is stored as it comes.
        flag.set(true, source: .api)
        ingestor.ingest(Self.events("d", ticks: 0..<5))
        #expect(await flush.flushPending(deadline: nil))
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 20 + 10 + 5)
        #expect(try await store.documents.count(.games, where: .ids(["c"])) == 0)
        let before = ingestor.counters.ledger

        guard case .caughtUp(let result) = runtime.catchUp() else {
            Issue.record("catch-up refused while the flag is on")
            return
        }
        // b's second half and its end, c whole: ticks received while off, the last prediction of each finished
        // game received then (b's at 12, c's at 5), their side bets, and the two games running during the period.
        #expect(result.counts == ["games": 2, "tick_samples": 30, "predictions": 2, "side_bets": 2])
        #expect(result.periods.count == 1)
        #expect(result.periods.first?.to != nil)
        #expect(await flush.flushPending(deadline: nil))

        let ledger = ingestor.counters.ledger
        #expect(ledger.value(.caughtUp, .tickSamples) == 30)
        #expect(ledger.value(.caughtUp, .games) == 2)
        #expect(ledger.value(.caughtUp, .predictions) == 2)
        #expect(ledger.value(.caughtUp, .sideBets) == 2)
        for collection in CollectionName.flushed {
            #expect(ledger.value(.accepted, collection) == before.value(.accepted, collection), "a catch-up accepts nothing")
        }
        ingestor.expectBalanced("after the catch-up")
        #expect(ingestor.pendingCount == 0)

        // Every tick once: a, b (both halves), c, d.
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 20 + 20 + 20 + 5)
        #expect(try await store.documentCount(of: .tickSamples, matching: DocumentSelection(gameID: "b")) == 20)
        let b = try #require(try await store.storedGame("b"))
        #expect(b["end_tick"]?.intValue == 19)
        #expect(b["rugged"]?.boolValue == true)
        let c = try #require(try await store.storedGame("c"))
        #expect(c["start_tick"]?.intValue == 0)
        // b's prediction stored while on is resolved too, now that the store knows b's end.
        #expect(try await store.documents.count(.predictions, where: .and([.equals("game_id", "b"), .equals("resolved", .bool(true))])) == 2)
        #expect(try await store.documents.count(.predictions, where: .ids(["c:5:m1"])) == 1)
        #expect(try await store.documents.count(.sideBets, where: .ids(["b:2", "b:15", "c:6"])) == 3)
        #expect(try await store.documents.count(.sideBets, where: .ids(["c:6"])) == 1)

        // A second catch-up: the period was taken, nothing new is queued or written.
        #expect(runtime.catchUp() == .caughtUp(CatchUp.Result(
            counts: ["games": 0, "tick_samples": 0, "predictions": 0, "side_bets": 0], periods: [])))
        #expect(ingestor.pendingCount == 0)
        #expect(ingestor.counters.ledger == ledger)

        // Off again: refused, nothing taken, so the next catch-up (on) still has this period.
        flag.set(false, source: .api)
        ingestor.ingest(Self.events("e", ticks: 0..<3, rugAt: 2))
        #expect(runtime.catchUp() == .disabled)
        #expect(ingestor.counters.ledger == ledger)
        flag.set(true, source: .api)
        guard case .caughtUp(let next) = runtime.catchUp() else {
            Issue.record("catch-up refused while the flag is on")
            return
        }
        // e whole, and d: e's first update closed d (its end inferred) while the flag was off.
        #expect(next.counts == ["games": 2, "tick_samples": 3, "predictions": 0, "side_bets": 0])
        #expect(await flush.flushPending(deadline: nil))
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 20 + 20 + 20 + 5 + 3)
        ingestor.expectBalanced("after the second period")
        await store.close()
    }

    @Test func offSinceStartIsAPeriodAndAnOpenPeriodIsNotTaken() {
        let start = Date(timeIntervalSince1970: 1_000)
        var periods = OffPeriods(startedAt: start, enabled: false)
        #expect(periods.takeClosed().isEmpty, "still off: the period is open")
        periods.record(enabled: true, at: start.addingTimeInterval(10))
        periods.record(enabled: false, at: start.addingTimeInterval(20))
        #expect(periods.takeClosed() == [OffPeriods.Period(from: start, to: start.addingTimeInterval(10))])
        periods.record(enabled: true, at: start.addingTimeInterval(30))
        #expect(periods.takeClosed() == [OffPeriods.Period(from: start.addingTimeInterval(20), to: start.addingTimeInterval(30))])
        #expect(periods.takeClosed().isEmpty)
        let period = OffPeriods.Period(from: start, to: start.addingTimeInterval(10))
        #expect(period.contains(start) && !period.contains(start.addingTimeInterval(10)))
        #expect(period.overlaps(from: start.addingTimeInterval(-5), to: start) && !period.overlaps(from: start.addingTimeInterval(10), to: start.addingTimeInterval(11)))
    }
}
