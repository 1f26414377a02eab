import Hummingbird
import Metrics
import Synchronization
import TEDPersistence

/// `ted_http_request_duration_seconds{route,method,status}` for every request.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let timers: RequestTimers

    init(factory: any MetricsFactory = MetricsSystem.factory) {
        timers = RequestTimers(factory: factory)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var status = 500
        defer {
            timers.timer(route: context.endpointPath ?? "unmatched", method: request.method, status: status)
                .recordNanoseconds((ContinuousClock.now - start).nanoseconds)
        }
        do {
            let response = try await next(request, context)
            status = response.status.code
            return response
        } catch let error as any HTTPResponseError {
            // An unmatched route, or a route's typed error: counted under the status it is answered with, not 500.
            status = error.status.code
            throw error
        }
    }
}

/// The request timers, one a label set, each made once and kept: making one through the metrics factory for every
/// request took the registry's lock and formatted its labels (1.3% of a single-event ingest's CPU). Routes are the
/// router's patterns, so the label sets are few.
final class RequestTimers: Sendable {
    private struct Labels: Hashable {
        let route: String
        let method: HTTPRequest.Method
        let status: Int
    }

    private let factory: any MetricsFactory
    private let timers = Mutex<[Labels: Timer]>([:])

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func timer(route: String, method: HTTPRequest.Method, status: Int) -> Timer {
        let labels = Labels(route: route, method: method, status: status)
        if let timer = timers.withLock({ $0[labels] }) { return timer }
        let made = Timer(label: "ted_http_request_duration_seconds",
                         dimensions: [("route", route), ("method", method.rawValue), ("status", String(status))],
                         preferredDisplayUnit: .seconds, factory: factory)
        // Two first requests of a label set may both make one: the factory returns the same series for both.
        return timers.withLock { timers in
            if let timer = timers[labels] { return timer }
            timers[labels] = made
            return made
        }
    }
}
