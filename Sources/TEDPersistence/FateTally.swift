import TEDStore

/// What became of a batch's records, counted once for every place that settles a batch (the pending queue, the
/// spool replay, the flush statistics): stored and already stored are done, refused ones were dead-lettered, the
/// retryable ones must be written again.
struct FateTally: Sendable {
    var stored = 0
    var alreadyStored = 0
    var rejected = 0
    /// Positions of the records to write again, in batch order.
    var retryPositions: [Int] = []
    /// The first retryable error, to log.
    var retryError: StoreError?

    init(_ fates: [RecordFate]) {
        for (position, fate) in fates.enumerated() {
            switch fate {
            case .stored: stored += 1
            case .alreadyStored: alreadyStored += 1
            case .refused: rejected += 1
            case .retryable(let error):
                retryPositions.append(position)
                retryError = retryError ?? error
            }
        }
    }

    /// Records that left the batch for good: written (now or before) or dead-lettered.
    var done: Int { stored + alreadyStored + rejected }

    /// The items of the batch (in the fates' order) whose record must be written again.
    func retried<Item>(_ items: [Item]) -> [Item] {
        retryPositions.map { items[$0] }
    }
}
