import Hummingbird

/// Bearer-token checks for the write and admin endpoints, compared in constant time. Answers never echo
/// a credential.
struct AccessControl: Sendable {
    let ingestToken: String?
    let adminToken: String?

    /// Nil when the request may ingest.
    func checkIngest(_ request: Request) -> Response? {
        guard let ingestToken else { return nil }
        return Self.matches(request, ingestToken) ? nil : JSONResponse.error(.unauthorized, "a valid ingest token is required",
                                                                            headers: [.wwwAuthenticate: "Bearer"])
    }

    /// Nil when the request may use the admin API; the admin API is off without `ADMIN_TOKEN`.
    func checkAdmin(_ request: Request) -> Response? {
        guard let adminToken else {
            return JSONResponse.error(.forbidden, "the admin API is disabled: set ADMIN_TOKEN to enable it")
        }
        return Self.matches(request, adminToken) ? nil : JSONResponse.error(.forbidden, "a valid admin token is required")
    }

    static func matches(_ request: Request, _ token: String) -> Bool {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return false }
        return constantTimeEquals(Array(header.utf8.dropFirst("Bearer ".utf8.count)), Array(token.utf8))
    }

    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}
