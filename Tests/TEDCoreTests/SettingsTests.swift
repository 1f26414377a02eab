import Foundation
import Testing
@testable import TEDCore

@Suite("Settings")
struct SettingsTests {
    static func settings(_ values: [String: String]) throws(SettingsError) -> Settings {
        try Settings(values: values)
    }

    static func settingsError(_ values: [String: String]) -> SettingsError? {
        do {
            _ = try Settings(values: values)
            return nil
        } catch {
            return error
        }
    }

    @Test func defaults() throws {
        let settings = try Self.settings([:])
        #expect(settings == Settings())
        #expect(settings.persistenceEnabled == false)
        #expect(settings.persistenceInterval == .seconds(30))
        #expect(settings.batchSize == 100)
        #expect(settings.maxPending == 200_000)
        #expect(settings.predictionHistorySize == 200)
        #expect(settings.streamRingSize == 1200)
        #expect(settings.sideBetHistorySize == 500)
        #expect(settings.streamSampleEveryTicks == 1)
        #expect(settings.sideBetWindowTicks == 40)
        #expect(settings.sideBetPayoutMultiplier == 5)
        #expect(settings.gameIdleTimeout == 60)
        #expect(settings.backend == .sqlite)
        #expect(settings.mongoURL == nil)
        #expect(settings.mongoDatabase == "rugs_tracker")
        #expect(settings.sqlitePath == "./data/ted.sqlite")
        #expect(settings.spoolPath == "./data/spool.sqlite")
        #expect(settings.spoolMaxBytes == 1 << 30)
        #expect(settings.spoolHighWater == 5_000)
        #expect(settings.ingestDurability == .memory)
        #expect(settings.overflowPolicy == .dropOldest)
        #expect(settings.host == "127.0.0.1")
        #expect(settings.port == 8000)
        #expect(settings.ingestMaxBodyBytes == 4 << 20)
        #expect(settings.ingestBodyBudgetBytes == 64 << 20)
        #expect(settings.ingestBodyTimeout == .seconds(5))
        #expect(settings.retention == RetentionDays(tickSamples: 7, predictions: 90, sideBets: 90, games: 180, metricsHourly: 365))
        #expect(settings.cleanupHourUTC == 3)
        #expect(settings.cleanupBatchSize == 5000)
        #expect(settings.shutdownGrace == .seconds(10))
        #expect(settings.migrateOnStart == false)
        #expect(settings.adminToken == nil)
        #expect(settings.ingestToken == nil)
        #expect(settings.logFormat == .text)
        #expect(settings.logLevel == "info")
        #expect(settings.corsOrigins == [])
        #expect(settings.rateLimitPerSecond == nil)
        #expect(settings.backupDirectory == "./backups")
        #expect(settings.backupKeep == 30)
        #expect(settings.envFilePath == "./.env")
    }

    @Test func blankValuesCountAsUnset() throws {
        let settings = try Self.settings(["PERSISTENCE_BATCH_SIZE": "", "PORT": "   ", "LOG_LEVEL": "", "MONGO_URL": " "])
        #expect(settings == Settings())
    }

    @Test func valuesAreRead() throws {
        let settings = try Self.settings([
            "PERSISTENCE_ENABLED": "true", "PERSISTENCE_INTERVAL_SECONDS": "0.5", "PERSISTENCE_BATCH_SIZE": " 250 ",
            "PERSISTENCE_MAX_PENDING": "1000", "PREDICTION_HISTORY_SIZE": "10", "STREAM_RING_SIZE": "20",
            "SIDEBET_HISTORY_SIZE": "30", "STREAM_SAMPLE_EVERY_TICKS": "5", "SIDEBET_WINDOW_TICKS": "60",
            "SIDEBET_PAYOUT_MULTIPLIER": "4.5", "SQLITE_PATH": "/tmp/a.sqlite", "SPOOL_PATH": "/tmp/s.sqlite",
            "SPOOL_MAX_BYTES": "65536", "HOST": "0.0.0.0", "PORT": "0", "INGEST_MAX_BODY_BYTES": "1024",
            "INGEST_BODY_BUDGET_BYTES": "2048", "INGEST_BODY_TIMEOUT_SECONDS": "0.5",
            "TICK_RETENTION_DAYS": "1", "PREDICTION_RETENTION_DAYS": "2", "SIDEBET_RETENTION_DAYS": "3",
            "GAME_RETENTION_DAYS": "4", "METRICS_RETENTION_DAYS": "36500", "CLEANUP_HOUR_UTC": "23",
            "CLEANUP_BATCH_SIZE": "7", "SHUTDOWN_GRACE_SECONDS": "2.5", "MIGRATE_ON_START": "yes",
            "ADMIN_TOKEN": "adm", "INGEST_TOKEN": "ing", "LOG_FORMAT": "JSON", "LOG_LEVEL": "Debug",
            "CORS_ORIGINS": " https://a.example , ,https://b.example,", "RATE_LIMIT_PER_SECOND": "50",
            "BACKUP_DIR": "/b", "BACKUP_KEEP": "3", "ENV_FILE": "/etc/ted.env", "INGEST_DURABILITY": "DURABLE",
        ])
        #expect(settings.persistenceEnabled)
        #expect(settings.persistenceInterval == .milliseconds(500))
        #expect(settings.batchSize == 250)
        #expect(settings.maxPending == 1000)
        #expect(settings.predictionHistorySize == 10)
        #expect(settings.streamRingSize == 20)
        #expect(settings.sideBetHistorySize == 30)
        #expect(settings.streamSampleEveryTicks == 5)
        #expect(settings.sideBetWindowTicks == 60)
        #expect(settings.sideBetPayoutMultiplier == 4.5)
        #expect(settings.sqlitePath == "/tmp/a.sqlite")
        #expect(settings.spoolPath == "/tmp/s.sqlite")
        #expect(settings.spoolMaxBytes == 65536)
        #expect(settings.host == "0.0.0.0")
        #expect(settings.port == 0)
        #expect(settings.ingestMaxBodyBytes == 1024)
        #expect(settings.ingestBodyBudgetBytes == 2048)
        #expect(settings.ingestBodyTimeout == .milliseconds(500))
        #expect(settings.retention == RetentionDays(tickSamples: 1, predictions: 2, sideBets: 3, games: 4, metricsHourly: 36500))
        #expect(settings.cleanupHourUTC == 23)
        #expect(settings.cleanupBatchSize == 7)
        #expect(settings.shutdownGrace == .milliseconds(2500))
        #expect(settings.migrateOnStart)
        #expect(settings.adminToken == "adm")
        #expect(settings.ingestToken == "ing")
        #expect(settings.logFormat == .json)
        #expect(settings.logLevel == "debug")
        #expect(settings.corsOrigins == ["https://a.example", "https://b.example"])
        #expect(settings.rateLimitPerSecond == 50)
        #expect(settings.backupDirectory == "/b")
        #expect(settings.backupKeep == 3)
        #expect(settings.envFilePath == "/etc/ted.env")
        #expect(settings.ingestDurability == .durable)
        #expect(settings.overflowPolicy == .reject)  // durable ingest defaults to refusing, not dropping
    }

    @Test(arguments: ["true", "TRUE", "1", "yes", "On"])
    func trueValues(_ raw: String) throws {
        #expect(try Self.settings(["PERSISTENCE_ENABLED": raw]).persistenceEnabled == true)
    }

    @Test(arguments: ["false", "False", "0", "no", "OFF"])
    func falseValues(_ raw: String) throws {
        #expect(try Self.settings(["PERSISTENCE_ENABLED": raw]).persistenceEnabled == false)
    }

    @Test func overflowPolicyAndRateLimit() throws {
        #expect(try Self.settings(["INGEST_DURABILITY": "durable", "OVERFLOW_POLICY": "drop_oldest"]).overflowPolicy == .dropOldest)
        #expect(try Self.settings(["OVERFLOW_POLICY": "reject"]).overflowPolicy == .reject)
        #expect(try Self.settings(["RATE_LIMIT_PER_SECOND": "0"]).rateLimitPerSecond == nil)
    }

    static let badValues: [(String, String)] = [
        ("PERSISTENCE_ENABLED", "maybe"), ("PERSISTENCE_ENABLED", "2"),
        ("PERSISTENCE_INTERVAL_SECONDS", "abc"), ("PERSISTENCE_INTERVAL_SECONDS", "0"), ("PERSISTENCE_INTERVAL_SECONDS", "nan"),
        ("PERSISTENCE_INTERVAL_SECONDS", "inf"), ("PERSISTENCE_INTERVAL_SECONDS", "-1"), ("PERSISTENCE_INTERVAL_SECONDS", "86401"),
        ("PERSISTENCE_BATCH_SIZE", "abc"), ("PERSISTENCE_BATCH_SIZE", "0"), ("PERSISTENCE_BATCH_SIZE", "100001"),
        ("PERSISTENCE_BATCH_SIZE", "1.5"), ("PERSISTENCE_BATCH_SIZE", "10 20"), ("PERSISTENCE_BATCH_SIZE", "99999999999999999999999"),
        ("PERSISTENCE_MAX_PENDING", "0"), ("PERSISTENCE_MAX_PENDING", "lots"),
        ("PREDICTION_HISTORY_SIZE", "0"), ("STREAM_RING_SIZE", "-5"), ("SIDEBET_HISTORY_SIZE", "x"),
        ("STREAM_SAMPLE_EVERY_TICKS", "0"), ("STREAM_SAMPLE_EVERY_TICKS", "every"),
        ("SIDEBET_WINDOW_TICKS", "0"), ("SIDEBET_WINDOW_TICKS", "40.5"),
        ("SIDEBET_PAYOUT_MULTIPLIER", "0.5"), ("SIDEBET_PAYOUT_MULTIPLIER", "five"),
        ("GAME_IDLE_TIMEOUT_SECONDS", "0"), ("GAME_IDLE_TIMEOUT_SECONDS", "86401"), ("GAME_IDLE_TIMEOUT_SECONDS", "a minute"),
        ("MONGO_URL", "http://localhost:27017"), ("MONGO_URL", "localhost:27017"),
        ("PERSISTENCE_BACKEND", "postgres"), ("SPOOL_MAX_BYTES", "100"), ("SPOOL_MAX_BYTES", "1GB"),
        ("INGEST_DURABILITY", "sometimes"), ("OVERFLOW_POLICY", "block"), ("OVERFLOW_POLICY", "drop-oldest"),
        ("PORT", "70000"), ("PORT", "-1"), ("PORT", "http"),
        ("INGEST_MAX_BODY_BYTES", "1023"), ("INGEST_MAX_BODY_BYTES", "4MB"),
        ("INGEST_BODY_BUDGET_BYTES", "1000"), ("INGEST_BODY_BUDGET_BYTES", "64MiB"),
        ("INGEST_BODY_BUDGET_BYTES", "1048576"),  // below the default INGEST_MAX_BODY_BYTES
        ("INGEST_BODY_TIMEOUT_SECONDS", "0"), ("INGEST_BODY_TIMEOUT_SECONDS", "soon"),
        ("TICK_RETENTION_DAYS", "0"), ("PREDICTION_RETENTION_DAYS", "x"), ("SIDEBET_RETENTION_DAYS", "-1"),
        ("GAME_RETENTION_DAYS", "36501"), ("METRICS_RETENTION_DAYS", "forever"),
        ("CLEANUP_HOUR_UTC", "25"), ("CLEANUP_HOUR_UTC", "24"), ("CLEANUP_HOUR_UTC", "-1"), ("CLEANUP_HOUR_UTC", "3am"),
        ("CLEANUP_BATCH_SIZE", "0"), ("SHUTDOWN_GRACE_SECONDS", "-1"), ("SHUTDOWN_GRACE_SECONDS", "3601"),
        ("MIGRATE_ON_START", "sure"), ("LOG_FORMAT", "xml"), ("LOG_LEVEL", "verbose"),
        ("RATE_LIMIT_PER_SECOND", "-1"), ("RATE_LIMIT_PER_SECOND", "fast"), ("BACKUP_KEEP", "0"),
    ]

    @Test(arguments: badValues)
    func badValueNamesItsVariable(_ variable: String, _ value: String) throws {
        let error = try #require(Self.settingsError([variable: value]), "accepted \(variable)=\(value)")
        #expect(error.variable == variable)
        #expect(error.description.contains(variable))
        #expect(!error.reason.isEmpty)
    }

    @Test func badValueAmongGoodOnesIsTheOneReported() throws {
        let error = try #require(Self.settingsError([
            "PORT": "8080", "PERSISTENCE_BATCH_SIZE": "50", "CLEANUP_HOUR_UTC": "25", "LOG_LEVEL": "info",
        ]))
        #expect(error.variable == "CLEANUP_HOUR_UTC")
        #expect(error.value == "25")
    }

    @Test func mongoURLSelectsTheBackendAndDatabase() throws {
        let withPath = try Self.settings(["MONGO_URL": "mongodb://user:pw@db.example:27017/rugs_live?authSource=admin"])
        #expect(withPath.backend == .mongodb)
        #expect(withPath.mongoURL == "mongodb://user:pw@db.example:27017/rugs_live?authSource=admin")
        #expect(withPath.mongoDatabase == "rugs_live")

        let withoutPath = try Self.settings(["MONGO_URL": "mongodb+srv://cluster0.example.net/?retryWrites=true"])
        #expect(withoutPath.backend == .mongodb)
        #expect(withoutPath.mongoDatabase == "rugs_tracker")

        let noSlash = try Self.settings(["MONGO_URL": "mongodb://localhost:27017"])
        #expect(noSlash.mongoDatabase == "rugs_tracker")

        let explicit = try Self.settings(["MONGO_URL": "mongodb://localhost/fromurl", "MONGO_DB": "explicit"])
        #expect(explicit.mongoDatabase == "explicit")

        let sqliteAnyway = try Self.settings(["MONGO_URL": "mongodb://localhost/x", "PERSISTENCE_BACKEND": "SQLite"])
        #expect(sqliteAnyway.backend == .sqlite)
    }

    @Test func mongoBackendNeedsAURLOnlyWhenPersisting() throws {
        #expect(try Self.settings(["PERSISTENCE_BACKEND": "mongodb"]).backend == .mongodb)
        let error = try #require(Self.settingsError(["PERSISTENCE_BACKEND": "mongodb", "PERSISTENCE_ENABLED": "true"]))
        #expect(error.variable == "MONGO_URL")
    }

    @Test func badMongoURLNeverShowsThePassword() throws {
        let error = try #require(Self.settingsError(["MONGO_URL": "postgres://admin:s3cr3tPass@db.example/app"]))
        #expect(error.variable == "MONGO_URL")
        #expect(!error.value.contains("s3cr3tPass"))
        #expect(!error.description.contains("s3cr3tPass"))
        #expect(error.value == "postgres://admin:***@db.example/app")
    }

    @Test func envFileOverridesTheEnvironment() throws {
        let merged = Settings.merged(
            environment: ["PERSISTENCE_BATCH_SIZE": "10", "PORT": "9000"],
            envFile: ["PERSISTENCE_BATCH_SIZE": "20", "HOST": "0.0.0.0"])
        #expect(merged == ["PERSISTENCE_BATCH_SIZE": "20", "PORT": "9000", "HOST": "0.0.0.0"])
    }

    /// docker-compose.yml sets MONGO_URL in the environment and mounts a `.env` copied from `.env.example`, whose
    /// `MONGO_URL=` is blank: the blank line must not switch the container to SQLite.
    @Test func aBlankValueInTheEnvFileLeavesTheEnvironmentsValue() throws {
        let url = try Self.temporaryFile("MONGO_URL=\nPERSISTENCE_BACKEND=\nPORT=9100\n")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let settings = try Settings.load(environment: [
            "ENV_FILE": url.path, "MONGO_URL": "mongodb://mongodb:27017/rugs_tracker", "PORT": "8000",
        ])
        #expect(settings.mongoURL == "mongodb://mongodb:27017/rugs_tracker")
        #expect(settings.backend == .mongodb)
        #expect(settings.port == 9100)
    }

    static func temporaryFile(_ contents: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ted-core-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(".env")
        try Data(contents.utf8).write(to: url)
        return url
    }

    @Test func loadReadsTheEnvFileItNames() throws {
        let url = try Self.temporaryFile("""
            # ted settings
            export PERSISTENCE_BATCH_SIZE=20
            PORT="9100"
            LOG_LEVEL=debug # chatty
            """)
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let settings = try Settings.load(environment: [
            "ENV_FILE": url.path, "PERSISTENCE_BATCH_SIZE": "10", "CLEANUP_HOUR_UTC": "5",
        ])
        #expect(settings.batchSize == 20)  // the file wins
        #expect(settings.port == 9100)
        #expect(settings.logLevel == "debug")
        #expect(settings.cleanupHourUTC == 5)  // from the environment
        #expect(settings.envFilePath == url.path)
    }

    @Test func loadWithoutAnEnvFileUsesTheEnvironment() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("absent-\(UUID().uuidString).env").path
        let settings = try Settings.load(environment: ["ENV_FILE": path, "PORT": "8123"])
        #expect(settings.port == 8123)
        #expect(settings.envFilePath == path)
    }

    @Test func badValueInTheEnvFileNamesItsVariable() throws {
        let url = try Self.temporaryFile("PERSISTENCE_BATCH_SIZE=abc\n")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        do {
            _ = try Settings.load(environment: ["ENV_FILE": url.path, "PERSISTENCE_BATCH_SIZE": "10"])
            Issue.record("accepted PERSISTENCE_BATCH_SIZE=abc")
        } catch let error as SettingsError {
            #expect(error.variable == "PERSISTENCE_BATCH_SIZE")
            #expect(error.value == "abc")
        }
    }
}
