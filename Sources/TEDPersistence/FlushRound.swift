import TEDStore

/// One flush round's decisions, as a value told what happened and answering what to do next (the style of
/// `FlushStateMachine`, which decides when rounds run): the spool is replayed before memory, so an older version
/// never lands after a newer one only because of where it waited; a collection whose batch must be written again
/// is left out for the rest of the round, so it holds no other back; a round that left one out ends by moving
/// memory to the spool; a round takes from memory only what was pending there when it began. No I/O, no clock:
/// `FlushScheduler` performs each step and reports back.
struct FlushRound: Sendable, Equatable {
    enum Step: Sendable, Equatable {
        /// Write the spool's oldest batch of a collection not in `excluding`.
        case replaySpool(excluding: Set<CollectionName>)
        /// Write the oldest batch in memory of a collection not in `excluding`.
        case writeMemory(excluding: Set<CollectionName>)
        /// The round is over; `spill` when memory should move to the spool (a collection cannot be written now).
        case finish(spill: Bool)
    }

    private enum Source: Sendable, Equatable { case spool, memory, done }

    private var source: Source
    /// Collections whose write must be made again: left out until the next round.
    private(set) var failed: Set<CollectionName> = []
    /// Records the round may still take from memory: what was pending there when it began. Records that arrive during
    /// the round wait for the next one. A round that chased them never ended under steady ingest: each write took the
    /// few records that had arrived during the one before (at 2,000 events/s, some 200 writes a second of ~10
    /// documents each instead of two or three of 1,000), which cost the store and ted many times more per record and
    /// kept both busy all the time, raising request latency while flushing (BENCHMARKS.md, "latency branch").
    private(set) var memoryBudget: Int

    init(replaysSpool: Bool, memoryBudget: Int = .max) {
        source = replaysSpool ? .spool : .memory
        self.memoryBudget = memoryBudget
    }

    /// What to do next; `stop` when the flush must not start another batch (the flag went off, the deadline passed,
    /// shutdown began).
    mutating func next(stop: Bool) -> Step {
        if stop || (source == .memory && memoryBudget <= 0) { source = .done }
        switch source {
        case .spool: return .replaySpool(excluding: failed)
        case .memory: return .writeMemory(excluding: failed)
        case .done: return .finish(spill: !failed.isEmpty)
        }
    }

    /// `count` records were taken from memory for a batch.
    mutating func tookFromMemory(_ count: Int) {
        memoryBudget -= count
    }

    /// The current source had nothing left for the collections not excluded.
    mutating func sourceExhausted() {
        source = source == .spool ? .memory : .done
    }

    /// A batch of `collection` was written; `complete` is false when some of its records must be written again.
    mutating func batchWritten(_ collection: CollectionName, complete: Bool) {
        if !complete { failed.insert(collection) }
    }

    /// A batch was written to the store but could not be taken out of the spool: it is written again (idempotently)
    /// in a later round, so its collection waits until then.
    mutating func spoolNotUpdated(_ collection: CollectionName) {
        failed.insert(collection)
    }

    /// The spool cannot be read: no collection can be replayed, and memory must not overtake what it holds.
    mutating func spoolUnreadable() {
        failed.formUnion(CollectionName.flushed)
        source = .memory
    }

    var succeeded: Bool { failed.isEmpty }
}
