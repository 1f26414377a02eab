import Logging
import ServiceLifecycle
import TEDStore

/// Brings the flag changes of the local journal to the store: at start (an earlier run may have left some), after
/// each change, and every `retryInterval` while the store refuses them. Idle while the flag is off.
public struct FlagHistorySync: Service {
    let history: FlagHistory
    let retryInterval: Duration
    let clock: any ServiceClock
    let logger: Logger

    public init(history: FlagHistory, retryInterval: Duration = .seconds(5), clock: any ServiceClock, logger: Logger) {
        self.history = history
        self.retryInterval = retryInterval
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if history.canSync {
                do throws(StoreError) {
                    let synced = try await history.sync()
                    if synced > 0 { logger.info("Flag history synced to the store", metadata: ["changes": "\(synced)"]) }
                    continue
                } catch {
                    logger.warning("Flag history not synced, kept in the local file: \(error.message)",
                                   metadata: ["unsynced": "\(history.unsyncedCount)"])
                }
                do {
                    try await cancelWhenGracefulShutdown { try await clock.sleep(for: retryInterval) }
                } catch {
                    return
                }
            } else {
                // A change (the flag turning on included) signals; nothing else can give the sync work.
                await cancelWhenGracefulShutdown { await history.changed.wait() }
            }
        }
    }
}
