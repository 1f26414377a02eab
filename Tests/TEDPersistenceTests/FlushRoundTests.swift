import Testing
@testable import TEDPersistence
import TEDStore

/// A flush round's decisions, without I/O.
@Suite struct FlushRoundTests {
    @Test func theSpoolIsReplayedBeforeMemoryAndTheRoundEndsWhenBothAreEmpty() {
        var round = FlushRound(replaysSpool: true)
        #expect(round.next(stop: false) == .replaySpool(excluding: []))
        round.batchWritten(.tickSamples, complete: true)
        #expect(round.next(stop: false) == .replaySpool(excluding: []))
        round.sourceExhausted()
        #expect(round.next(stop: false) == .writeMemory(excluding: []))
        round.batchWritten(.games, complete: true)
        #expect(round.next(stop: false) == .writeMemory(excluding: []))
        round.sourceExhausted()
        #expect(round.next(stop: false) == .finish(spill: false))
        #expect(round.succeeded)
    }

    @Test func withoutASpoolTheRoundStartsWithMemory() {
        var round = FlushRound(replaysSpool: false)
        #expect(round.next(stop: false) == .writeMemory(excluding: []))
    }

    @Test func aCollectionThatMustBeWrittenAgainIsLeftOutAndTheRoundEndsWithASpill() {
        var round = FlushRound(replaysSpool: true)
        _ = round.next(stop: false)
        round.batchWritten(.games, complete: false)
        #expect(round.next(stop: false) == .replaySpool(excluding: [.games]))
        round.sourceExhausted()
        // Memory of the failed collection does not overtake what waits for it in the spool.
        #expect(round.next(stop: false) == .writeMemory(excluding: [.games]))
        round.batchWritten(.tickSamples, complete: false)
        #expect(round.next(stop: false) == .writeMemory(excluding: [.games, .tickSamples]))
        round.sourceExhausted()
        #expect(round.next(stop: false) == .finish(spill: true))
        #expect(!round.succeeded)
    }

    @Test func aReplayedBatchThatCannotLeaveTheSpoolHoldsItsCollectionUntilTheNextRound() {
        var round = FlushRound(replaysSpool: true)
        _ = round.next(stop: false)
        round.spoolNotUpdated(.predictions)
        #expect(round.next(stop: false) == .replaySpool(excluding: [.predictions]))
    }

    @Test func anUnreadableSpoolHoldsEveryCollectionBack() {
        var round = FlushRound(replaysSpool: true)
        _ = round.next(stop: false)
        round.spoolUnreadable()
        #expect(round.next(stop: false) == .writeMemory(excluding: Set(CollectionName.flushed)))
        round.sourceExhausted()
        #expect(round.next(stop: false) == .finish(spill: true))
    }

    @Test func aStopEndsTheRoundBeforeTheNextBatchAndStillSpillsWhatFailed() {
        var round = FlushRound(replaysSpool: false)
        _ = round.next(stop: false)
        #expect(round.next(stop: true) == .finish(spill: false))

        var failing = FlushRound(replaysSpool: true)
        _ = failing.next(stop: false)
        failing.batchWritten(.sideBets, complete: false)
        #expect(failing.next(stop: true) == .finish(spill: true))
    }

    @Test func aRoundTakesFromMemoryOnlyWhatWasPendingWhenItBegan() {
        var round = FlushRound(replaysSpool: true, memoryBudget: 250)
        // The spool is not bounded by it.
        #expect(round.next(stop: false) == .replaySpool(excluding: []))
        round.sourceExhausted()
        #expect(round.next(stop: false) == .writeMemory(excluding: []))
        round.tookFromMemory(100)
        round.tookFromMemory(100)
        #expect(round.memoryBudget == 50)
        #expect(round.next(stop: false) == .writeMemory(excluding: []))
        round.tookFromMemory(50)
        round.batchWritten(.tickSamples, complete: true)
        // Memory may hold more by now (ingest went on): that is the next round's.
        #expect(round.next(stop: false) == .finish(spill: false))
        var empty = FlushRound(replaysSpool: false, memoryBudget: 0)
        #expect(empty.next(stop: false) == .finish(spill: false))
    }
}
