import Foundation
import DequeModule
import TEDStore

/// Records accepted while persistence is on and not yet written. Not thread-safe: `Ingestor` owns it.
///
/// Each collection keeps its records in arrival order, indexed by `_id` when they come in versions (all but tick
/// samples), so a newer version of a record (a game that advanced, a prediction that got resolved) replaces the
/// pending one in place instead of queueing twice. A batch taken by the flush stays counted as pending ("in flight")
/// until the store confirms it; a failed batch goes back to the front. Every operation is O(1) per record: the queue
/// holds up to `capacity` records on the ingest path. Past `capacity` the oldest records are dropped and counted,
/// unless `dropsWhenFull` is off (the reject policy: admission control refuses new requests instead).
public struct PendingQueue: Sendable {
    struct Entry: Sendable {
        var id: String
        var sequence: UInt64
        var record: StoreRecord
        /// When the record was first queued (a newer version keeps it): how long the oldest has waited tells whether
        /// the write path is stuck.
        var queuedAt: Date
    }

    /// An entry without its record: what a batch keeps beside its records to put them back.
    struct Place: Sendable {
        var id: String
        var sequence: UInt64
        var queuedAt: Date
    }

    /// One collection's records in arrival order; `positions` maps the `_id` of every queued record, and of no
    /// other, to its absolute position, which stays valid as the front moves (`base` counts what was removed or
    /// prepended).
    ///
    /// A record leaving the front takes its `positions` entry with it: one more hash of its `_id` per record taken.
    /// Leaving the entries behind saved that on the drain path, but then the index grew by every record that passed
    /// through a queue that seldom empties (the flush takes a batch while the next records arrive), up to 65,536
    /// stale entries: ingest paid each of the table's doublings, a rehash of every entry, and the flush its release,
    /// each up to 14–18 ms under the lock that every ingest request takes (measured at 2,000 requests/s with
    /// persistence on): the slowest requests of the latency row (BENCHMARKS.md, row 3).
    struct CollectionQueue: Sendable {
        /// Whether a newer version of a queued record folds into it; without, the queue keeps no index.
        let foldsVersions: Bool
        var entries = Deque<Entry>()
        var positions: [String: Int] = [:]
        var base = 0
        /// Ids moved to the spool while a batch of this collection was in flight: that batch, if it fails,
        /// must not come back ahead of them.
        var spooledDuringFlight: Set<String> = []
        var inFlight = 0

        var count: Int { entries.count }

        func isQueued(_ id: String) -> Bool { positions[id] != nil }

        /// Queues `entry`, or folds it into the queued version of the same record (merges commute, so nothing either
        /// holds is lost). Returns false when it folded. One hash of the `_id` to queue: ingest calls this under
        /// its lock for every record.
        mutating func add(_ entry: Entry) -> Bool {
            guard foldsVersions else {
                entries.append(entry)
                return true
            }
            let appended = base + entries.count
            if let previous = positions.updateValue(appended, forKey: entry.id) {
                positions[entry.id] = previous
                entries[previous - base].record = entries[previous - base].record.merged(with: entry.record)
                return false
            }
            entries.append(entry)
            return true
        }

        /// The first `n` records and their places, moved out of the queue.
        mutating func removeFirst(_ n: Int) -> (records: [StoreRecord], places: [Place]) {
            var records: [StoreRecord] = []
            var places: [Place] = []
            records.reserveCapacity(n)
            places.reserveCapacity(n)
            for _ in 0..<n {
                let entry = entries.removeFirst()
                if foldsVersions { positions.removeValue(forKey: entry.id) }
                places.append(Place(id: entry.id, sequence: entry.sequence, queuedAt: entry.queuedAt))
                records.append(entry.record)
            }
            base += n
            // An emptied index keeps its table up to a size, so a queue that fills again does not regrow it
            // doubling by doubling; a larger one (a backlog drained) gives its memory back.
            if entries.isEmpty, positions.capacity > Self.indexCapacityKept { positions = [:] }
            return (records, places)
        }

        mutating func prepend(_ restored: [Entry]) {
            base -= restored.count
            if foldsVersions {
                for (offset, entry) in restored.enumerated() { positions[entry.id] = base + offset }
            }
            entries.prepend(contentsOf: restored)
        }

        /// The largest table an emptied index keeps.
        static var indexCapacityKept: Int { 65_536 }
    }

    /// A batch the flush is writing. Its records are kept apart from their places in the queue, so the flush hands
    /// the store this very array: building it from the entries for every batch copied each record (its payload,
    /// a retain of each of its fields, and the release later), a twelfth of the flush task's CPU in `perf`.
    public struct Batch: Sendable {
        public let collection: CollectionName
        public let records: [StoreRecord]
        fileprivate let places: [Place]
        public var count: Int { records.count }

        fileprivate init(collection: CollectionName, records: [StoreRecord], places: [Place]) {
            self.collection = collection
            self.records = records
            self.places = places
        }

        /// The entries again, for the paths that put records back in the queue.
        fileprivate var entries: [Entry] { zip(places, records).map { place, record in
            Entry(id: place.id, sequence: place.sequence, record: record, queuedAt: place.queuedAt)
        } }

        /// The batch of the records at `positions` only.
        fileprivate func keeping(_ positions: [Int]) -> Batch {
            Batch(collection: collection, records: positions.map { records[$0] }, places: positions.map { places[$0] })
        }
    }

    public let capacity: Int
    public let dropsWhenFull: Bool
    private(set) var queues: [CollectionName: CollectionQueue] = [:]
    private var nextSequence: UInt64 = 0
    public private(set) var count = 0
    public private(set) var ledger = AccountingLedger()

    public init(capacity: Int, dropsWhenFull: Bool = true) {
        self.capacity = capacity
        self.dropsWhenFull = dropsWhenFull
    }

    /// When the oldest record of `collection` waiting in memory was queued (records being written are not counted).
    public func oldestQueuedAt(_ collection: CollectionName) -> Date? {
        queues[collection]?.entries.first?.queuedAt
    }

    public func count(of collection: CollectionName) -> Int {
        guard let queue = queues[collection] else { return 0 }
        return queue.count + queue.inFlight
    }

    /// Queues a record. `accepted: false` for a record the ledger already counts elsewhere (one coming back
    /// from the spool's commit path), so it is not counted twice.
    public mutating func enqueue(_ record: StoreRecord, accepted: Bool = true, at date: Date = Date()) {
        let collection = record.collection
        if accepted { ledger.add(.accepted, collection) }
        nextSequence += 1
        let entry = Entry(id: record.id, sequence: nextSequence, record: record, queuedAt: date)
        // A newer version keeps the older one's place, so the oldest-first order still holds.
        guard queues[collection, default: CollectionQueue(foldsVersions: collection.recordsHaveVersions)].add(entry) else {
            ledger.add(.superseded, collection)
            return
        }
        count += 1
        if dropsWhenFull { while count > capacity, dropOldest() {} }
    }

    /// Takes up to `limit` records of the collection whose oldest record is the oldest overall.
    /// `excluding` skips collections whose write failed this round, so they hold no other collection back.
    public mutating func takeBatch(limit: Int, excluding: Set<CollectionName> = []) -> Batch? {
        guard let collection = oldestCollection(excluding: excluding) else { return nil }
        let taken = queues[collection]!.removeFirst(min(limit, queues[collection]!.count))
        queues[collection]!.inFlight += taken.records.count
        return Batch(collection: collection, records: taken.records, places: taken.places)
    }

    /// The store confirmed the batch.
    public mutating func complete(_ batch: Batch) {
        settle(batch, fates: Array(repeating: .stored, count: batch.count))
    }

    /// Each record of the batch met its own fate (`fates` in the batch's order): stored ones are done, refused ones
    /// are counted `rejected` (the caller dead-lettered them), retryable ones go back to the front.
    public mutating func settle(_ batch: Batch, fates: [RecordFate]) {
        let tally = FateTally(fates)
        let rest = batch.keeping(tally.retryPositions)
        // The retried part stays in flight until `putBack`, which must still see what was spooled meanwhile.
        queues[batch.collection]!.inFlight -= tally.done
        count -= tally.done
        ledger.add(.stored, batch.collection, tally.stored + tally.alreadyStored)
        ledger.add(.rejected, batch.collection, tally.rejected)
        if rest.records.isEmpty { finishFlight(rest) } else { putBack(rest) }
    }

    /// The store failed: the batch goes back to the front, except records a newer version replaced meanwhile
    /// (queued again, or moved to the spool, which is replayed before memory).
    public mutating func putBack(_ batch: Batch) {
        let spooled = queues[batch.collection]?.spooledDuringFlight ?? []
        finishFlight(batch)
        var restored: [Entry] = []
        restored.reserveCapacity(batch.count)
        for entry in batch.entries {
            if queues[batch.collection]?.isQueued(entry.id) == true || spooled.contains(entry.id) {
                ledger.add(.superseded, batch.collection)
            } else {
                restored.append(entry)
            }
        }
        count -= batch.count - restored.count
        queues[batch.collection, default: CollectionQueue(foldsVersions: batch.collection.recordsHaveVersions)]
            .prepend(restored)
        if dropsWhenFull { while count > capacity, dropOldest() {} }
    }

    /// Removes the batch for another destination (the spool): it is no longer pending in memory.
    public mutating func handOff(_ batch: Batch, to term: AccountingLedger.Term) {
        finishFlight(batch)
        count -= batch.count
        ledger.add(term, batch.collection, batch.count)
        if queues[batch.collection]!.inFlight > 0 {
            queues[batch.collection]!.spooledDuringFlight.formUnion(batch.places.map(\.id))
        }
    }

    /// Adjusts the ledger for records that do not pass through the queue (durable ingest, spool replay).
    public mutating func account(_ term: AccountingLedger.Term, _ collection: CollectionName, _ n: Int) {
        ledger.add(term, collection, n)
    }

    private mutating func finishFlight(_ batch: Batch) {
        queues[batch.collection]!.inFlight -= batch.count
        if queues[batch.collection]!.inFlight == 0 { queues[batch.collection]!.spooledDuringFlight.removeAll() }
    }

    private func oldestCollection(excluding: Set<CollectionName> = []) -> CollectionName? {
        var best: (CollectionName, UInt64)?
        for (collection, queue) in queues where !excluding.contains(collection) {
            guard let first = queue.entries.first else { continue }
            if best == nil || first.sequence < best!.1 { best = (collection, first.sequence) }
        }
        return best?.0
    }

    private mutating func dropOldest() -> Bool {
        guard let collection = oldestCollection() else { return false }
        _ = queues[collection]!.removeFirst(1)
        count -= 1
        ledger.add(.dropped(reason: "queue_full"), collection)
        return true
    }
}

extension CollectionName {
    /// Whether a record of the collection comes again in newer versions (a game that advanced, a prediction or side
    /// bet that got resolved), which the pending queue folds into the queued one. A tick sample does not: the tracker
    /// derives it once, from the first update of its tick, and the store inserts it once. A repeat (a catch-up, a
    /// tick seen again after a restart) is written as "already stored" instead of folded, so the queue keeps no index
    /// for the records that are most of the feed: ingest adds none and the drain removes none, a lookup at a random
    /// place of a table that grows with the backlog (6 % of a 200k-record drain's CPU in `perf`).
    var recordsHaveVersions: Bool { self != .tickSamples }
}

/// Counts that make every accepted record accountable:
/// accepted + recovered + caught_up = stored + pending + spooled + rejected + dropped + superseded, where `rejected`
/// counts records the store refused for good (kept in the dead-letter), `superseded` counts records a
/// newer version of the same record replaced before they were written, `recovered` the records found in the
/// spool at start, `caught_up` the records an operator's catch-up took from the rings after a rollback (`CatchUp`),
/// and `spooled` is what the spool holds now (records go in and come out).
public struct AccountingLedger: Sendable, Equatable {
    public enum Term: Sendable, Hashable {
        case accepted
        case recovered
        /// Taken from the in-memory rings by a catch-up: derived while the flag was off, so never `accepted`.
        case caughtUp
        case stored
        case superseded
        case spooled
        /// Refused by the store for good and moved to the dead-letter.
        case rejected
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
        value(.accepted, collection) + value(.recovered, collection) + value(.caughtUp, collection)
            == value(.stored, collection) + pending + value(.spooled, collection) + value(.rejected, collection)
            + dropped(collection) + value(.superseded, collection)
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
