import Foundation

/// When the daily retention cleanup is due: at `hourUTC`:00 UTC every day, or at once when the last run is
/// older than the most recent such hour (the service was down at that hour, or never ran it).
public struct CleanupSchedule: Sendable, Equatable {
    public var hourUTC: Int

    public init(hourUTC: Int) {
        precondition((0...23).contains(hourUTC), "CLEANUP_HOUR_UTC is validated to 0...23")
        self.hourUTC = hourUTC
    }

    private static let day: TimeInterval = 86_400

    /// The latest `hourUTC`:00 at or before `now`. UTC days are 86 400 s long in Unix time (no leap seconds).
    public func latestSlot(atOrBefore now: Date) -> Date {
        let seconds = now.timeIntervalSince1970
        let midnight = (seconds / Self.day).rounded(.down) * Self.day
        var slot = midnight + TimeInterval(hourUTC * 3600)
        if slot > seconds { slot -= Self.day }
        return Date(timeIntervalSince1970: slot)
    }

    /// Whether a run is due: never ran, or the last run precedes the latest slot. A last run more than 24 h old
    /// always does, since slots are 24 h apart.
    public func isDue(now: Date, lastRun: Date?) -> Bool {
        guard let lastRun else { return true }
        return lastRun < latestSlot(atOrBefore: now)
    }

    /// When to run next: `now` when due, otherwise the next slot.
    public func nextRun(now: Date, lastRun: Date?) -> Date {
        isDue(now: now, lastRun: lastRun) ? now : latestSlot(atOrBefore: now).addingTimeInterval(Self.day)
    }
}
