import Foundation

/// What the analytics report covers: the predictions and side bets created in [start, end) (by `created_at`, the
/// field the hourly metrics select on too), optionally of one model version only.
public struct AnalyticsQuery: Sendable, Equatable {
    /// The longest model version the API accepts in a filter.
    public static let maximumModelVersionLength = 200

    public var start: Date
    public var end: Date
    /// Only this model's predictions (side bets carry no model version: they are never filtered).
    public var modelVersion: String?
    /// Whether records resolved against an inferred end (`end_inferred`: the rug was never seen) count, as for the
    /// hourly metrics.
    public var includeInferred: Bool

    public init(start: Date, end: Date, modelVersion: String? = nil, includeInferred: Bool = false) {
        self.start = start
        self.end = end
        self.modelVersion = modelVersion
        self.includeInferred = includeInferred
    }

    /// The `hours` hours up to `end`.
    public init(hours: Int, until end: Date, modelVersion: String? = nil, includeInferred: Bool = false) {
        self.init(start: end.addingTimeInterval(-Double(hours) * 3600), end: end,
                  modelVersion: modelVersion, includeInferred: includeInferred)
    }
}
