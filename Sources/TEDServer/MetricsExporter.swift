import Metrics
import Prometheus
import Synchronization
import TEDPersistence

/// Renders `/metrics`. Levels (ring and pending sizes, the flag) and the ledger's cumulative counts are read
/// from the runtime at scrape time, so the ingest hot path pays for no metric it does not need.
final class MetricsExporter: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let runtime: PersistenceRuntime
    /// Cumulative values already exported, to turn snapshots into monotonic counter increments.
    private let exported = Mutex<[String: Int]>([:])

    init(registry: PrometheusCollectorRegistry, runtime: PersistenceRuntime) {
        self.registry = registry
        self.runtime = runtime
    }

    func render() -> [UInt8] {
        refresh()
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        return bytes
    }

    private func refresh() {
        let counters = runtime.ingestor.counters
        let sizes = runtime.ingestor.sizes
        let flag = runtime.flag.snapshot
        let flush = runtime.statistics.snapshot
        gauge("ted_persistence_enabled", [], flag.enabled ? 1 : 0)
        gauge("ted_ring_size", [("ring", "tick_samples")], counters.ringCounts.ticks)
        gauge("ted_ring_size", [("ring", "prediction_history")], counters.ringCounts.finishedGames)
        gauge("ted_ring_size", [("ring", "side_bets")], counters.ringCounts.sideBets)
        gauge("ted_ring_capacity", [("ring", "tick_samples")], sizes.tickSamples)
        gauge("ted_ring_capacity", [("ring", "prediction_history")], sizes.finishedGames)
        gauge("ted_ring_capacity", [("ring", "side_bets")], sizes.sideBets)
        for line in counters.accounting {
            let labels = [("collection", line.collection)]
            gauge("ted_pending_records", labels, line.pending)
            gauge("ted_spooled_records", labels, line.spooled)
            counter("ted_records_accepted_total", labels, line.accepted)
            counter("ted_records_caught_up_total", labels, line.caughtUp)
            counter("ted_records_stored_total", labels, line.stored)
            counter("ted_records_superseded_total", labels, line.superseded)
            counter("ted_records_rejected_total", labels, line.rejected)
        }
        for (reason, n) in counters.ledger.droppedByReason {
            counter("ted_records_dropped_total", [("reason", reason)], n)
        }
        for (reason, n) in counters.rejectedRequests {
            counter("ted_ingest_rejected_requests_total", [("reason", reason)], n)
        }
        for (source, n) in flag.changes {
            counter("ted_flag_changes_total", [("source", source)], n)
        }
        counter("ted_flush_errors_total", [], flush.errors)
        gauge("ted_store_reachable", [], flush.storeReachable == false ? 0 : 1)
    }

    private func gauge(_ name: String, _ labels: [(String, String)], _ value: Int) {
        registry.makeGauge(descriptor: Self.descriptor(name, unit: ""), labels: labels).set(Double(value))
    }

    /// Increments the counter by what the cumulative `value` grew since the last scrape.
    private func counter(_ name: String, _ labels: [(String, String)], _ value: Int) {
        let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        let delta = exported.withLock { seen -> Int in
            let delta = value - (seen[key] ?? 0)
            seen[key] = value
            return delta
        }
        let base = String(name.dropLast("_total".count))
        let counter = registry.makeCounter(descriptor: Self.descriptor(base, unit: "total"), labels: labels)
        if delta > 0 { counter.increment(by: Int64(delta)) }
    }

    /// `ted_<rest>` as Prometheus descriptors want it, with the help text operators see on a scrape.
    private static func descriptor(_ name: String, unit: String) -> MetricNameDescriptor {
        let rest = String(name.dropFirst("ted_".count))
        return MetricNameDescriptor(namespace: "ted", metricName: rest, unitName: unit, helpText: help[rest] ?? "")
    }

    private static let help: [String: String] = [
        "persistence_enabled": "1 while PERSISTENCE_ENABLED is on",
        "ring_size": "Elements held by each in-memory ring",
        "ring_capacity": "Fixed capacity of each in-memory ring",
        "pending_records": "Records waiting in memory for the store, by collection",
        "spooled_records": "Records waiting in the spool for the store, by collection",
        "records_accepted": "Records accepted while persistence was on, by collection",
        "records_caught_up": "Records a catch-up took from the in-memory rings after a rollback, by collection",
        "records_stored": "Records the store confirmed, by collection",
        "records_superseded": "Records replaced by a newer version before they were written",
        "records_rejected": "Records the store refused for good, moved to the dead-letter, by collection",
        "records_dropped": "Records dropped by an explicit policy, by reason",
        "ingest_rejected_requests": "Ingest requests refused, by reason",
        "flag_changes": "Changes of the persistence flag, by source",
        "flush_errors": "Failed flush batches",
        "store_reachable": "1 when the last store operation succeeded",
    ]
}
