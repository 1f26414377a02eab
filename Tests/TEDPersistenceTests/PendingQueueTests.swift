import Foundation
import Synchronization
import Testing
import TEDCore
@testable import TEDPersistence
import TEDStore

@Suite struct PendingQueueTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func sample(_ tick: Int, game: String = "g1") -> StoreRecord {
        .tickSample(TickSample(gameID: game, tick: tick, price: 1, features: nil, timestamp: now, createdAt: now))
    }

    func prediction(_ at: Int, resolvedAt end: Int? = nil) -> StoreRecord {
        var p = Prediction(gameID: "g1", predictedAtTick: at, predictedEndTick: 100, confidence: 0.5, timestamp: now, createdAt: now)
        if let end { p = p.resolved(actualEndTick: end) }
        return .prediction(p)
    }

    func balanced(_ queue: PendingQueue) -> Bool {
        CollectionName.flushed.allSatisfy { c in
            let l = queue.ledger
            return l.value(.accepted, c) == l.value(.stored, c) + queue.count(of: c) + l.value(.spooled, c) + l.dropped(c) + l.value(.superseded, c)
        }
    }

    @Test func batchesAreTakenOldestFirstAndCompleted() throws {
        var queue = PendingQueue(capacity: 100)
        for tick in 0..<5 { queue.enqueue(sample(tick)) }
        queue.enqueue(prediction(1))
        let firstTaken = queue.takeBatch(limit: 3)
        let first = try #require(firstTaken)
        #expect(first.collection == .tickSamples)
        #expect(first.records.map(\.id) == ["g1:0", "g1:1", "g1:2"])
        #expect(queue.count == 6)  // in flight still counts as pending
        queue.complete(first)
        let secondTaken = queue.takeBatch(limit: 10)
        let second = try #require(secondTaken)
        #expect(second.records.map(\.id) == ["g1:3", "g1:4"])
        queue.complete(second)
        let thirdTaken = queue.takeBatch(limit: 10)
        let third = try #require(thirdTaken)
        #expect(third.collection == .predictions)
        queue.complete(third)
        let none = queue.takeBatch(limit: 10)
        #expect(none == nil)
        #expect(queue.count == 0)
        #expect(queue.ledger.value(.stored, .tickSamples) == 5)
        #expect(balanced(queue))
    }

    /// The flush is told once the queue reaches the high-water mark: with a spool `SPOOL_HIGH_WATER` (at most half
    /// the queue), without one half the queue.
    @Test func theHighWaterHandlerFiresFromTheMarkOn() throws {
        func calls(spooling: Bool, _ values: [String: String], records: Int) throws -> (highWater: Int, calls: Int) {
            let ingestor = Ingestor(settings: try Settings(values: values), flag: .forTests(enabled: true), spooling: spooling)
            let counter = Mutex(0)
            ingestor.onHighWater { counter.withLock { $0 += 1 } }
            // One game_state update derives one tick sample; the first also derives the game.
            for tick in 0..<records - 1 {
                ingestor.ingest([.gameState(GameStateUpdate(gameID: "g", tick: tick, price: 1, rugged: false, timestamp: now))], now: now)
            }
            return (ingestor.highWater, counter.withLock { $0 })
        }
        let spooled = try calls(spooling: true, ["SPOOL_HIGH_WATER": "50", "PERSISTENCE_MAX_PENDING": "1000"], records: 60)
        #expect(spooled.highWater == 50)
        #expect(spooled.calls == 11, "one call per ingest from 50 pending records to 60")
        let capped = try calls(spooling: true, ["SPOOL_HIGH_WATER": "50", "PERSISTENCE_MAX_PENDING": "60"], records: 60)
        #expect(capped.highWater == 30, "never above half the queue")
        #expect(capped.calls == 31)
        let unspooled = try calls(spooling: false, ["SPOOL_HIGH_WATER": "50", "PERSISTENCE_MAX_PENDING": "1000"], records: 60)
        #expect(unspooled.highWater == 500)
        #expect(unspooled.calls == 0)
    }

    @Test func aNewerVersionReplacesThePendingOne() throws {
        var queue = PendingQueue(capacity: 100)
        queue.enqueue(prediction(1))
        queue.enqueue(prediction(1, resolvedAt: 90))
        #expect(queue.count == 1)
        let batchTaken = queue.takeBatch(limit: 10)
        let batch = try #require(batchTaken)
        guard case .prediction(let p) = batch.records[0] else { Issue.record("not a prediction"); return }
        #expect(p.actualEndTick == 90)
        queue.complete(batch)
        #expect(queue.ledger.value(.superseded, .predictions) == 1)
        #expect(balanced(queue))
    }

    @Test func aFailedBatchGoesBackToTheFrontInOrder() throws {
        var queue = PendingQueue(capacity: 100)
        for tick in 0..<4 { queue.enqueue(sample(tick)) }
        let batchTaken = queue.takeBatch(limit: 2)
        let batch = try #require(batchTaken)
        queue.enqueue(sample(9))
        queue.putBack(batch)
        let againTaken = queue.takeBatch(limit: 10)
        let again = try #require(againTaken)
        #expect(again.records.map(\.id) == ["g1:0", "g1:1", "g1:2", "g1:3", "g1:9"])
        #expect(balanced(queue))
    }

    /// The flush takes the next batch while one is being written; when the write fails both go back, the later
    /// one first: the original order returns, and a newer version taken with the later batch wins.
    @Test func twoBatchesInFlightGoBackInTheirOrder() throws {
        var queue = PendingQueue(capacity: 100)
        for tick in 0..<3 { queue.enqueue(sample(tick)) }
        queue.enqueue(prediction(1))
        let failing = try #require(Optional(queue.takeBatch(limit: 2)) ?? nil)  // ticks 0 and 1
        let next = try #require(Optional(queue.takeBatch(limit: 10)) ?? nil)  // tick 2
        #expect(failing.records.map(\.id) == ["g1:0", "g1:1"] && next.records.map(\.id) == ["g1:2"])
        queue.putBack(next)
        queue.putBack(failing)
        #expect(queue.count == 4)
        let again = try #require(Optional(queue.takeBatch(limit: 10)) ?? nil)
        #expect(again.records.map(\.id) == ["g1:0", "g1:1", "g1:2"])
        queue.complete(again)

        // A newer version taken with the next batch wins over the failed batch's older one.
        let old = try #require(Optional(queue.takeBatch(limit: 10)) ?? nil)
        queue.enqueue(prediction(1, resolvedAt: 60))
        let newer = try #require(Optional(queue.takeBatch(limit: 10)) ?? nil)
        queue.putBack(newer)
        queue.putBack(old)
        #expect(queue.count == 1)
        #expect(queue.ledger.value(.superseded, .predictions) == 1)
        let last = try #require(Optional(queue.takeBatch(limit: 10)) ?? nil)
        guard case .prediction(let p) = last.records.first else { Issue.record("no prediction"); return }
        #expect(p.actualEndTick == 60, "the resolved version won")
        #expect(balanced(queue))
    }

    @Test func aFailedBatchYieldsToANewerVersionThatArrivedMeanwhile() throws {
        var queue = PendingQueue(capacity: 100)
        queue.enqueue(prediction(1))
        let batchTaken = queue.takeBatch(limit: 10)
        let batch = try #require(batchTaken)
        queue.enqueue(prediction(1, resolvedAt: 50))
        queue.putBack(batch)
        #expect(queue.count == 1)
        let againTaken = queue.takeBatch(limit: 10)
        let again = try #require(againTaken)
        guard case .prediction(let p) = again.records[0] else { Issue.record("not a prediction"); return }
        #expect(p.actualEndTick == 50)
        #expect(balanced(queue))
    }

    @Test func aFailedBatchNeverComesBackAheadOfANewerVersionInTheSpool() throws {
        var queue = PendingQueue(capacity: 100)
        queue.enqueue(prediction(1))
        let stuck = try #require(Optional(queue.takeBatch(limit: 10)) ?? nil)
        // While that write hangs, the resolved version arrives and is moved to the spool.
        queue.enqueue(prediction(1, resolvedAt: 70))
        let spill = try #require(Optional(queue.takeBatch(limit: 10)) ?? nil)
        queue.handOff(spill, to: .spooled)
        queue.putBack(stuck)
        #expect(queue.count == 0)
        #expect(queue.ledger.value(.superseded, .predictions) == 1)
        #expect(balanced(queue))
    }

    /// A record leaving the front takes its index entry with it, in a queue that never empties too: the index
    /// holds the queued records and no other, so ingest never rehashes, nor the flush frees, a table of records
    /// long gone (both under the lock every request takes). A record that left is queued anew, not folded into
    /// whatever now sits at its old position, and a queued one still folds.
    @Test func theIndexOfAQueueThatNeverEmptiesHoldsOnlyTheQueuedRecords() throws {
        var queue = PendingQueue(capacity: 1_000_000)
        queue.enqueue(sample(1))
        let flowing = 20_000
        for at in 0..<flowing {
            queue.enqueue(prediction(at))
            // One prediction of every thousand stays: the queue never empties.
            if at % 1_000 == 999, let batch = queue.takeBatch(limit: 999, excluding: [.tickSamples]) { queue.complete(batch) }
        }
        let predictions = try #require(queue.queues[.predictions])
        #expect(predictions.positions.count == predictions.count, "no entry of a record that left")
        let leftLongAgo = prediction(0, resolvedAt: 80), leftRecently = prediction(flowing - 5_000, resolvedAt: 80)
        let stillQueued = prediction(flowing - 1, resolvedAt: 80)
        for record in [leftLongAgo, leftRecently, stillQueued] { queue.enqueue(record) }
        #expect(queue.ledger.value(.superseded, .predictions) == 1, "only the queued prediction folded")
        var taken: [StoreRecord] = []
        while let batch = queue.takeBatch(limit: 10_000) {
            if batch.collection == .predictions { taken += batch.records }
            queue.complete(batch)
        }
        #expect(Array(taken.suffix(2)) == [leftLongAgo, leftRecently], "queued anew, at the back")
        #expect(taken.filter { $0.id == stillQueued.id } == [stillQueued], "folded into the queued version")
        #expect(queue.count == 0)
        #expect(try #require(queue.queues[.predictions]).positions.isEmpty)
        #expect(balanced(queue))
    }

    /// Tick samples come in one version (`CollectionName.recordsHaveVersions`): the queue keeps no index of them, and
    /// a repeat is queued again for the store to answer "already stored".
    @Test func tickSamplesAreQueuedWithoutAnIndexAndARepeatIsQueuedAgain() throws {
        var queue = PendingQueue(capacity: 100)
        for tick in [1, 1, 2] { queue.enqueue(sample(tick)) }
        #expect(try #require(queue.queues[.tickSamples]).positions.isEmpty)
        #expect(queue.count == 3)
        #expect(queue.ledger.value(.superseded, .tickSamples) == 0)
        let taken = queue.takeBatch(limit: 10)
        let batch = try #require(taken)
        #expect(batch.records.map(\.id) == ["g1:1", "g1:1", "g1:2"])
        queue.settle(batch, fates: [.stored, .alreadyStored, .stored])
        #expect(queue.count == 0)
        #expect(balanced(queue))
    }

    @Test func underTheRejectPolicyNothingIsDropped() {
        var queue = PendingQueue(capacity: 3, dropsWhenFull: false)
        for tick in 0..<5 { queue.enqueue(sample(tick)) }
        #expect(queue.count == 5)
        #expect(queue.ledger.droppedTotal == 0)
    }

    @Test func overflowDropsTheOldestAndCountsIt() {
        var queue = PendingQueue(capacity: 3)
        for tick in 0..<5 { queue.enqueue(sample(tick)) }
        #expect(queue.count == 3)
        #expect(queue.ledger.dropped(.tickSamples) == 2)
        #expect(queue.ledger.droppedByReason == ["queue_full": 2])
        #expect(balanced(queue))
    }
}

@Suite struct RetryBackoffTests {
    @Test func doublesUpToTheMaximumAndResets() {
        var backoff = RetryBackoff(initial: .milliseconds(500), maximum: .seconds(3))
        #expect(backoff.delay == .zero)
        #expect(backoff.failed() == .milliseconds(500))
        #expect(backoff.failed() == .seconds(1))
        #expect(backoff.failed() == .seconds(2))
        #expect(backoff.failed() == .seconds(3))
        #expect(backoff.failed() == .seconds(3))
        backoff.succeeded()
        #expect(backoff.delay == .zero)
        #expect(backoff.failed() == .milliseconds(500))
    }
}
