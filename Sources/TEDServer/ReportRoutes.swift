import Foundation
import Hummingbird
import TEDCore
import TEDPersistence

/// `/api/persistence/metrics`, `/api/persistence/game/{game_id}` and `/api/persistence/jobs`: the HTTP side of
/// `StoredReports` (parameters, the report gate, status codes).
struct ReportRoutes: Sendable {
    let runtime: PersistenceRuntime
    /// The scheduled jobs' status, when this process runs them.
    let jobs: JobsStatus?
    let now: @Sendable () -> Date
    private var reports: StoredReports { StoredReports(runtime: runtime) }

    init(runtime: PersistenceRuntime, jobs: JobsStatus? = nil, now: @escaping @Sendable () -> Date = { Date() }) {
        self.runtime = runtime
        self.jobs = jobs
        self.now = now
    }

    static let maximumHours = 8760

    func register(on router: Router<some RequestContext>) {
        router.get("/api/persistence/metrics") { request, _ -> Response in
            let hours: Int, includeInferred: Bool
            do throws(BadParameter) {
                hours = try request.reportHours(maximum: Self.maximumHours)
                includeInferred = try request.includeInferred()
            } catch {
                return error.response
            }
            return await bounded { await metrics(hours: hours, includeInferred: includeInferred) }
        }
        router.get("/api/persistence/game/:game_id") { _, context -> Response in
            guard let id = context.parameters.get("game_id") else { return JSONResponse.error(.notFound, "game not found") }
            return await bounded { await game(id: id) }
        }
        if let jobs {
            router.get("/api/persistence/jobs") { _, _ in JSONResponse.make(.ok, jobs.snapshot.json) }
        }
    }

    /// Runs a report if one of the report places is free; else 503 at once (the write path is never what waits).
    private func bounded(_ report: () async -> Response) async -> Response { await runtime.reports.respond(report) }

    func metrics(hours: Int, includeInferred: Bool = false) async -> Response {
        do throws(StoredReports.ReportError) {
            guard let report = try await reports.metrics(hours: hours, includeInferred: includeInferred, now: now()) else {
                return JSONResponse.persistenceDisabled(hours: hours)
            }
            return JSONResponse.make(.ok, report)
        } catch {
            return failure(error)
        }
    }

    func game(id: String) async -> Response {
        do throws(StoredReports.ReportError) {
            guard let report = try await reports.game(id: id) else { return JSONResponse.error(.notFound, "game not found") }
            return JSONResponse.make(.ok, report)
        } catch {
            return failure(error)
        }
    }

    private func failure(_ error: StoredReports.ReportError) -> Response { error.response }
}
