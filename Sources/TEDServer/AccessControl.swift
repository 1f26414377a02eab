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

    /// Time depends on the longer length only, never on where the bytes differ. The lengths are compared as whole
    /// integers: folding their difference into the byte accumulator kept only its low 8 bits, so a token padded
    /// with 256 NUL bytes (which compare equal to the missing bytes) passed.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var contentDifference: UInt8 = 0
        for i in 0..<max(a.count, b.count) {
            contentDifference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return (a.count ^ b.count) | Int(contentDifference) == 0
    }
}
