import Foundation

/// The periods the flag was off in this process, from start: what a catch-up may take from the rings, which hold
/// nothing older than the process. Closed periods never change, so one that a catch-up took is never taken again.
public struct OffPeriods: Sendable, Equatable {
    public struct Period: Sendable, Equatable {
        public var from: Date
        /// Nil while the flag is still off.
        public var to: Date?

        public init(from: Date, to: Date?) {
            self.from = from
            self.to = to
        }

        /// Whether the instant falls in [from, to).
        public func contains(_ date: Date) -> Bool { date >= from && (to.map { date < $0 } ?? true) }

        /// Whether [start, end] and the period share an instant.
        public func overlaps(from start: Date, to end: Date) -> Bool { end >= from && (to.map { start < $0 } ?? true) }
    }

    /// The most periods kept: an operator flipping the flag all day gains nothing from older ones, whose records
    /// the rings no longer hold.
    static let limit = 1000

    /// Oldest first; the last one is open while the flag is off.
    public private(set) var periods: [Period] = []
    /// How many of the first `periods` a catch-up has taken.
    private var taken = 0

    /// "Off since start" is a period like any other.
    public init(startedAt: Date, enabled: Bool) {
        if !enabled { periods.append(Period(from: startedAt, to: nil)) }
    }

    mutating func record(enabled: Bool, at date: Date) {
        if enabled {
            if let last = periods.indices.last, periods[last].to == nil { periods[last].to = date }
        } else if periods.last.map({ $0.to != nil }) ?? true {
            periods.append(Period(from: date, to: nil))
            if periods.count > Self.limit {
                periods.removeFirst()
                taken = max(0, taken - 1)
            }
        }
    }

    /// The closed periods not taken yet, now marked as taken.
    mutating func takeClosed() -> [Period] {
        let closed = periods[taken...].prefix { $0.to != nil }
        taken += closed.count
        return Array(closed)
    }
}
