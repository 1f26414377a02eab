import Foundation

/// Where the store lives.
public enum StoreBackend: String, Sendable, CaseIterable {
    case mongodb
    case sqlite
}

/// When an ingest request is acknowledged.
public enum IngestDurability: String, Sendable, CaseIterable {
    /// Acknowledged once in memory; a crash loses at most what was pending.
    case memory
    /// Acknowledged only after the records are committed to the local spool.
    case durable
}

/// What ingest does when memory and spool are both full.
public enum OverflowPolicy: String, Sendable, CaseIterable {
    case reject
    case dropOldest = "drop_oldest"
}

public enum LogFormat: String, Sendable, CaseIterable {
    case text
    case json
}

/// Retention per collection, in days.
public struct RetentionDays: Sendable, Equatable {
    public var tickSamples: Int
    public var predictions: Int
    public var sideBets: Int
    public var games: Int
    public var metricsHourly: Int

    public init(tickSamples: Int = 7, predictions: Int = 90, sideBets: Int = 90, games: Int = 180, metricsHourly: Int = 365) {
        self.tickSamples = tickSamples
        self.predictions = predictions
        self.sideBets = sideBets
        self.games = games
        self.metricsHourly = metricsHourly
    }
}

/// The whole configuration: one typed value, read from the environment overridden by the `.env` file,
/// validated at start. Only `PERSISTENCE_ENABLED` changes while running (see `ConfigWatcher`).
public struct Settings: Sendable, Equatable {
    public var persistenceEnabled = false
    public var persistenceInterval: Duration = .seconds(30)
    public var batchSize = 100
    public var maxPending = 200_000
    public var predictionHistorySize = 200
    public var streamRingSize = 1200
    public var sideBetHistorySize = 500
    public var streamSampleEveryTicks = 1
    public var sideBetWindowTicks = 40
    public var sideBetPayoutMultiplier = 5.0
    /// Seconds without an update after which the running game is ended, its end inferred.
    public var gameIdleTimeout: TimeInterval = 60
    public var backend: StoreBackend = .sqlite
    public var mongoURL: String?
    public var mongoDatabase = "rugs_tracker"
    public var sqlitePath = "./data/ted.sqlite"
    public var spoolPath = "./data/spool.sqlite"
    public var spoolMaxBytes: Int64 = 1 << 30
    /// Records pending in memory past which the flush moves them to the spool (when there is one).
    public var spoolHighWater = 5_000
    public var ingestDurability: IngestDurability = .memory
    public var overflowPolicy: OverflowPolicy = .dropOldest
    public var host = "127.0.0.1"
    public var port = 8000
    public var ingestMaxBodyBytes = 4 << 20
    /// Request-body bytes all connections together may hold while their bodies arrive; past it ingest answers 503.
    public var ingestBodyBudgetBytes = 64 << 20
    /// The longest a request body may take to arrive once the request has started; past it ingest answers 408.
    public var ingestBodyTimeout: Duration = .seconds(5)
    public var retention = RetentionDays()
    public var cleanupHourUTC = 3
    public var cleanupBatchSize = 5000
    public var shutdownGrace: Duration = .seconds(10)
    public var migrateOnStart = false
    public var adminToken: String?
    public var ingestToken: String?
    public var logFormat: LogFormat = .text
    public var logLevel = "info"
    public var corsOrigins: [String] = []
    public var rateLimitPerSecond: Int?
    public var backupDirectory = "./backups"
    public var backupKeep = 30
    public var envFilePath = "./.env"

    public init() {}

    /// `.env` overrides the process environment, so that editing the file is how operators change things. A blank
    /// line in the file (`MONGO_URL=`, as `.env.example` ships) counts as unset, as everywhere else, so it does not
    /// hide the environment's value: docker-compose.yml gives `MONGO_URL` in the environment and mounts `.env`.
    public static func merged(environment: [String: String], envFile: [String: String]) -> [String: String] {
        environment.merging(envFile.filter { !$0.value.trimmingCharacters(in: .whitespaces).isEmpty }) { _, file in file }
    }

    /// Parses and validates every variable; the first bad one is reported by name.
    public init(values: [String: String]) throws(SettingsError) {
        let reader = ValueReader(values: values)
        persistenceEnabled = try reader.bool("PERSISTENCE_ENABLED", default: false)
        persistenceInterval = .milliseconds(Int64(try reader.double("PERSISTENCE_INTERVAL_SECONDS", default: 30, range: 0.05...86_400) * 1000))
        batchSize = try reader.int("PERSISTENCE_BATCH_SIZE", default: 100, range: 1...100_000)
        maxPending = try reader.int("PERSISTENCE_MAX_PENDING", default: 200_000, range: 1...100_000_000)
        predictionHistorySize = try reader.int("PREDICTION_HISTORY_SIZE", default: 200, range: 1...1_000_000)
        streamRingSize = try reader.int("STREAM_RING_SIZE", default: 1200, range: 1...10_000_000)
        sideBetHistorySize = try reader.int("SIDEBET_HISTORY_SIZE", default: 500, range: 1...1_000_000)
        streamSampleEveryTicks = try reader.int("STREAM_SAMPLE_EVERY_TICKS", default: 1, range: 1...1_000_000)
        sideBetWindowTicks = try reader.int("SIDEBET_WINDOW_TICKS", default: 40, range: 1...1_000_000)
        sideBetPayoutMultiplier = try reader.double("SIDEBET_PAYOUT_MULTIPLIER", default: 5, range: 1...1_000_000)
        gameIdleTimeout = try reader.double("GAME_IDLE_TIMEOUT_SECONDS", default: 60, range: 1...86_400)
        mongoURL = reader.string("MONGO_URL")
        if let url = mongoURL, !url.hasPrefix("mongodb://") && !url.hasPrefix("mongodb+srv://") {
            throw SettingsError(variable: "MONGO_URL", value: MongoURL.redacted(url), reason: "must start with mongodb:// or mongodb+srv://")
        }
        let explicitBackend: StoreBackend? = try reader.enumeration("PERSISTENCE_BACKEND")
        backend = explicitBackend ?? (mongoURL == nil ? .sqlite : .mongodb)
        if backend == .mongodb && mongoURL == nil && persistenceEnabled {
            throw SettingsError(variable: "MONGO_URL", value: "", reason: "is required when PERSISTENCE_BACKEND=mongodb and PERSISTENCE_ENABLED=true")
        }
        mongoDatabase = reader.string("MONGO_DB") ?? mongoURL.flatMap(MongoURL.databaseName(of:)) ?? "rugs_tracker"
        sqlitePath = reader.string("SQLITE_PATH") ?? sqlitePath
        spoolPath = reader.string("SPOOL_PATH") ?? spoolPath
        spoolMaxBytes = Int64(try reader.int("SPOOL_MAX_BYTES", default: 1 << 30, range: 1 << 16...Int.max))
        spoolHighWater = try reader.int("SPOOL_HIGH_WATER", default: 5_000, range: 1...100_000_000)
        ingestDurability = try reader.enumeration("INGEST_DURABILITY") ?? .memory
        overflowPolicy = try reader.enumeration("OVERFLOW_POLICY") ?? (ingestDurability == .durable ? .reject : .dropOldest)
        host = reader.string("HOST") ?? host
        port = try reader.int("PORT", default: 8000, range: 0...65_535)
        ingestMaxBodyBytes = try reader.int("INGEST_MAX_BODY_BYTES", default: 4 << 20, range: 1024...(1 << 30))
        ingestBodyBudgetBytes = try reader.int("INGEST_BODY_BUDGET_BYTES", default: 64 << 20, range: 1024...(1 << 40))
        if ingestBodyBudgetBytes < ingestMaxBodyBytes {
            // A body of the largest allowed size could then never be taken.
            throw SettingsError(variable: "INGEST_BODY_BUDGET_BYTES", value: String(ingestBodyBudgetBytes),
                                reason: "must be at least INGEST_MAX_BODY_BYTES (\(ingestMaxBodyBytes))")
        }
        ingestBodyTimeout = .milliseconds(Int64(try reader.double("INGEST_BODY_TIMEOUT_SECONDS", default: 5, range: 0.1...3600) * 1000))
        retention = RetentionDays(
            tickSamples: try reader.int("TICK_RETENTION_DAYS", default: 7, range: 1...36_500),
            predictions: try reader.int("PREDICTION_RETENTION_DAYS", default: 90, range: 1...36_500),
            sideBets: try reader.int("SIDEBET_RETENTION_DAYS", default: 90, range: 1...36_500),
            games: try reader.int("GAME_RETENTION_DAYS", default: 180, range: 1...36_500),
            metricsHourly: try reader.int("METRICS_RETENTION_DAYS", default: 365, range: 1...36_500))
        cleanupHourUTC = try reader.int("CLEANUP_HOUR_UTC", default: 3, range: 0...23)
        cleanupBatchSize = try reader.int("CLEANUP_BATCH_SIZE", default: 5000, range: 1...1_000_000)
        shutdownGrace = .milliseconds(Int64(try reader.double("SHUTDOWN_GRACE_SECONDS", default: 10, range: 0...3600) * 1000))
        migrateOnStart = try reader.bool("MIGRATE_ON_START", default: false)
        adminToken = reader.string("ADMIN_TOKEN")
        ingestToken = reader.string("INGEST_TOKEN")
        logFormat = try reader.enumeration("LOG_FORMAT") ?? .text
        logLevel = try reader.oneOf("LOG_LEVEL", ["trace", "debug", "info", "notice", "warning", "error", "critical"]) ?? "info"
        corsOrigins = reader.string("CORS_ORIGINS")?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } ?? []
        let rate = try reader.int("RATE_LIMIT_PER_SECOND", default: 0, range: 0...10_000_000)
        rateLimitPerSecond = rate == 0 ? nil : rate
        backupDirectory = reader.string("BACKUP_DIR") ?? backupDirectory
        backupKeep = try reader.int("BACKUP_KEEP", default: 30, range: 1...100_000)
        envFilePath = reader.string("ENV_FILE") ?? envFilePath
    }

    /// Loads the environment and the `.env` file it names (`ENV_FILE`, default `./.env`).
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Settings {
        let path = environment["ENV_FILE"] ?? "./.env"
        let file: [String: String]
        do {
            file = try DotEnv.load(path: path)
        } catch {
            throw SettingsError(variable: "ENV_FILE", value: path, reason: "cannot be read: \(error.localizedDescription)")
        }
        var settings = try Settings(values: merged(environment: environment, envFile: file))
        settings.envFilePath = path
        return settings
    }
}

/// A variable with a value the service cannot run with.
public struct SettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    public let variable: String
    public let value: String
    public let reason: String

    public init(variable: String, value: String, reason: String) {
        self.variable = variable
        self.value = value
        self.reason = reason
    }

    public var description: String { "invalid configuration: \(variable)=\"\(value)\" \(reason)" }
}

/// Reads one typed variable at a time; a blank value counts as unset.
public struct ValueReader: Sendable {
    let values: [String: String]

    public init(values: [String: String]) { self.values = values }

    func string(_ name: String) -> String? {
        guard let raw = values[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
        return raw
    }

    public func bool(_ name: String, default fallback: Bool) throws(SettingsError) -> Bool {
        guard let raw = string(name) else { return fallback }
        switch raw.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw SettingsError(variable: name, value: raw, reason: "must be true or false")
        }
    }

    func int(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws(SettingsError) -> Int {
        guard let raw = string(name) else { return fallback }
        guard let value = Int(raw) else { throw SettingsError(variable: name, value: raw, reason: "must be a whole number") }
        guard range.contains(value) else {
            throw SettingsError(variable: name, value: raw, reason: "must be between \(range.lowerBound) and \(range.upperBound)")
        }
        return value
    }

    func double(_ name: String, default fallback: Double, range: ClosedRange<Double>) throws(SettingsError) -> Double {
        guard let raw = string(name) else { return fallback }
        guard let value = Double(raw), value.isFinite else { throw SettingsError(variable: name, value: raw, reason: "must be a number") }
        guard range.contains(value) else {
            throw SettingsError(variable: name, value: raw, reason: "must be between \(range.lowerBound) and \(range.upperBound)")
        }
        return value
    }

    func enumeration<E: RawRepresentable & CaseIterable>(_ name: String) throws(SettingsError) -> E? where E.RawValue == String {
        guard let raw = string(name) else { return nil }
        guard let value = E(rawValue: raw.lowercased()) else {
            throw SettingsError(variable: name, value: raw, reason: "must be one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    func oneOf(_ name: String, _ allowed: [String]) throws(SettingsError) -> String? {
        guard let raw = string(name) else { return nil }
        guard allowed.contains(raw.lowercased()) else {
            throw SettingsError(variable: name, value: raw, reason: "must be one of \(allowed.joined(separator: ", "))")
        }
        return raw.lowercased()
    }
}
