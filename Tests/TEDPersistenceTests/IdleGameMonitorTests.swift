import Foundation
import Logging
import Testing
import TEDCore
@testable import TEDPersistence

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
}
