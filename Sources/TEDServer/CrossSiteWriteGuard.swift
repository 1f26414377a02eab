import Foundation
import Hummingbird

/// Keeps web pages of other sites from writing through a visitor's browser. A browser sends a cross-site POST with
/// a "simple" content type (`text/plain`, form encodings) without any CORS preflight, so CORS headers alone do not
/// stop the write; and the service may run without `INGEST_TOKEN`. Two checks close that: a browser always names
/// the page's site in `Origin`, which must then be one of `CORS_ORIGINS`; and the body must be declared as JSON or
/// NDJSON, which no form or simple request can do without a preflight.
struct CrossSiteWriteGuard: Sendable {
    /// The media types ingest takes; parameters such as `; charset=utf-8` may follow.
    static let acceptedMediaTypes: Set<String> = ["application/json", "application/x-ndjson"]

    let allowedOrigins: Set<String>

    /// Nil when the request's origin may write: no `Origin` (not a browser, or same-origin navigation without one)
    /// or one listed in `CORS_ORIGINS` (`*` lists every origin).
    func checkOrigin(_ request: Request) -> Response? {
        guard let origin = request.headers[.origin] else { return nil }
        if allowedOrigins.contains(origin) || allowedOrigins.contains("*") { return nil }
        return JSONResponse.error(.forbidden, "origin \(Self.quoted(origin)) is not allowed to write (CORS_ORIGINS)",
                                  field: "origin")
    }

    /// Nil when the body is declared as JSON or NDJSON.
    func checkContentType(_ request: Request) -> Response? {
        if let mediaType = Self.mediaType(request.headers[.contentType]), Self.acceptedMediaTypes.contains(mediaType) {
            return nil
        }
        return JSONResponse.error(.unsupportedMediaType,
                                  "Content-Type must be application/json or application/x-ndjson", field: "content-type")
    }

    /// The media type of a `Content-Type` value, lower-cased and without parameters; nil when absent or empty.
    /// HTTP's optional whitespace is spaces and tabs (RFC 9110, 5.6.3); trimmed by hand because Foundation's
    /// `trimmingCharacters(in: .whitespaces)` cost 5% of a single-event ingest's CPU (perf, release build).
    static func mediaType(_ contentType: String?) -> String? {
        guard let contentType else { return nil }
        let isOptionalWhitespace = { (character: Character) in character == " " || character == "\t" }
        var type = contentType.prefix { $0 != ";" }.drop(while: isOptionalWhitespace)
        while let last = type.last, isOptionalWhitespace(last) { type = type.dropLast() }
        return type.isEmpty ? nil : type.lowercased()
    }

    /// The origin as sent, cut short: it is the client's text and goes back into an answer.
    private static func quoted(_ origin: String) -> String {
        "\"" + String(origin.prefix(200)) + "\""
    }
}
