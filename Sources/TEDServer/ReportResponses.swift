import Hummingbird
import TEDCore
import TEDPersistence

/// How every store report answers when it cannot: the same answers whichever report it is.
extension JSONResponse {
    /// A report over the last `hours` hours while persistence is off or no store is configured.
    static func persistenceDisabled(hours: Int) -> Response {
        make(.ok, ["enabled": false, "message": "Persistence is disabled", "hours": JSONValue(hours)])
    }
}

extension ReportGate {
    /// Runs a report if one of the report places is free; else 503 at once with `Retry-After` (the write path is
    /// never what waits).
    func respond(_ report: () async -> Response) async -> Response {
        if let response = await run(report) { return response }
        return JSONResponse.error(.serviceUnavailable, "too many report queries at once (\(limit)); retry shortly",
                                  headers: [.retryAfter: "1"])
    }
}

extension StoredReports.ReportError {
    var response: Response {
        switch self {
        case .storeUnavailable(let message): JSONResponse.error(.serviceUnavailable, message)
        }
    }
}
