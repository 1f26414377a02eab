import Foundation
import TEDCore
import TEDStore

extension PersistenceRuntime {
    /// `GET /api/persistence/status`: the flag, the accounting per collection (with whether the identity holds),
    /// the flush, the spool, what is stuck (and the tables `ted migrate` must convert first) and the jobs.
    public func statusReport(jobs: JobsStatus?) async -> JSONValue {
        let unmigrated = await unmigratedTables()
        let flag = self.flag.snapshot
        let flush = statistics.snapshot
        let counters = ingestor.counters
        let ledger = counters.ledger
        let retention = settings.retention
        let repository: JSONValue = [
            "enabled": .bool(flag.enabled),
            "location": store.map { .string($0.location) } ?? .null,
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
            "accounting": .object(JSONObject(counters.accounting.map { ($0.collection, $0.json) })),
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
        let spool: JSONValue = self.spool.map { spool in
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
            ("stuck", .array(stuckCollections().map(\.json))),
            ("unmigrated", .array(unmigrated.map(\.unmigratedJSON))),
            ("overflow_policy", .string(settings.overflowPolicy.rawValue)),
        ])
        if let jobs { object.entries.append(("jobs", jobs.snapshot.json)) }
        if !flag.enabled { object.entries.insert(("message", "Persistence is disabled"), at: 1) }
        return .object(object)
    }
}
