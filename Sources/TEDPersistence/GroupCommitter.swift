import ServiceLifecycle
import Synchronization
import TEDStore

/// Durable ingest: commits the records of concurrent requests to the spool together, one transaction per round,
/// and tells each request when its records are on disk. Tickets are taken in ingest order (under the ingest
/// lock) and committed in that order, so the spool replays records in the order they were derived. A service of the
/// service group: ingest only signals it.
public final class GroupCommitter: Service, Sendable {
    /// One request's records and the answer it waits for.
    public final class Ticket: Sendable {
        public let records: [StoreRecord]
        private let state = Mutex<(result: Result<Void, StoreError>?, waiter: CheckedContinuation<Result<Void, StoreError>, Never>?)>((nil, nil))

        fileprivate init(records: [StoreRecord]) { self.records = records }

        /// Waits until the records are committed (or the commit failed).
        public func wait() async -> Result<Void, StoreError> {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> Result<Void, StoreError>? in
                    if let result = state.result { return result }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }

        fileprivate func finish(_ result: Result<Void, StoreError>) {
            let waiter = state.withLock { state -> CheckedContinuation<Result<Void, StoreError>, Never>? in
                state.result = result
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: result)
        }
    }

    private let spool: Spool
    private let queue = Mutex<(tickets: [Ticket], stopped: Bool)>(([], false))
    private let queued = Wakeup()

    public init(spool: Spool) {
        self.spool = spool
    }

    /// Queues records for the next commit round. Synchronous, so the caller can call it under its own lock. Once the
    /// service has stopped, the ticket fails at once: the caller keeps the records in memory, never waits forever.
    public func enqueue(_ records: [StoreRecord]) -> Ticket {
        let ticket = Ticket(records: records)
        let stopped = queue.withLock { queue -> Bool in
            if !queue.stopped { queue.tickets.append(ticket) }
            return queue.stopped
        }
        if stopped {
            ticket.finish(.failure(StoreError(.unavailable, "the spool's group commit has stopped")))
        } else {
            queued.signal()
        }
        return ticket
    }

    /// Commits rounds as tickets arrive. On graceful shutdown it commits what is queued and stops; it must stop
    /// after every service that ingests (listed before them in the service group).
    public func run() async throws {
        while true {
            await cancelWhenGracefulShutdown { await self.queued.wait() }
            let stopping = Task.isShuttingDownGracefully || Task.isCancelled
            await drain(stopping: stopping)
            if stopping { return }
        }
    }

    /// Commits rounds until nothing is queued: each round takes every ticket queued so far. The last drain marks the
    /// committer stopped in the same step that finds the queue empty, so no ticket is left behind.
    private func drain(stopping: Bool) async {
        while true {
            let round = queue.withLock { queue -> [Ticket] in
                let tickets = queue.tickets
                queue.tickets.removeAll(keepingCapacity: true)
                if tickets.isEmpty && stopping { queue.stopped = true }
                return tickets
            }
            if round.isEmpty { return }
            let result: Result<Void, StoreError>
            do {
                try await spool.append(round.flatMap(\.records))
                result = .success(())
            } catch {
                result = .failure(error)
            }
            for ticket in round { ticket.finish(result) }
        }
    }
}
