import Foundation
import Logging
import Testing
import TEDCore
@testable import TEDPersistence
import TEDStore

/// The running game is ended as inferred once its feed has been silent for the timeout, on a manual clock.
@Suite struct IdleGameMonitorTests {
    static let t0 = Day.at(10)

    static func tick(_ tick: Int) -> IngestEvent {
        .gameState(GameStateUpdate(gameID: "g1", tick: tick, price: 1.5, timestamp: t0))
    }

    @Test func aSilentGameEndsInferredAfterTheTimeoutAndNotBefore() async throws {
        let ingestor = Ingestor.forTests(flag: .forTests(enabled: true))
        let clock = ManualClock(Self.t0)
        ingestor.ingest([Self.tick(0)], now: Self.t0)
        let monitor = IdleGameMonitor(ingestor: ingestor, timeout: 60, clock: clock, logger: Logger(label: "test"))
        let task = Task { try await monitor.run() }
        try await clock.waitForSleepers()
        // An update at +30 s moves the deadline to +90 s.
        ingestor.ingest([Self.tick(1)], now: Self.t0.addingTimeInterval(30))
        clock.advance(to: Self.t0.addingTimeInterval(60))
        try await clock.waitForSleepers()
        #expect(ingestor.currentGame?.gameID == "g1")
        clock.advance(to: Self.t0.addingTimeInterval(89))
        try await clock.waitForSleepers()
        #expect(ingestor.currentGame?.gameID == "g1")
        clock.advance(to: Self.t0.addingTimeInterval(90))
        try await clock.waitForSleepers()
        #expect(ingestor.currentGame == nil)
        let summary = try #require(ingestor.latestGameSummaries(1).first)
        #expect(summary.game.gameID == "g1" && summary.game.endInferred && summary.game.endTick == 1)
        // The ended game went to the pending queue like any ingest.
        let batch = try #require(ingestor.takeBatch(limit: 100, excluding: [.tickSamples, .predictions, .sideBets]))
        #expect(batch.records.contains { record in
            if case .game(let game) = record { return game.endInferred } else { return false }
        })
        task.cancel()
        try await task.value
    }

    @Test(.timeLimit(.minutes(1)))
    func inDurableModeAFailedCommitKeepsTheEndedGameInMemory() async throws {
        let path = try TestServer.temporaryDirectory().appendingPathComponent("spool.sqlite").path
        // Too small for any record: every commit fails (spool full).
        let spool = Spool(file: try await SpoolFile(path: path, maxBytes: 1, logger: Logger(label: "test")))
        let committer = GroupCommitter(spool: spool)
        let ingestor = Ingestor(rules: OutcomeRules(), sizes: BufferSizes(tickSamples: 10, finishedGames: 10, sideBets: 10),
                                pendingCapacity: 1000, flag: .forTests(enabled: true), durableSink: committer)
        let clock = ManualClock(Self.t0)
        let monitor = IdleGameMonitor(ingestor: ingestor, timeout: 60, clock: clock, logger: Logger(label: "test"))
        try await withRunning([committer]) {
            // As the ingest route does with a failed commit.
            if let ticket = ingestor.ingest([Self.tick(0)], now: Self.t0).durable, case .failure = await ticket.wait() {
                ingestor.keepInMemory(ticket.records)
            }
            let pending = ingestor.pendingCount
            try await withRunning([monitor]) {
                try await clock.waitForSleepers()
                try await clock.step(by: .seconds(60))
            }
            #expect(ingestor.currentGame == nil)
            #expect(ingestor.pendingCount == pending)  // the ended game replaced its earlier version in memory
            let counters = ingestor.counters
            for collection in CollectionName.flushed {
                #expect(counters.ledger.isBalanced(collection, pending: counters.pendingByCollection[collection] ?? 0), "\(collection)")
            }
            let games = try #require(ingestor.takeBatch(limit: 10, excluding: [.tickSamples, .predictions, .sideBets]))
            #expect(games.records.map { record in if case .game(let game) = record { game.endInferred } else { false } } == [true])
        }
        await spool.file.close()
    }
}
