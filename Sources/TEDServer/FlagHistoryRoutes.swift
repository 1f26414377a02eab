import Foundation
import Hummingbird
import TEDCore
import TEDPersistence

/// `GET /api/persistence/flag-history` (who turned persistence on or off, when, from where) and
/// `POST /api/persistence/catch-up` (write what the rings still hold from the periods it was off).
struct FlagHistoryRoutes: Sendable {
    let runtime: PersistenceRuntime
    let access: AccessControl

    func register(on router: Router<some RequestContext>) {
        router.get("/api/persistence/flag-history") { request, _ -> Response in
            guard let limit = request.limit(default: 100, maximum: 1000) else { return JSONResponse.invalidLimit }
            // A store read like the reports, so it takes one of their places.
            return await runtime.reports.respond { await history(limit: limit) }
        }
        router.post("/api/persistence/catch-up") { request, _ -> Response in
            if let denied = access.checkAdmin(request) { return denied }
            return catchUp()
        }
    }

    func history(limit: Int) async -> Response {
        do {
            let page = try await runtime.flagHistory.list(limit: limit)
            return JSONResponse.make(.ok, ["count": JSONValue(page.changes.count), "changes": .array(page.changes.map(\.json)),
                                           "unsynced": JSONValue(page.unsynced)])
        } catch {
            return JSONResponse.error(.serviceUnavailable, "store unavailable: " + MongoURL.scrub("\(error)", url: runtime.settings.mongoURL))
        }
    }

    func catchUp() -> Response {
        guard case .caughtUp(let result) = runtime.catchUp() else {
            return JSONResponse.error(.conflict, "persistence is off: a catch-up writes through the write path, which stays closed while it is off; enable persistence first")
        }
        let counts = ["games", "tick_samples", "predictions", "side_bets"].map { ($0, JSONValue(result.counts[$0] ?? 0)) }
        return JSONResponse.make(.ok, [
            "caught_up": .object(JSONObject(counts)),
            "periods": .array(result.periods.map { period in
                ["from": .string(Timestamp.formatISO8601(period.from)), "to": JSONValue(period.to.map(Timestamp.formatISO8601))]
            }),
        ])
    }
}

extension FlagChange {
    /// One change as the API shows it.
    var json: JSONValue {
        ["at": .string(Timestamp.formatISO8601(at)), "from": .bool(from), "to": .bool(to), "source": .string(source.rawValue),
         "token_fingerprint": JSONValue(tokenFingerprint), "host": .string(host)]
    }
}
