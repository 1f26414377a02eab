import Foundation

/// Time as the scheduled jobs see it. They are scheduled in UTC wall-clock hours, which Swift's `Clock` does not
/// express, so they read a `Date` and sleep until one. Tests inject a manual clock.
public protocol WallClock: Sendable {
    var now: Date { get }
    /// Returns at `date` or later; throws `CancellationError` when the task is cancelled.
    func sleep(until date: Date) async throws
}

/// The system's wall clock.
public struct SystemWallClock: WallClock {
    public init() {}

    public var now: Date { Date() }

    public func sleep(until date: Date) async throws {
        let seconds = date.timeIntervalSinceNow
        guard seconds > 0 else { return }
        try await Task.sleep(for: .milliseconds(Int64((seconds * 1000).rounded(.up))))
    }
}
