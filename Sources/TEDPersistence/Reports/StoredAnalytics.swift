import TEDCore
import TEDStore

/// The analytics report (`GET /api/persistence/analytics`) for the HTTP layer, which never talks to a store.
extension StoredReports {
    /// How each model version and the side bets did over `query`'s window, computed by the store
    /// (`DocumentStore.analytics`). Nil while reports do not read the store (persistence off, no store).
    public func analytics(_ query: AnalyticsQuery) async throws(ReportError) -> AnalyticsReport? {
        guard runtime.flag.isEnabled, let store = runtime.store else { return nil }
        do throws(StoreError) {
            return try await store.analytics(query)
        } catch {
            throw failure(error)
        }
    }
}
