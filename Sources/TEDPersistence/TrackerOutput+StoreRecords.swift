import TEDCore
import TEDStore

/// What one ingest derived, as the records the write path keeps: games first, then predictions, side bets and tick
/// samples (the order the pending queue and the spool receive them in).
extension TrackerOutput {
    /// Calls `body` with each record in that order, building no array (ingest calls it under its lock).
    func forEachStoreRecord(_ body: (StoreRecord) -> Void) {
        for game in games { body(.game(game)) }
        for prediction in predictions { body(.prediction(prediction)) }
        for sideBet in sideBets { body(.sideBet(sideBet)) }
        for tickSample in tickSamples { body(.tickSample(tickSample)) }
    }

    /// The records in that order, in one array (durable mode commits them together).
    var storeRecords: [StoreRecord] {
        var records: [StoreRecord] = []
        records.reserveCapacity(recordCount)
        forEachStoreRecord { records.append($0) }
        return records
    }
}
