import Hummingbird

/// CORS for the origins listed in `CORS_ORIGINS` only; without the variable no CORS header is ever sent.
struct CORSPolicy<Context: RequestContext>: RouterMiddleware {
    let allowedOrigins: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], allowedOrigins.contains(origin) || allowedOrigins.contains("*") else {
            return try await next(request, context)
        }
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            return Response(status: .noContent, headers: headers(origin: origin, preflight: true))
        }
        var response = try await next(request, context)
        response.headers.append(contentsOf: headers(origin: origin, preflight: false))
        return response
    }

    private func headers(origin: String, preflight: Bool) -> HTTPFields {
        var fields: HTTPFields = [.accessControlAllowOrigin: origin, .vary: "Origin"]
        if preflight {
            fields[.accessControlAllowMethods] = "GET, POST, OPTIONS"
            fields[.accessControlAllowHeaders] = "Authorization, Content-Type"
            fields[.accessControlMaxAge] = "600"
        }
        return fields
    }
}
