import TEDCore
import TEDStore

/// The analytics report for the HTTP layer, which never talks to a store: read from the configured store through
/// the report gate (`PersistenceRuntime.reports`), so it never runs beside more than one other report.
public struct StoredAnalytics: Sendable {
    public enum Answer: Sendable, Equatable {
        /// Persistence is off or no store is configured: nothing is read.
        case disabled
        case report(AnalyticsReport)
        /// Every report place is taken: retry shortly.
        case busy(limit: Int)
        /// The store failed; the message carries no credentials.
        case storeFailed(String)
    }

    let runtime: PersistenceRuntime

    public init(runtime: PersistenceRuntime) {
        self.runtime = runtime
    }

    public func report(_ query: AnalyticsQuery) async -> Answer {
        guard runtime.flag.isEnabled, let store = runtime.store else { return .disabled }
        let mongoURL = runtime.settings.mongoURL
        let answer = await runtime.reports.run { () async -> Answer in
            do throws(StoreError) {
                return .report(try await store.analytics(query))
            } catch {
                return .storeFailed(MongoURL.scrub(error.message, url: mongoURL))
            }
        }
        return answer ?? .busy(limit: runtime.reports.limit)
    }
}
