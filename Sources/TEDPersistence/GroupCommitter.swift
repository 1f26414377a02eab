import Synchronization
import TEDStore

/// Durable ingest: commits the records of concurrent requests to the spool together, one transaction per round,
/// and tells each request when its records are on disk. Tickets are taken in ingest order (under the ingest
/// lock) and committed in that order, so the spool replays records in the order they were derived.
public final class GroupCommitter: Sendable {
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
    private let queue = Mutex<(tickets: [Ticket], draining: Bool)>(([], false))

    public init(spool: Spool) {
        self.spool = spool
    }

    /// Queues records for the next commit round. Synchronous, so the caller can call it under its own lock.
    public func enqueue(_ records: [StoreRecord]) -> Ticket {
        let ticket = Ticket(records: records)
        let startDrain = queue.withLock { queue -> Bool in
            queue.tickets.append(ticket)
            if queue.draining { return false }
            queue.draining = true
            return true
        }
        if startDrain {
            Task { await self.drain() }
        }
        return ticket
    }

    /// Commits rounds until nothing is queued: each round takes every ticket queued so far.
    private func drain() async {
        while true {
            let round = queue.withLock { queue -> [Ticket] in
                let tickets = queue.tickets
                queue.tickets.removeAll(keepingCapacity: true)
                if tickets.isEmpty { queue.draining = false }
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
