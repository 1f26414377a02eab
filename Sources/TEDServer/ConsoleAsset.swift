import Hummingbird
import NIOCore

/// One file of the operator console, compiled into the binary from `Sources/TEDServer/Console` (SwiftPM's
/// `embedInCode`): the console works offline and cannot drift from the binary that serves its API.
struct ConsoleAsset: Sendable {
    let bytes: [UInt8]
    let contentType: String
    /// Strong validator: a hash of the bytes, so a browser revalidates with `If-None-Match` and gets a 304.
    let etag: String

    init(_ bytes: [UInt8], contentType: String) {
        self.bytes = bytes
        self.contentType = contentType
        etag = "\"" + Self.fnv1a(bytes) + "\""
    }

    static let page = ConsoleAsset(PackageResources.console_html, contentType: "text/html; charset=utf-8")

    /// The files under `/console/`, by name.
    static let files: [String: ConsoleAsset] = [
        "console.css": ConsoleAsset(PackageResources.console_css, contentType: "text/css; charset=utf-8"),
        "console.js": ConsoleAsset(PackageResources.console_js, contentType: "text/javascript; charset=utf-8"),
        "charts.js": ConsoleAsset(PackageResources.charts_js, contentType: "text/javascript; charset=utf-8"),
        "format.js": ConsoleAsset(PackageResources.format_js, contentType: "text/javascript; charset=utf-8"),
    ]

    /// The page may load only its own scripts, styles and API: no inline script, no other origin, no framing.
    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// The file, or 304 when the request's `If-None-Match` names its ETag. `no-cache`: the browser keeps it but
    /// revalidates every time, so a new binary's console is seen at once.
    func response(to request: Request) -> Response {
        var headers: HTTPFields = [
            .eTag: etag, .cacheControl: "no-cache",
            .contentSecurityPolicy: Self.contentSecurityPolicy, .xContentTypeOptions: "nosniff",
        ]
        if matches(request.headers[.ifNoneMatch]) { return Response(status: .notModified, headers: headers) }
        headers[.contentType] = contentType
        var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: buffer))
    }

    /// `If-None-Match` is a list of entity tags (weak ones compare by their opaque part) or `*`.
    func matches(_ ifNoneMatch: String?) -> Bool {
        guard let ifNoneMatch else { return false }
        return ifNoneMatch.split(separator: ",").contains { candidate in
            let tag = candidate.trimmingCharacters(in: .whitespaces)
            return tag == "*" || tag == etag || tag == "W/" + etag
        }
    }

    /// 64-bit FNV-1a in hex: a cheap, stable fingerprint (not a security measure).
    static func fnv1a(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
