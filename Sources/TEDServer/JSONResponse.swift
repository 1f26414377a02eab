import Hummingbird
import NIOCore
import TEDCore

/// JSON answers and the API's error shape: `{"error": "...", "index": I, "field": "..."}`.
enum JSONResponse {
    static func make(_ status: HTTPResponse.Status, _ value: JSONValue, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers.append(contentsOf: extra)
        let bytes = value.serialized
        var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: buffer))
    }

    static let invalidLimit = error(.badRequest, "limit must be a whole number ≥ 1", field: "limit")

    static func error(_ status: HTTPResponse.Status, _ message: String, index: Int? = nil, field: String? = nil,
                      headers: HTTPFields = [:]) -> Response {
        var object = JSONObject([("error", .string(message))])
        if let index { object.entries.append(("index", JSONValue(index))) }
        if let field { object.entries.append(("field", .string(field))) }
        return make(status, .object(object), headers: headers)
    }
}

extension Request {
    /// The `limit` query parameter capped at `maximum`; nil when it is not a whole number ≥ 1.
    func limit(default fallback: Int, maximum: Int) -> Int? {
        guard let raw = uri.queryParameters.get("limit") else { return min(fallback, maximum) }
        guard let value = Int(raw), value >= 1 else { return nil }
        return min(value, maximum)
    }
}
