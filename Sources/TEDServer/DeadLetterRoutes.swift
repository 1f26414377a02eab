import Foundation
import Hummingbird
import TEDCore
import TEDPersistence

/// `/api/persistence/dead-letters`: records the store refused for good, with their error. Listing is open like the
/// status; re-driving and purging need the admin token.
struct DeadLetterRoutes: Sendable {
    let runtime: PersistenceRuntime
    let access: AccessControl

    static let defaultLimit = 100
    static let maxLimit = 10_000

    func register(on router: Router<some RequestContext>) {
        router.get("/api/persistence/dead-letters") { request, _ -> Response in
            guard let limit = limit(request) else { return badLimit() }
            return await answer { () throws(PersistenceRuntime.DeadLetterError) in
                let (total, letters) = try await runtime.listDeadLetters(limit: limit)
                return JSONResponse.make(.ok, ["total": JSONValue(total), "dead_letters": .array(letters.map(\.json))])
            }
        }
        router.post("/api/persistence/dead-letters/redrive") { request, _ -> Response in
            if let denied = access.checkAdmin(request) { return denied }
            guard let limit = limit(request) else { return badLimit() }
            return await answer { () throws(PersistenceRuntime.DeadLetterError) in
                JSONResponse.make(.accepted, ["redriven": JSONValue(try await runtime.redriveDeadLetters(limit: limit))])
            }
        }
        router.delete("/api/persistence/dead-letters") { request, _ -> Response in
            if let denied = access.checkAdmin(request) { return denied }
            return await answer { () throws(PersistenceRuntime.DeadLetterError) in
                JSONResponse.make(.ok, ["purged": JSONValue(try await runtime.purgeDeadLetters())])
            }
        }
    }

    private func limit(_ request: Request) -> Int? {
        guard let text = request.uri.queryParameters.get("limit") else { return Self.defaultLimit }
        guard let value = Int(text), (1...Self.maxLimit).contains(value) else { return nil }
        return value
    }

    private func badLimit() -> Response {
        JSONResponse.error(.badRequest, "limit must be a whole number from 1 to \(Self.maxLimit)", field: "limit")
    }

    private func answer(_ body: () async throws(PersistenceRuntime.DeadLetterError) -> Response) async -> Response {
        do {
            return try await body()
        } catch {
            switch error {
            case .noStore: return JSONResponse.error(.conflict, "no store is configured: set MONGO_URL or PERSISTENCE_BACKEND=sqlite")
            case .persistenceDisabled: return JSONResponse.error(.conflict, "persistence is disabled: enable it before re-driving")
            case .store(let error): return JSONResponse.error(.serviceUnavailable, "the store failed: \(error.message)")
            }
        }
    }
}
