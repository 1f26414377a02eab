import Foundation
import NIOCore
import ServiceLifecycle
import Synchronization
import TEDPersistence

/// The time every ingest body may take to arrive (`INGEST_BODY_TIMEOUT_SECONDS`): one table of the reads under way with
/// their deadlines, and this one service, on the service clock, that wakes the requests whose reads are past theirs.
/// Each request used to race its read against a timer task of its own (two child tasks and a timer a request), which
/// cost single-event ingest a quarter of its throughput; now a read costs a table entry, and the body still arrives in
/// one child task that its request cancels at the deadline (which ends the connection's inbound stream: the stalled
/// client is answered 408, then disconnected rather than drained).
///
/// The sweeper sleeps until the earliest deadline in the table, or one `timeout` when the table is empty: every read
/// registered meanwhile has a deadline at least one `timeout` after the sweeper looked, so none is missed or woken late.
public final class BodyDeadlines: Service, Sendable {
    typealias Outcome = Result<ByteBuffer, IngestBodyReader.Failure>

    private enum Phase {
        /// The body is arriving; nobody waits for it yet.
        case reading
        /// The request waits for its body.
        case waiting(CheckedContinuation<Outcome, Never>)
        /// The body arrived (or its read failed) before the request waited for it.
        case finished(Outcome)
        /// The deadline passed before the request waited for its body.
        case expired
    }

    private struct Entry {
        let deadline: Date
        var phase: Phase
    }

    private struct Table {
        var entries: [UInt64: Entry] = [:]
        var nextID: UInt64 = 0
    }

    public let timeout: Duration
    let clock: any ServiceClock
    private let table = Mutex(Table())

    public init(timeout: Duration, clock: any ServiceClock) {
        self.timeout = timeout
        self.clock = clock
    }

    /// Reads under way.
    var count: Int { table.withLock { $0.entries.count } }

    /// A read begins: its deadline is `timeout` from now.
    func begin() -> UInt64 {
        let deadline = clock.now.addingTimeInterval(timeout.seconds)
        return table.withLock { table in
            defer { table.nextID += 1 }
            table.entries[table.nextID] = Entry(deadline: deadline, phase: .reading)
            return table.nextID
        }
    }

    /// The read `id` ended with `outcome`: it goes to the request waiting for it, or waits for the request. Ignored
    /// when the deadline passed first.
    func finish(_ id: UInt64, _ outcome: Outcome) {
        let waiter = table.withLock { table -> CheckedContinuation<Outcome, Never>? in
            guard let entry = table.entries[id] else { return nil }
            switch entry.phase {
            case .reading:
                table.entries[id]!.phase = .finished(outcome)
                return nil
            case .waiting(let continuation):
                table.entries[id] = nil
                return continuation
            case .finished, .expired:
                return nil
            }
        }
        waiter?.resume(returning: outcome)
    }

    /// The body of read `id`, or `.timedOut` once its deadline passes; the read leaves the table. The caller's task
    /// must let the read finish when it is cancelled (a cancelled read ends at once), or this waits for the deadline.
    func outcome(of id: UInt64) async -> Outcome {
        await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
            let now = table.withLock { table -> Outcome? in
                switch table.entries[id]?.phase {
                case .finished(let outcome):
                    table.entries[id] = nil
                    return outcome
                case .expired, nil:
                    table.entries[id] = nil
                    return .failure(.timedOut)
                case .reading, .waiting:
                    table.entries[id]!.phase = .waiting(continuation)
                    return nil
                }
            }
            if let now { continuation.resume(returning: now) }
        }
    }

    /// Ends the waits of the reads past their deadline at `now`; returns the earliest deadline still ahead.
    func sweep(now: Date) -> Date? {
        var next: Date?
        let expired = table.withLock { table -> [CheckedContinuation<Outcome, Never>] in
            var expired: [CheckedContinuation<Outcome, Never>] = []
            for (id, entry) in table.entries {
                if entry.deadline > now {
                    if case .finished = entry.phase { continue }
                    next = min(next ?? entry.deadline, entry.deadline)
                    continue
                }
                switch entry.phase {
                case .reading:
                    table.entries[id]!.phase = .expired
                case .waiting(let continuation):
                    table.entries[id] = nil
                    expired.append(continuation)
                case .finished, .expired:
                    break
                }
            }
            return expired
        }
        for continuation in expired { continuation.resume(returning: .failure(.timedOut)) }
        return next
    }

    /// Sweeps until shutdown. It stops after the HTTP server (it comes before it in `ted serve`'s service list), so
    /// no request outlives it.
    public func run() async throws {
        let clock = clock
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let now = clock.now
            let wake = sweep(now: now) ?? now.addingTimeInterval(timeout.seconds)
            try? await cancelWhenGracefulShutdown { try await clock.sleep(until: wake) }
        }
    }
}
