import Foundation
import Hummingbird
import TEDCore
import TEDPersistence

/// `GET /api/persistence/analytics`: how each model version and the side bets did over the last `hours` hours,
/// computed by the store (`StoredReports.analytics`) as one of the report queries the gate allows at once.
/// Answers `"enabled": false` while persistence is off, 503 when the store fails or every report place is taken.
struct AnalyticsRoutes: Sendable {
    let runtime: PersistenceRuntime
    let now: @Sendable () -> Date

    init(runtime: PersistenceRuntime, now: @escaping @Sendable () -> Date = { Date() }) {
        self.runtime = runtime
        self.now = now
    }

    func register(on router: Router<some RequestContext>) {
        router.get("/api/persistence/analytics") { request, _ -> Response in
            let query: AnalyticsQuery, hours: Int
            do throws(BadParameter) {
                hours = try request.reportHours(maximum: ReportRoutes.maximumHours)
                query = AnalyticsQuery(hours: hours, until: now(), modelVersion: try Self.modelVersion(request),
                                       includeInferred: try request.includeInferred())
            } catch {
                return error.response
            }
            return await runtime.reports.respond { await analytics(query, hours: hours) }
        }
    }

    /// `model_version`: absent for every model, else 1 to 200 bytes without NUL (what a stored version can be).
    private static func modelVersion(_ request: Request) throws(BadParameter) -> String? {
        guard let model = request.uri.queryParameters.get("model_version") else { return nil }
        let maximum = AnalyticsQuery.maximumModelVersionLength
        guard !model.isEmpty, model.utf8.count <= maximum, !model.utf8.contains(0) else {
            throw BadParameter(field: "model_version", message: "model_version must be 1 to \(maximum) characters, without NUL")
        }
        return model
    }

    private func analytics(_ query: AnalyticsQuery, hours: Int) async -> Response {
        do throws(StoredReports.ReportError) {
            guard let report = try await StoredReports(runtime: runtime).analytics(query) else {
                return JSONResponse.persistenceDisabled(hours: hours)
            }
            return JSONResponse.make(.ok, report.json(hours: hours, query: query))
        } catch {
            return error.response
        }
    }
}
