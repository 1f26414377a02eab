/// The ticks of one game seen so far, each with its price, up to `capacity` of them: tells a client's exact re-send
/// (same tick and price) from new data, and which ticks are new.
struct SeenTicks: Sendable {
    /// More ticks than a rugs.fun game lasts, so that the set bounds memory without forgetting in practice.
    static let capacity = 10_000

    private var prices: [Int: Double] = [:]
    /// The highest tick seen, remembered or not.
    private(set) var highest = -1
    /// How many distinct ticks were seen, remembered or not.
    private(set) var count = 0

    var isFull: Bool { prices.count >= Self.capacity }

    /// Records a tick; returns whether it was new. Once full, only ticks past the highest are new (none is then
    /// remembered), so a tick is still never new twice.
    mutating func insert(_ tick: Int, price: Double) -> Bool {
        if prices[tick] != nil { return false }
        guard !isFull else {
            guard tick > highest else { return false }
            highest = tick
            count += 1
            return true
        }
        prices[tick] = price
        highest = max(highest, tick)
        count += 1
        return true
    }

    /// Whether `tick` at `price` repeats what was seen. A tick past the bound cannot be told apart from a new one
    /// and counts as repeated, so that a client's retry is never refused.
    func repeats(_ tick: Int, price: Double) -> Bool {
        if let seen = prices[tick] { return seen == price }
        return isFull && tick <= highest
    }
}
