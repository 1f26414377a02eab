import OrderedCollections
import TEDStore

/// Records accepted while persistence is on and not yet written. Not thread-safe: `Ingestor` owns it.
///
/// Each collection keeps its records in arrival order, keyed by `_id`, so a newer version of a record (a game
/// that advanced, a prediction that got resolved) replaces the pending one instead of queueing twice. A batch
/// taken by the flush stays counted as pending ("in flight") until the store confirms it; a failed batch goes
/// back to the front. The queue is bounded: past `capacity`, the oldest records are dropped and counted.
public struct PendingQueue: Sendable {
    struct Entry: Sendable {
        var sequence: UInt64
        var record: StoreRecord
    }

    /// A batch the flush is writing.
    public struct Batch: Sendable {
        public let collection: CollectionName
        fileprivate let entries: [(id: String, entry: Entry)]
        public var records: [StoreRecord] { entries.map(\.entry.record) }
        public var count: Int { entries.count }
    }

    public let capacity: Int
    private var queues: [CollectionName: OrderedDictionary<String, Entry>] = [:]
    private var inFlight: [CollectionName: Int] = [:]
    private var nextSequence: UInt64 = 0
    public private(set) var ledger = AccountingLedger()

    public init(capacity: Int) {
        self.capacity = capacity
    }

    /// Records waiting or in flight.
    public var count: Int { queuedCount + inFlight.values.reduce(0, +) }
    public var queuedCount: Int { queues.values.reduce(0) { $0 + $1.count } }
    public func count(of collection: CollectionName) -> Int { (queues[collection]?.count ?? 0) + (inFlight[collection] ?? 0) }

    /// Queues a record. `accepted: false` for a record the ledger already counts elsewhere (one coming back
    /// from the spool's commit path), so it is not counted twice.
    public mutating func enqueue(_ record: StoreRecord, accepted: Bool = true) {
        let collection = record.collection
        let id = record.id
        if accepted { ledger.add(.accepted, collection) }
        if let existing = queues[collection]?[id] {
            // Keep the older position so the oldest-first order still holds; the newer version wins.
            queues[collection]![id] = Entry(sequence: existing.sequence, record: record)
            ledger.add(.superseded, collection)
            return
        }
        nextSequence += 1
        queues[collection, default: [:]][id] = Entry(sequence: nextSequence, record: record)
        while count > capacity, dropOldest() {}
    }

    /// Takes up to `limit` records of the collection whose oldest record is the oldest overall.
    public mutating func takeBatch(limit: Int) -> Batch? {
        guard let collection = oldestCollection() else { return nil }
        var queue = queues.removeValue(forKey: collection)!
        let n = min(limit, queue.count)
        let entries = (0..<n).map { i in (id: queue.keys[i], entry: queue.values[i]) }
        queue.removeFirst(n)
        if !queue.isEmpty { queues[collection] = queue }
        inFlight[collection, default: 0] += n
        return Batch(collection: collection, entries: entries)
    }

    /// The store confirmed the batch.
    public mutating func complete(_ batch: Batch) {
        inFlight[batch.collection, default: 0] -= batch.count
        ledger.add(.stored, batch.collection, batch.count)
    }

    /// The store failed: the batch goes back to the front, except records a newer version replaced meanwhile.
    public mutating func putBack(_ batch: Batch) {
        inFlight[batch.collection, default: 0] -= batch.count
        var queue = queues[batch.collection] ?? [:]
        var restored = OrderedDictionary<String, Entry>(minimumCapacity: batch.count + queue.count)
        for (id, entry) in batch.entries {
            if queue[id] != nil {
                ledger.add(.superseded, batch.collection)
            } else {
                restored[id] = entry
            }
        }
        restored.merge(queue.elements, uniquingKeysWith: { _, new in new })
        queue = restored
        queues[batch.collection] = queue
        while count > capacity, dropOldest() {}
    }

    /// Removes the batch for another destination (the spool): it is no longer pending in memory.
    public mutating func handOff(_ batch: Batch, to term: AccountingLedger.Term) {
        inFlight[batch.collection, default: 0] -= batch.count
        ledger.add(term, batch.collection, batch.count)
    }

    /// Adjusts the ledger for records that do not pass through the queue (durable ingest, spool replay).
    public mutating func account(_ term: AccountingLedger.Term, _ collection: CollectionName, _ n: Int) {
        ledger.add(term, collection, n)
    }

    private func oldestCollection() -> CollectionName? {
        var best: (CollectionName, UInt64)?
        for (collection, queue) in queues {
            guard let first = queue.values.first else { continue }
            if best == nil || first.sequence < best!.1 { best = (collection, first.sequence) }
        }
        return best?.0
    }

    private mutating func dropOldest() -> Bool {
        guard let collection = oldestCollection() else { return false }
        queues[collection]!.removeFirst()
        if queues[collection]!.isEmpty { queues[collection] = nil }
        ledger.add(.dropped(reason: "queue_full"), collection)
        return true
    }
}

/// Counts that make every accepted record accountable:
/// accepted + recovered = stored + pending + spooled + dropped + superseded, where `superseded` counts records a
/// newer version of the same record replaced before they were written, `recovered` the records found in the
/// spool at start, and `spooled` is what the spool holds now (records go in and come out).
public struct AccountingLedger: Sendable, Equatable {
    public enum Term: Sendable, Hashable {
        case accepted
        case recovered
        case stored
        case superseded
        case spooled
        case dropped(reason: String)
    }

    public private(set) var counts: [CollectionName: [Term: Int]] = [:]

    public mutating func add(_ term: Term, _ collection: CollectionName, _ n: Int = 1) {
        counts[collection, default: [:]][term, default: 0] += n
    }

    public func value(_ term: Term, _ collection: CollectionName) -> Int { counts[collection]?[term] ?? 0 }

    public func total(_ term: Term) -> Int { counts.values.reduce(0) { $0 + ($1[term] ?? 0) } }

    public func dropped(_ collection: CollectionName) -> Int {
        counts[collection]?.reduce(0) { sum, item in
            if case .dropped = item.key { return sum + item.value }
            return sum
        } ?? 0
    }

    /// Whether the accounting rule holds for `collection`, given what is pending in memory.
    public func isBalanced(_ collection: CollectionName, pending: Int) -> Bool {
        value(.accepted, collection) + value(.recovered, collection)
            == value(.stored, collection) + pending + value(.spooled, collection) + dropped(collection) + value(.superseded, collection)
    }

    public var droppedTotal: Int { CollectionName.flushed.reduce(0) { $0 + dropped($1) } }

    public var droppedByReason: [String: Int] {
        var result: [String: Int] = [:]
        for terms in counts.values {
            for (term, n) in terms {
                if case .dropped(let reason) = term { result[reason, default: 0] += n }
            }
        }
        return result
    }
}
