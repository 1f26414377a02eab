import Hummingbird
import Metrics
import TEDPersistence

/// `ted_http_request_duration_seconds{route,method,status}` for every request.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var status = 500
        defer {
            Timer(label: "ted_http_request_duration_seconds", dimensions: [
                ("route", context.endpointPath ?? "unmatched"), ("method", request.method.rawValue), ("status", String(status)),
            ], preferredDisplayUnit: .seconds).recordNanoseconds((ContinuousClock.now - start).nanoseconds)
        }
        let response = try await next(request, context)
        status = response.status.code
        return response
    }
}
