import Metrics
import TEDStore

/// Names of the metrics the persistence layer reports (`ted_` prefix, conventional units).
enum ConfigReloads {
    static func record(result: String) {
        Counter(label: "ted_config_reloads_total", dimensions: [("result", result)]).increment()
    }
}

/// Flush batches: count and documents by collection and result, and their duration as a histogram.
enum FlushMetrics {
    static func batch(_ collection: CollectionName, documents: Int, duration: Duration, ok: Bool) {
        let result = ok ? "ok" : "error"
        Counter(label: "ted_flush_batches_total", dimensions: [("collection", collection.rawValue), ("result", result)]).increment()
        if ok {
            Counter(label: "ted_flush_documents_total", dimensions: [("collection", collection.rawValue)]).increment(by: documents)
        }
        Timer(label: "ted_flush_batch_duration_seconds", dimensions: [("collection", collection.rawValue)], preferredDisplayUnit: .seconds)
            .recordNanoseconds(duration.nanoseconds)
    }
}
