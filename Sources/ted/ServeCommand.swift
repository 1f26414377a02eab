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

        let store = try openStore(settings, logger: logger)
        if let store {
            logger.info("Store configured", metadata: ["backend": "\(settings.backend.rawValue)", "location": "\(store.location)"])
            await StartupMigrations.check(store: store, settings: settings, logger: logger)
        }

        let envFile = (try? DotEnv.load(path: settings.envFilePath)) ?? [:]
        let (enabled, source) = try ConfigWatcher<ContinuousClock>.resolve(environment: environment, envFile: envFile)
        let flag = PersistenceFlag(enabled: enabled, source: source,
                                   backendName: settings.backend == .mongodb ? "MongoDB" : "SQLite",
                                   logger: Logger(label: "ted.persistence"))
        flag.logState()
        let ingestor = Ingestor(settings: settings, flag: flag)
        let statistics = FlushStatistics()
        var services: [any Service] = []
        var requestFlush: @Sendable () -> Void = {}
        if let store {
            let flush = FlushScheduler(
                ingestor: ingestor, store: store, interval: settings.persistenceInterval, batchSize: settings.batchSize,
                shutdownGrace: settings.shutdownGrace, clock: ContinuousClock(), statistics: statistics,
                logger: Logger(label: "ted.flush"))
            services.append(flush)
            requestFlush = { flush.requestFlush() }
        }
        services.append(ConfigWatcher(path: settings.envFilePath, environment: environment, flag: flag,
                                      clock: ContinuousClock(), logger: Logger(label: "ted.config")))
        let runtime = PersistenceRuntime(settings: settings, flag: flag, ingestor: ingestor, store: store,
                                         statistics: statistics, requestFlush: requestFlush)
        let app = TEDApplication.make(runtime: runtime, registry: registry, version: TED.version, services: [], logger: logger)
        // Shutdown runs in reverse order: the HTTP server stops accepting first, then the flush drains.
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) } + [.init(service: app)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
        await store?.close()
        logger.info("Stopped", metadata: ["records_pending": "\(ingestor.counters.pending)"])
    }
}

extension ServeCommand {
    /// The configured store; none when PERSISTENCE_BACKEND=mongodb names no MONGO_URL (persistence cannot be
    /// turned on then, and the service runs in memory only).
    func openStore(_ settings: Settings, logger: Logger) throws -> (any DocumentStore)? {
        if settings.backend == .mongodb && settings.mongoURL == nil { return nil }
        let result = Result { () throws(StoreError) in try StoreFactory.make(settings: settings, logger: Logger(label: "ted.store")) }
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
