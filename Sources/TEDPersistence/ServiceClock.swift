import Foundation

/// Time as every background service sees it, one type for all of them, so `ted serve` wires one clock and tests
/// inject one manual clock that they advance by hand. The jobs are scheduled in UTC wall-clock hours, which Swift's
/// `Clock` does not express, so a service reads a `Date` and sleeps until one, or for a `Duration`.
public protocol ServiceClock: Sendable {
    var now: Date { get }
    /// Returns at `date` or later; throws `CancellationError` when the task is cancelled.
    func sleep(until date: Date) async throws
    /// Returns after `duration` or later; throws `CancellationError` when the task is cancelled.
    func sleep(for duration: Duration) async throws
}

extension ServiceClock {
    public func sleep(for duration: Duration) async throws {
        try await sleep(until: now.addingTimeInterval(duration.seconds))
    }
}

/// The system's clock: the wall clock for dates, the monotonic clock for intervals (a wall-clock jump neither
/// shortens nor stretches a flush interval).
public struct SystemClock: ServiceClock {
    public init() {}

    public var now: Date { Date() }

    public func sleep(until date: Date) async throws {
        let seconds = date.timeIntervalSinceNow
        guard seconds > 0 else { return }
        try await Task.sleep(for: .milliseconds(Int64((seconds * 1000).rounded(.up))))
    }

    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }
}
