import Metrics

/// Names of the metrics the persistence layer reports (`ted_` prefix, conventional units).
enum ConfigReloads {
    static func record(result: String) {
        Counter(label: "ted_config_reloads_total", dimensions: [("result", result)]).increment()
    }
}
