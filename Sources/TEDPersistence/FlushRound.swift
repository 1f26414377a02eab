import TEDStore

/// One flush round's decisions, as a value told what happened and answering what to do next (the style of
/// `FlushStateMachine`, which decides when rounds run): the spool is replayed before memory, so an older version
/// never lands after a newer one only because of where it waited; a collection whose batch must be written again
/// is left out for the rest of the round, so it holds no other back; a round that left one out ends by moving
/// memory to the spool. No I/O, no clock: `FlushScheduler` performs each step and reports back.
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

    init(replaysSpool: Bool) {
        source = replaysSpool ? .spool : .memory
    }

    /// What to do next; `stop` when the flush must not start another batch (the flag went off, the deadline passed,
    /// shutdown began).
    mutating func next(stop: Bool) -> Step {
        if stop { source = .done }
        switch source {
        case .spool: return .replaySpool(excluding: failed)
        case .memory: return .writeMemory(excluding: failed)
        case .done: return .finish(spill: !failed.isEmpty)
        }
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
