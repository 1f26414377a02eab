import Foundation
import Logging
import ServiceLifecycle

/// Ends the running game as inferred (`end_inferred`) once its feed has been silent for `timeout`: without it, a
/// feed that stops without a rug leaves the game open and its predictions and side bets unresolved until another
/// game starts. Sleeps until the running game would have been silent that long, on an injected clock.
public final class IdleGameMonitor: Service, Sendable {
    let ingestor: Ingestor
    let timeout: TimeInterval
    let clock: any ServiceClock
    let logger: Logger

    public init(ingestor: Ingestor, timeout: TimeInterval, clock: any ServiceClock, logger: Logger) {
        self.ingestor = ingestor
        self.timeout = timeout
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        let clock = clock
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let now = clock.now
            let (ended, receipt, lastUpdate) = ingestor.endIdleGame(silentSince: now.addingTimeInterval(-timeout), now: now)
            if let ended {
                logger.info("Game \(ended) ended as inferred: no update for \(Int(timeout)) s")
            }
            // In durable mode, as an ingest request does: a failed spool commit keeps the records in memory.
            if let ticket = receipt.durable, case .failure = await ticket.wait() {
                ingestor.keepInMemory(ticket.records)
            }
            // With no game running, a game that starts now is idle `timeout` from now at the earliest.
            let wake = (lastUpdate ?? now).addingTimeInterval(timeout)
            try? await cancelWhenGracefulShutdown { try await clock.sleep(until: wake) }
        }
    }
}
