import Synchronization

/// The request-body bytes all ingest requests together may hold while their bodies arrive
/// (`INGEST_BODY_BUDGET_BYTES`). Without it every upload that announced a large body and then stalled was buffered
/// in full until the connection's idle timeout: a few hundred of them took the process past a gigabyte. Each request
/// holds a `Reservation` for the bytes it has received, and gives it back when it is answered, so the
/// bodies in memory never add up to more than `limit`; past it a request is refused at once.
///
/// Large bodies may not take the last `reservedForSmallBodies` bytes: stalled large uploads fill the rest and are then
/// refused, while the ordinary small requests of live clients are still served. Without the reserve they were served
/// only when the uploads happened to leave a few kilobytes free (2 of 10 in `scripts/faults` case 8 on a busy machine).
final class BodyBudget: Sendable {
    let limit: Int
    let reservedForSmallBodies: Int
    private let used = Mutex(0)
    /// A body this size or smaller is small: one request of live events is a few kilobytes.
    static let smallBodyBytes = 64 << 10

    /// `largestBody` (`INGEST_MAX_BODY_BYTES`) must always fit: the reserve is an eighth of the budget, less if the
    /// largest body needs it.
    init(limit: Int, largestBody: Int) {
        self.limit = limit
        reservedForSmallBodies = max(0, min(limit / 8, limit - largestBody))
    }

    /// Bytes held by requests now.
    var inUse: Int { used.withLock { $0 } }

    /// Whether a body of `bytes` would fit now (a hint: another request may take them first).
    func hasRoom(for bytes: Int) -> Bool {
        used.withLock { bytes <= available(toBodyOf: bytes, used: $0) }
    }

    /// What a body that has reached `total` bytes may still take.
    private func available(toBodyOf total: Int, used: Int) -> Int {
        limit - used - (total > Self.smallBodyBytes ? reservedForSmallBodies : 0)
    }

    /// A reservation holding nothing yet.
    func reservation() -> Reservation { Reservation(budget: self) }

    /// Takes `bytes` more for a body that then holds `total`.
    fileprivate func take(_ bytes: Int, toHold total: Int) -> Bool {
        used.withLock { used in
            guard bytes <= available(toBodyOf: total, used: used) else { return false }
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
                guard budget.take(total - held, toHold: total) else { return false }
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
