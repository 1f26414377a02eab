import Foundation
import Hummingbird
import TEDCore
import TEDPersistence

/// `/api/status` and the health checks.
struct StatusRoutes: Sendable {
    let runtime: PersistenceRuntime
    let version: String

    func register(on router: Router<some RequestContext>) {
        router.get("/api/status") { _, _ in JSONResponse.make(.ok, await status()) }
        router.get("/health/live") { _, _ in JSONResponse.make(.ok, ["status": "ok"]) }
        router.get("/api/health") { _, _ in JSONResponse.make(.ok, ["status": "healthy", "timestamp": .string(Timestamp.formatISO8601(Date())), "version": .string(version)]) }
        router.get("/health/ready") { _, _ -> Response in
            let stuck = runtime.stuckCollections()
            // Nothing can be written (or read) until `ted migrate` converts them, whether or not records wait yet.
            let unmigrated = runtime.flag.isEnabled ? await runtime.unmigratedTables() : []
            let persistence = !unmigrated.isEmpty ? "unmigrated" : stuck.isEmpty ? await persistenceHealth() : "stuck"
            let ok = persistence != "down" && stuck.isEmpty && unmigrated.isEmpty
            return JSONResponse.make(ok ? .ok : .serviceUnavailable, [
                "status": ok ? "ready" : "not_ready",
                "checks": ["ingest": "ok", "persistence": .string(persistence)],
                "failing": ok ? .null : "persistence",
                "stuck": .array(stuck.map(\.json)),
                "unmigrated": .array(unmigrated.map(\.unmigratedJSON)),
            ])
        }
    }

    /// "disabled" while the flag is off, "ok" when the store answers, "degraded" when it does not but records
    /// can still be held (in the spool, or in memory without one), "down" when they cannot.
    func persistenceHealth() async -> String {
        guard runtime.flag.isEnabled else { return "disabled" }
        if await runtime.storeReachable() { return "ok" }
        let full = runtime.spool.map(\.isFull) ?? (runtime.ingestor.pendingCount >= runtime.settings.maxPending)
        return full ? "down" : "degraded"
    }

    func status() async -> JSONValue {
        let counters = runtime.ingestor.counters
        let sizes = runtime.ingestor.sizes
        let flag = runtime.flag.snapshot
        let accepted = counters.acceptedEvents
        let reachable: JSONValue = runtime.store == nil ? .null : .bool(await runtime.storeReachable())
        return [
            "service": "ted",
            "version": .string(version),
            "uptime_seconds": .double((Date().timeIntervalSince(runtime.startedAt) * 1000).rounded() / 1000),
            "persistence": ["enabled": .bool(flag.enabled), "flag_source": .string(flag.source.rawValue),
                            "backend": .string(runtime.settings.backend.rawValue), "store_reachable": reachable,
                            "records_pending": JSONValue(counters.pending)],
            "buffers": [
                "tick_samples": ["size": JSONValue(counters.ringCounts.ticks), "capacity": JSONValue(sizes.tickSamples)],
                "prediction_history": ["size": JSONValue(counters.ringCounts.finishedGames), "capacity": JSONValue(sizes.finishedGames)],
                "side_bets": ["size": JSONValue(counters.ringCounts.sideBets), "capacity": JSONValue(sizes.sideBets)],
            ],
            "ingest": [
                "accepted": [
                    "game_state": JSONValue(accepted[.gameState] ?? 0), "prediction": JSONValue(accepted[.prediction] ?? 0),
                    "side_bet": JSONValue(accepted[.sideBet] ?? 0),
                    "total": JSONValue(accepted.values.reduce(0, +)),
                ],
                "rejected_requests": .object(JSONObject(counters.rejectedRequests.sorted { $0.key < $1.key }.map { ($0.key, JSONValue($0.value)) })),
                "records_derived": JSONValue(counters.recordsDerived),
                "ignored_updates": JSONValue(counters.ignoredUpdates),
            ],
            "current_game": runtime.ingestor.currentGame?.json ?? .null,
        ]
    }
}
