import Hummingbird

/// A query parameter a report refuses: answered 400 with the field named.
struct BadParameter: Error {
    let field: String
    let message: String

    var response: Response { JSONResponse.error(.badRequest, message, field: field) }
}

/// The query parameters the store reports share, read the same way by each.
extension Request {
    /// `hours`: a whole number from 1 to `maximum`, 24 when absent.
    func reportHours(maximum: Int) throws(BadParameter) -> Int {
        guard let hours = Int(uri.queryParameters.get("hours") ?? "24"), (1...maximum).contains(hours) else {
            throw BadParameter(field: "hours", message: "hours must be a whole number from 1 to \(maximum)")
        }
        return hours
    }

    /// `include_inferred`: true or false, false when absent.
    func includeInferred() throws(BadParameter) -> Bool {
        guard let include = Bool(uri.queryParameters.get("include_inferred") ?? "false") else {
            throw BadParameter(field: "include_inferred", message: "include_inferred must be true or false")
        }
        return include
    }
}
