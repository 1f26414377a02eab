import Foundation
import ServiceLifecycle

/// Samples the write path into `runtime.timeline` every `timeline.interval`, on an injected clock (tests advance a
/// manual one instead of sleeping). It only reads counters, so it runs whether persistence is on or off.
public final class TimelineSampler: Service, Sendable {
    let runtime: PersistenceRuntime
    let clock: any ServiceClock

    public init(runtime: PersistenceRuntime, clock: any ServiceClock) {
        self.runtime = runtime
        self.clock = clock
    }

    public func run() async throws {
        let clock = clock
        var next = clock.now
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            sample(at: clock.now)
            // On a fixed grid, so a late wake-up does not shift every later sample; after a long stall, from now.
            next = next.addingTimeInterval(runtime.timeline.interval)
            if next <= clock.now { next = clock.now.addingTimeInterval(runtime.timeline.interval) }
            let wake = next
            try? await cancelWhenGracefulShutdown { try await clock.sleep(until: wake) }
        }
    }

    /// One reading of the counters now.
    func sample(at date: Date) {
        let counters = runtime.ingestor.counters
        runtime.timeline.record(at: date, pending: counters.pending, spooled: runtime.spool?.file.count ?? 0,
                                storedTotal: counters.ledger.total(.stored))
    }
}
