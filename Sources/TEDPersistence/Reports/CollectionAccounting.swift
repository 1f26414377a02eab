import TEDCore
import TEDStore

/// One collection's line of the accounting identity `accepted + recovered + caught_up = stored + pending + spooled +
/// rejected + dropped + superseded`, as the status and `/metrics` report it.
public struct CollectionAccounting: Sendable, Equatable {
    public var collection: String
    public var accepted: Int
    public var recovered: Int
    /// Taken from the in-memory rings by a catch-up after a rollback (`CatchUp`).
    public var caughtUp: Int
    public var stored: Int
    public var pending: Int
    public var spooled: Int
    public var rejected: Int
    public var dropped: Int
    public var superseded: Int
    public var balanced: Bool

    public var json: JSONValue {
        [
            "accepted": JSONValue(accepted), "recovered": JSONValue(recovered), "caught_up": JSONValue(caughtUp),
            "stored": JSONValue(stored),
            "pending": JSONValue(pending), "spooled": JSONValue(spooled), "rejected": JSONValue(rejected),
            "dropped": JSONValue(dropped), "superseded": JSONValue(superseded), "balanced": .bool(balanced),
        ]
    }
}

extension Ingestor.Counters {
    /// The accounting of every flushed collection, in flush order.
    public var accounting: [CollectionAccounting] {
        CollectionName.flushed.map { collection in
            let pending = pendingByCollection[collection] ?? 0
            return CollectionAccounting(
                collection: collection.rawValue, accepted: ledger.value(.accepted, collection),
                recovered: ledger.value(.recovered, collection), caughtUp: ledger.value(.caughtUp, collection),
                stored: ledger.value(.stored, collection),
                pending: pending, spooled: ledger.value(.spooled, collection),
                rejected: ledger.value(.rejected, collection), dropped: ledger.dropped(collection),
                superseded: ledger.value(.superseded, collection),
                balanced: ledger.isBalanced(collection, pending: pending))
        }
    }
}
