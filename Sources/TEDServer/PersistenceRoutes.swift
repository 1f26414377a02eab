import Foundation
import Hummingbird
import TEDCore
import TEDPersistence

/// `/api/persistence/*`: the status operators check and the admin switch.
struct PersistenceRoutes: Sendable {
    let runtime: PersistenceRuntime
    let access: AccessControl
    let jobs: JobsStatus?

    func register(on router: Router<some RequestContext>) {
        router.get("/api/persistence/status") { _, _ in JSONResponse.make(.ok, await status()) }
        router.post("/api/persistence/enable") { request, _ in setFlag(request, enabled: true) }
        router.post("/api/persistence/disable") { request, _ in setFlag(request, enabled: false) }
        router.post("/api/persistence/flush") { request, _ -> Response in
            if let denied = access.checkAdmin(request) { return denied }
            runtime.requestFlush()
            return JSONResponse.make(.accepted, ["flush_requested": true])
        }
    }

    func setFlag(_ request: Request, enabled: Bool) -> Response {
        if let denied = access.checkAdmin(request) { return denied }
        if enabled && runtime.store == nil {
            return JSONResponse.error(.conflict, "no store is configured: set MONGO_URL or PERSISTENCE_BACKEND=sqlite")
        }
        // The token passed the check, so it is the configured one: its fingerprint names it in the flag history.
        let changed = runtime.flag.set(enabled, source: .api,
                                       tokenFingerprint: runtime.settings.adminToken.map(FlagChange.fingerprint(ofToken:)))
        return JSONResponse.make(.ok, ["enabled": .bool(enabled), "changed": .bool(changed), "flag_source": "api"])
    }

    func status() async -> JSONValue { await runtime.statusReport(jobs: jobs) }
}
