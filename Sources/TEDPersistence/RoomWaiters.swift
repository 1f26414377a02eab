/// Ingest requests waiting for the pending queue to shrink (`PersistenceRuntime.waitForRoom`). Kept under the
/// ingestor's lock together with the queue they wait on, so a change of the count and the choice of who may go on
/// are one step: no wake-up is lost between a waiter's look at the count and its sleep.
struct RoomWaiters: Sendable {
    /// Why a waiter was woken.
    enum Wake: Sendable {
        /// At most the count it asked for is pending.
        case room
        /// A spill gave its records back to memory: the spool may have refused them for lack of room.
        case handedBack
        /// Its task was cancelled.
        case cancelled
    }

    private struct Waiter {
        let id: UInt64
        let pendingAtMost: Int
        let continuation: CheckedContinuation<Wake, Never>
    }

    private var waiters: [Waiter] = []
    private var nextID: UInt64 = 0

    var count: Int { waiters.count }

    mutating func takeID() -> UInt64 {
        defer { nextID += 1 }
        return nextID
    }

    mutating func add(id: UInt64, pendingAtMost: Int, continuation: CheckedContinuation<Wake, Never>) {
        waiters.append(Waiter(id: id, pendingAtMost: pendingAtMost, continuation: continuation))
    }

    /// The waiter `id`, removed; nil when it was already woken.
    mutating func remove(id: UInt64) -> CheckedContinuation<Wake, Never>? {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
        return waiters.remove(at: index).continuation
    }

    /// The waiters that `pending` records leave room for, removed. Costs nothing while nobody waits, which is
    /// almost always: it runs on every change of the count.
    mutating func ready(pending: Int) -> [CheckedContinuation<Wake, Never>] {
        guard !waiters.isEmpty else { return [] }
        let ready = waiters.filter { pending <= $0.pendingAtMost }.map(\.continuation)
        if !ready.isEmpty { waiters.removeAll { pending <= $0.pendingAtMost } }
        return ready
    }

    /// Every waiter, removed.
    mutating func removeAll() -> [CheckedContinuation<Wake, Never>] {
        defer { waiters.removeAll() }
        return waiters.map(\.continuation)
    }
}
