import Foundation

// Merges of two versions of one record (same `_id`). The write path delivers versions in any order (memory, the
// spool, retries, restarts, a second instance), so every merge here is idempotent and order-independent: the
// stores implement the same rules natively (MongoDB update operators, SQLite in one transaction) and these
// functions are their specification, tested for commutativity.

extension GameRecord {
    /// The monotone merge: earliest start, latest end (with its final price), highest peak (the earlier tick on a
    /// tie), flags that only turn on, counters that only grow, first creation and last update.
    public func merged(with other: GameRecord) -> GameRecord {
        var merged = self
        merged.startTick = min(startTick, other.startTick)
        if other.endTick > endTick || (other.endTick == endTick && other.finalPrice > finalPrice) {
            merged.endTick = other.endTick
            merged.finalPrice = other.finalPrice
        }
        if other.peakPrice > peakPrice || (other.peakPrice == peakPrice && other.peakTick < peakTick) {
            merged.peakPrice = other.peakPrice
            merged.peakTick = other.peakTick
        }
        merged.ended = ended || other.ended
        merged.rugged = rugged || other.rugged  // and so `endInferred` (ended && !rugged): a seen rug wins
        merged.hadPredictions = hadPredictions || other.hadPredictions
        merged.predictionCount = max(predictionCount, other.predictionCount)
        merged.predictionAccuracy = Self.accuracy(of: self, other)
        merged.sideBetsPlaced = max(sideBetsPlaced, other.sideBetsPlaced)
        // Each version counts the ticks one process saw; versions from before and after a restart saw different
        // ticks, so the larger count is a lower bound of the ticks seen in all.
        merged.ticksSeen = max(ticksSeen, other.ticksSeen)
        merged.createdAt = min(createdAt, other.createdAt)
        merged.updatedAt = max(updatedAt, other.updatedAt)
        return merged
    }

    /// The accuracy that goes with the larger prediction count (the higher one on a tie, so the result does not
    /// depend on the order).
    private static func accuracy(of a: GameRecord, _ b: GameRecord) -> Double? {
        if a.predictionCount != b.predictionCount {
            let larger = a.predictionCount > b.predictionCount ? a : b
            return larger.predictionAccuracy ?? (a.predictionCount > b.predictionCount ? b : a).predictionAccuracy
        }
        switch (a.predictionAccuracy, b.predictionAccuracy) {
        case let (x?, y?): return max(x, y)
        case let (x, y): return x ?? y
        }
    }
}

extension Prediction {
    /// Facts are kept as first stored (a prediction is inserted once); an outcome, once set, is never cleared.
    public func merged(with other: Prediction) -> Prediction {
        guard actualEndTick == nil, let end = other.actualEndTick else { return self }
        return resolved(actualEndTick: end, endInferred: other.endInferred)
    }
}

extension SideBet {
    /// Facts are kept as first stored (a side bet is inserted once); an outcome, once set, is never cleared.
    public func merged(with other: SideBet) -> SideBet {
        guard actualOutcome == nil, other.actualOutcome != nil else { return self }
        var merged = self
        merged.actualEndTick = other.actualEndTick
        merged.actualOutcome = other.actualOutcome
        merged.payout = other.payout
        merged.endInferred = other.endInferred
        return merged
    }
}
