import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import TEDCore
import TEDPersistence

/// Builds the HTTP API of the service.
public enum TEDApplication {
    /// The most events one ingest request may carry (a larger request is answered 413).
    public static let maxEventsPerRequest = 20_000

    public static func router(runtime: PersistenceRuntime, registry: PrometheusCollectorRegistry?, version: String,
                              jobs: JobsStatus? = nil,
                              rateLimit: RateLimiter<TEDRequestContext>.Buckets? = nil,
                              bodyDeadlines: BodyDeadlines? = nil) -> Router<TEDRequestContext> {
        let router = Router(context: TEDRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware())
        if !runtime.settings.corsOrigins.isEmpty {
            router.add(middleware: CORSPolicy(allowedOrigins: Set(runtime.settings.corsOrigins)))
        }
        if let buckets = rateLimit ?? runtime.settings.rateLimitPerSecond.map({
            RateLimiter<TEDRequestContext>.Buckets(burst: $0, refillPerSecond: Double($0))
        }) {
            router.add(middleware: RateLimiter(buckets: buckets))
        }
        let access = AccessControl(ingestToken: runtime.settings.ingestToken, adminToken: runtime.settings.adminToken)
        IngestRoutes(runtime: runtime, access: access,
                     crossSite: CrossSiteWriteGuard(allowedOrigins: Set(runtime.settings.corsOrigins)),
                     bodyReader: IngestBodyReader(budget: BodyBudget(limit: runtime.settings.ingestBodyBudgetBytes,
                                                                          largestBody: runtime.settings.ingestMaxBodyBytes),
                                                  maxBodyBytes: runtime.settings.ingestMaxBodyBytes,
                                                  // Without the running service of `make` (tests), bodies have no time limit.
                                                  deadlines: bodyDeadlines ?? BodyDeadlines(timeout: runtime.settings.ingestBodyTimeout,
                                                                                             clock: SystemClock())),
                     maxEvents: maxEventsPerRequest).register(on: router)
        HistoryRoutes(runtime: runtime).register(on: router)
        PersistenceRoutes(runtime: runtime, access: access, jobs: jobs).register(on: router)
        DeadLetterRoutes(runtime: runtime, access: access).register(on: router)
        FlagHistoryRoutes(runtime: runtime, access: access).register(on: router)
        ReportRoutes(runtime: runtime, jobs: jobs).register(on: router)
        AnalyticsRoutes(runtime: runtime).register(on: router)
        GameRecordingRoutes(runtime: runtime).register(on: router)
        StatusRoutes(runtime: runtime, version: version).register(on: router)
        ConsoleRoutes(runtime: runtime).register(on: router)
        if let registry {
            let exporter = MetricsExporter(registry: registry, runtime: runtime)
            router.get("/metrics") { _, _ -> Response in
                let bytes = exporter.render()
                var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
                buffer.writeBytes(bytes)
                return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: ResponseBody(byteBuffer: buffer))
            }
        }
        return router
    }

    /// `bodyDeadlines` must run in the same service group (it enforces `INGEST_BODY_TIMEOUT_SECONDS`).
    public static func make(runtime: PersistenceRuntime, registry: PrometheusCollectorRegistry?, version: String,
                            jobs: JobsStatus?, bodyDeadlines: BodyDeadlines, logger: Logger) -> some ApplicationProtocol {
        Application(
            router: router(runtime: runtime, registry: registry, version: version, jobs: jobs, bodyDeadlines: bodyDeadlines),
            // A connection silent for 30 s is closed: a client that stalls mid-request can neither hold it forever
            // nor keep a graceful shutdown (and the final flush behind it) waiting. Keep-alive clients reconnect.
            server: .readAheadLimitedHTTP1(configuration: .init(idleTimeout: .seconds(30))),
            configuration: .init(address: .hostname(runtime.settings.host, port: runtime.settings.port), serverName: "ted"),
            logger: logger)
    }
}
