import Foundation

/// Which hours the hourly metrics job computes, and when it runs.
public struct MetricsBackfill: Sendable, Equatable {
    /// Complete hours recomputed on every run: outcomes of predictions arrive after the hour they were made in.
    public var recomputedHours: Int
    /// How far back missed hours are filled after downtime.
    public var maximumBackfillHours: Int
    /// Runs this long after each hour, so the flush has written the hour's last records.
    public var delayAfterHour: TimeInterval

    public init(recomputedHours: Int = 3, maximumBackfillHours: Int = 7 * 24, delayAfterHour: TimeInterval = 300) {
        self.recomputedHours = recomputedHours
        self.maximumBackfillHours = maximumBackfillHours
        self.delayAfterHour = delayAfterHour
    }

    /// The start of the hour containing `date` (UTC; whole hours are the same in every zone Unix time knows).
    public static func hourStart(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 3600).rounded(.down) * 3600)
    }

    /// The starts of the hours to compute, oldest first: every complete hour after `newestStored` (all of the
    /// backfill window when nothing is stored yet), bounded to `maximumBackfillHours` back, plus the last
    /// `recomputedHours` complete hours in any case.
    public func hours(now: Date, newestStored: Date?) -> [Date] {
        let currentHour = Self.hourStart(now)
        let earliest = currentHour.addingTimeInterval(-Double(maximumBackfillHours) * 3600)
        let recomputeFrom = currentHour.addingTimeInterval(-Double(recomputedHours) * 3600)
        var first = newestStored.map { Self.hourStart($0).addingTimeInterval(3600) } ?? earliest
        first = max(earliest, min(first, recomputeFrom))
        return stride(from: first.timeIntervalSince1970, to: currentHour.timeIntervalSince1970, by: 3600)
            .map(Date.init(timeIntervalSince1970:))
    }

    /// The next run after `now`: `delayAfterHour` past the next hour (or past this one, when still ahead).
    public func nextRun(after now: Date) -> Date {
        let thisHour = Self.hourStart(now).addingTimeInterval(delayAfterHour)
        return thisHour > now ? thisHour : thisHour.addingTimeInterval(3600)
    }
}
