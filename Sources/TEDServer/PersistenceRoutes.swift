import Foundation
import Hummingbird
import TEDCore
import TEDPersistence
import TEDStore

/// `/api/persistence/*`: the status operators check and the admin switch.
struct PersistenceRoutes: Sendable {
    let runtime: PersistenceRuntime
    let access: AccessControl
    let jobs: JobsStatus?

    func register(on router: Router<some RequestContext>) {
        router.get("/api/persistence/status") { _, _ in JSONResponse.make(.ok, status()) }
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
        let changed = runtime.flag.set(enabled, source: .api)
        return JSONResponse.make(.ok, ["enabled": .bool(enabled), "changed": .bool(changed), "flag_source": "api"])
    }

    func status() -> JSONValue {
        let settings = runtime.settings
        let flag = runtime.flag.snapshot
        let flush = runtime.statistics.snapshot
        let counters = runtime.ingestor.counters
        let ledger = counters.ledger
        let retention = settings.retention
        var accounting: [(key: String, value: JSONValue)] = []
        for collection in CollectionName.flushed {
            let accepted = ledger.value(.accepted, collection)
            let stored = ledger.value(.stored, collection)
            let pending = counters.pendingByCollection[collection] ?? 0
            let spooled = ledger.value(.spooled, collection)
            let dropped = ledger.dropped(collection)
            let superseded = ledger.value(.superseded, collection)
            accounting.append((collection.rawValue, [
                "accepted": JSONValue(accepted), "recovered": JSONValue(ledger.value(.recovered, collection)),
                "stored": JSONValue(stored), "pending": JSONValue(pending),
                "spooled": JSONValue(spooled), "rejected": JSONValue(ledger.value(.rejected, collection)),
                "dropped": JSONValue(dropped), "superseded": JSONValue(superseded),
                "balanced": .bool(ledger.isBalanced(collection, pending: pending)),
            ]))
        }
        let repository: JSONValue = [
            "enabled": .bool(flag.enabled),
            "location": runtime.store.map { .string($0.location) } ?? .null,
            "last_save": JSONValue(flush.lastSave.map(Timestamp.formatISO8601)),
            "records_saved": JSONValue(ledger.total(.stored)),
            "records_pending": JSONValue(counters.pending),
            "records_dropped": JSONValue(ledger.droppedTotal),
            "records_dropped_by_reason": .object(JSONObject(ledger.droppedByReason.sorted { $0.key < $1.key }.map { ($0.key, JSONValue($0.value)) })),
            "records_superseded": JSONValue(ledger.total(.superseded)),
            "records_rejected": JSONValue(ledger.total(.rejected)),
            "errors": JSONValue(flush.errors),
            "last_error": JSONValue(flush.lastError.map { MongoURL.scrub($0, url: settings.mongoURL) }),
            "last_error_at": JSONValue(flush.lastErrorAt.map(Timestamp.formatISO8601)),
            "accounting": .object(JSONObject(accounting)),
        ]
        let manager: JSONValue = [
            "enabled": .bool(flag.enabled),
            "running": .bool(flush.running && flag.enabled),  // as PersistenceTasks.running: loop alive, flag on
            "persist_interval": .double(settings.persistenceInterval.seconds),
            "batch_size": JSONValue(settings.batchSize),
            "max_pending": JSONValue(settings.maxPending),
            "retention_days": [
                "tick_samples": JSONValue(retention.tickSamples), "predictions": JSONValue(retention.predictions),
                "side_bets": JSONValue(retention.sideBets), "games": JSONValue(retention.games),
                "metrics_hourly": JSONValue(retention.metricsHourly),
            ],
            "cleanup_hour_utc": JSONValue(settings.cleanupHourUTC),
        ]
        let spool: JSONValue = runtime.spool.map { spool in
            let file = spool.file
            return [
                "enabled": true, "path": .string(file.path), "records": JSONValue(file.count),
                "size_bytes": JSONValue(Int(file.sizeBytes)), "max_bytes": JSONValue(Int(file.maxBytes)),
                "full": .bool(spool.isFull), "quarantined": JSONValue(file.quarantinedCount),
                "degraded": .bool(file.recovery != nil || file.quarantinedCount > 0),
                "recovery": file.recovery.map { r in
                    ["moved_aside_to": .string(r.movedAsideTo), "reason": .string(r.reason),
                     "recovered": JSONValue(r.recovered), "unreadable": JSONValue(r.unreadable)] as JSONValue
                } ?? .null,
            ]
        } ?? ["enabled": false]
        var object = JSONObject([
            ("enabled", .bool(flag.enabled)),
            ("backend", .string(settings.backend.rawValue)),
            ("flag_source", .string(flag.source.rawValue)),
            ("flag_changed_at", .string(Timestamp.formatISO8601(flag.changedAt))),
            ("repository", repository),
            ("manager", manager),
            ("spool", spool),
            ("durability", .string(settings.ingestDurability.rawValue)),
            ("stuck", .array(runtime.stuckCollections().map(\.json))),
            ("overflow_policy", .string(settings.overflowPolicy.rawValue)),
        ])
        if let jobs { object.entries.append(("jobs", jobs.snapshot.json)) }
        if !flag.enabled { object.entries.insert(("message", "Persistence is disabled"), at: 1) }
        return .object(object)
    }
}
