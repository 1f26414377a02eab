import Synchronization

/// The request-body bytes all ingest requests together may hold while their bodies arrive
/// (`INGEST_BODY_BUDGET_BYTES`). Without it every upload that announced a large body and then stalled was buffered
/// in full until the connection's idle timeout: a few hundred of them took the process past a gigabyte. Each request
/// holds a `Reservation` for the bytes it has received, and gives it back when it is answered, so the
/// bodies in memory never add up to more than `limit`; past it a request is refused at once.
final class BodyBudget: Sendable {
    let limit: Int
    private let used = Mutex(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Bytes held by requests now.
    var inUse: Int { used.withLock { $0 } }

    /// Whether `bytes` more would fit now (a hint: another request may take them first).
    func hasRoom(for bytes: Int) -> Bool {
        used.withLock { bytes <= limit - $0 }
    }

    /// A reservation holding nothing yet.
    func reservation() -> Reservation { Reservation(budget: self) }

    fileprivate func take(_ bytes: Int) -> Bool {
        used.withLock { used in
            guard bytes <= limit - used else { return false }
            used += bytes
            return true
        }
    }

    fileprivate func giveBack(_ bytes: Int) {
        used.withLock { $0 -= bytes }
    }

    /// The bytes one request holds. It grows while its body arrives and is released once, when the request is done;
    /// it is shared between the request's handler and the task that reads the body.
    final class Reservation: Sendable {
        private let budget: BodyBudget
        private let held = Mutex(0)

        fileprivate init(budget: BodyBudget) {
            self.budget = budget
        }

        var bytes: Int { held.withLock { $0 } }

        /// Holds at least `total` bytes; false (holding what it held) when the budget has not that much left.
        func hold(atLeast total: Int) -> Bool {
            held.withLock { held in
                guard total > held else { return true }
                guard budget.take(total - held) else { return false }
                held = total
                return true
            }
        }

        func release() {
            let bytes = held.withLock { held in
                defer { held = 0 }
                return held
            }
            budget.giveBack(bytes)
        }
    }
}
