import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import TEDCore
import TEDPersistence
import TEDServer
import TEDStore

/// `ted serve`: the HTTP backend with its background services, in one ServiceGroup with graceful shutdown.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the HTTP service.")

    @Option(help: "Override HOST.") var host: String?
    @Option(help: "Override PORT.") var port: Int?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var settings = try SettingsLoader.loadOrExit(environment: environment)
        if let host { settings.host = host }
        if let port { settings.port = port }
        LoggingSetup.bootstrap(settings)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "ted")
        if !EventLoopExecutor.isInstalled {
            logger.warning("Swift concurrency runs on its own thread pool: NIO could not take it over on this toolchain")
        }

        // The store's writing threads yield the CPU to requests while the flush keeps up.
        let storeThreads = StoreThreadPriority(yieldsToRequests: true)
        let store = try openStore(settings, threadPriority: storeThreads, logger: logger)
        if let store {
            logger.info("Store configured", metadata: ["backend": "\(settings.backend.rawValue)", "location": "\(store.location)"])
            await StartupMigrations.check(store: store, settings: settings, logger: logger)
        }

        let envFile = (try? DotEnv.load(path: settings.envFilePath)) ?? [:]
        let (enabled, source) = try ConfigWatcher.resolve(environment: environment, envFile: envFile)
        let flag = PersistenceFlag(enabled: enabled, source: source,
                                   backendName: settings.backend == .mongodb ? "MongoDB" : "SQLite",
                                   logger: Logger(label: "ted.persistence"))
        flag.logState()
        let flagHistory = try openFlagHistory(settings, flag: flag, store: store, logger: logger)
        let spool = try await openSpool(settings, hasStore: store != nil, logger: logger)
        let durableSink = settings.ingestDurability == .durable ? spool.map(GroupCommitter.init) : nil
        // Past SPOOL_HIGH_WATER pending records move to the spool only when the store is remote: a SQLite store is on
        // the same disk, so copying records to a second file first would only slow the flush. With SQLite the spool
        // takes what the store refuses to take now (a locked file) and what is pending at shutdown.
        let spillsAtHighWater = spool != nil && settings.backend == .mongodb
        let ingestor = Ingestor(settings: settings, flag: flag, spooling: spillsAtHighWater, durableSink: durableSink)
        if let spool { ingestor.spoolRecovered(spool.file.countByCollection) }
        let statistics = FlushStatistics()
        let jobs = JobsStatus()
        // The one clock of every background service (tests give them a manual one).
        let clock = SystemClock()
        // First in the list, so it stops last: every service that ingests has stopped before its final commit.
        var services: [any Service] = durableSink.map { [$0] } ?? []
        var requestFlush: @Sendable () -> Void = {}
        if let store {
            let flush = FlushScheduler(
                ingestor: ingestor, store: store, interval: settings.persistenceInterval, batchSize: settings.batchSize,
                shutdownGrace: settings.shutdownGrace, clock: clock, statistics: statistics, spool: spool, storeThreads: storeThreads,
                logger: Logger(label: "ted.flush"))
            services.append(flush)
            requestFlush = { flush.requestFlush() }
            ingestor.onHighWater(spillsAtHighWater ? flush.relievePressure : flush.requestFlush)
            services.append(RetentionCleaner(store: store, settings: settings, flag: flag, status: jobs,
                                             clock: clock, logger: Logger(label: "ted.cleanup")))
            services.append(HourlyMetricsJob(store: store, flag: flag, status: jobs, clock: clock,
                                             logger: Logger(label: "ted.metrics")))
        }
        services.append(FlagHistorySync(history: flagHistory, clock: clock, logger: Logger(label: "ted.flag-history")))
        services.append(ConfigWatcher(path: settings.envFilePath, environment: environment, flag: flag,
                                      clock: clock, logger: Logger(label: "ted.config")))
        // After the flush in the list, so it stops before the flush drains what it derived.
        services.append(IdleGameMonitor(ingestor: ingestor, timeout: settings.gameIdleTimeout, clock: clock,
                                        logger: Logger(label: "ted.games")))
        let runtime = PersistenceRuntime(settings: settings, flag: flag, ingestor: ingestor, store: store,
                                         statistics: statistics, spool: spool, flagHistory: flagHistory, requestFlush: requestFlush,
                                         clock: clock)
        services.append(TimelineSampler(runtime: runtime, clock: clock))
        // Before the HTTP server in the list, so it stops after the last request is answered.
        let bodyDeadlines = BodyDeadlines(timeout: settings.ingestBodyTimeout, clock: clock)
        services.append(bodyDeadlines)
        let app = TEDApplication.make(runtime: runtime, registry: registry, version: TED.version, jobs: jobs,
                                      bodyDeadlines: bodyDeadlines, logger: logger)
        // Shutdown runs in reverse order: the HTTP server stops accepting first, then the flush drains.
        let group = ServeGroup.make(background: services, server: BoundedShutdown(inner: app, grace: settings.shutdownGrace),
                                    logger: logger)
        var stoppedOnError = false
        do {
            try await group.run()
        } catch {
            // A service failed: the HTTP server (a port already in use, say), after which the others stopped
            // gracefully, or a background service. What was pending is accounted for below like at any shutdown.
            logger.critical("Stopped on an error", metadata: ["error": "\(error)", "host": "\(settings.host)", "port": "\(settings.port)"])
            stoppedOnError = true
        }
        await spool?.file.close()
        await store?.close()
        let lost = ingestor.counters.pending
        logger.info("Stopped", metadata: ["records_pending": "\(lost)"])
        if lost > 0 {
            // Neither the store nor the spool took them: acknowledged records die with the process. Say so in the exit
            // status, so a supervisor or an operator's script notices.
            logger.critical("Exiting with acknowledged records lost", metadata: ["records_lost": "\(lost)"])
            throw ExitCode(3)
        }
        if stoppedOnError { throw ExitCode.failure }
    }
}

extension ServeCommand {
    /// The durable outbox, whatever the store: records the store cannot take now (an outage, a SQLite file another
    /// program holds locked) and what is pending at shutdown go there instead of being lost. A damaged spool never
    /// stops start-up: SpoolFile moves it aside and salvages what it can (reported as degraded).
    func openSpool(_ settings: Settings, hasStore: Bool, logger: Logger) async throws -> Spool? {
        guard hasStore else { return nil }
        do {
            let file = try await SpoolFile(path: settings.spoolPath, maxBytes: settings.spoolMaxBytes, logger: Logger(label: "ted.spool"))
            if let recovery = file.recovery {
                logger.error("The spool was damaged and moved aside", metadata: [
                    "moved_to": "\(recovery.movedAsideTo)", "recovered": "\(recovery.recovered)", "unreadable": "\(recovery.unreadable)",
                ])
            }
            if !file.isEmpty { logger.notice("Recovered records from the spool", metadata: ["records": "\(file.count)"]) }
            return Spool(file: file)
        } catch {
            logger.critical("Cannot open the spool at \(settings.spoolPath): \(error)")
            throw ExitCode(2)
        }
    }

    /// The flag history, its local file beside the spool (in the data directory). A file that cannot be read stops
    /// the start, as a spool that cannot be opened does: the audit trail must not silently start over.
    func openFlagHistory(_ settings: Settings, flag: PersistenceFlag, store: (any DocumentStore)?, logger: Logger) throws -> FlagHistory {
        let path = FlagHistory.journalPath(besideSpoolAt: settings.spoolPath)
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            return try FlagHistory(flag: flag, store: store, journalPath: path, logger: Logger(label: "ted.flag-history"))
        } catch {
            logger.critical("Cannot open the flag history file at \(path): \(error)")
            throw ExitCode(2)
        }
    }

    /// The configured store; none when PERSISTENCE_BACKEND=mongodb names no MONGO_URL (persistence cannot be
    /// turned on then, and the service runs in memory only).
    func openStore(_ settings: Settings, threadPriority: StoreThreadPriority, logger: Logger) throws -> (any DocumentStore)? {
        if settings.backend == .mongodb && settings.mongoURL == nil { return nil }
        let result = Result { () throws(StoreError) in
            try StoreFactory.make(settings: settings, logger: Logger(label: "ted.store"), threadPriority: threadPriority)
        }
        switch result {
        case .success(let store): return store
        case .failure(let error):
            logger.critical("Cannot open the store: \(error.message)")
            throw ExitCode(2)
        }
    }
}

/// Loads the settings or stops the process with a message naming the bad variable.
enum SettingsLoader {
    static func loadOrExit(environment: [String: String]) throws -> Settings {
        do {
            return try Settings.load(environment: environment)
        } catch let error as SettingsError {
            FileHandle.standardError.write(Data("ted: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}
