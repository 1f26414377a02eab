import Foundation
import Synchronization
import TEDBuffers

/// The last minutes of the write path, for the console's charts: one sample every `interval`, the newest `capacity`
/// kept (15 minutes by default). Written by `TimelineSampler`, read by `GET /api/persistence/timeline`.
public final class Timeline: Sendable {
    public struct Sample: Sendable, Equatable {
        public var at: Date
        /// Records waiting in memory.
        public var pending: Int
        /// Records in the spool file.
        public var spooled: Int
        /// Records stored since the process started (the ledger's `stored` over every collection).
        public var storedTotal: Int
        /// Records stored per second since the previous sample; nil for the first one.
        public var flushRatePerSecond: Double?

        public init(at: Date, pending: Int, spooled: Int, storedTotal: Int, flushRatePerSecond: Double?) {
            self.at = at
            self.pending = pending
            self.spooled = spooled
            self.storedTotal = storedTotal
            self.flushRatePerSecond = flushRatePerSecond
        }
    }

    public static let defaultInterval: TimeInterval = 5
    public static let defaultCapacity = 180

    public let interval: TimeInterval
    private let ring: Mutex<RingBuffer<Sample>>

    public init(interval: TimeInterval = Timeline.defaultInterval, capacity: Int = Timeline.defaultCapacity) {
        self.interval = interval
        ring = Mutex(RingBuffer(capacity: capacity))
    }

    /// Oldest first.
    public var samples: [Sample] { ring.withLock { $0.latest($0.count) } }

    /// Adds a reading, deriving the flush rate from the previous sample's stored total.
    func record(at date: Date, pending: Int, spooled: Int, storedTotal: Int) {
        ring.withLock { ring in
            let rate = ring.latest(1).first.flatMap { previous -> Double? in
                let seconds = date.timeIntervalSince(previous.at)
                return seconds > 0 ? Double(storedTotal - previous.storedTotal) / seconds : nil
            }
            ring.append(Sample(at: date, pending: pending, spooled: spooled, storedTotal: storedTotal, flushRatePerSecond: rate))
        }
    }
}
