import Foundation

/// Helpers for MongoDB connection strings that must never leak a password into logs or answers.
public enum MongoURL {
    /// The URL with the password replaced by `***` (`mongodb://user:***@host/db`).
    public static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        guard let at = rest.lastIndex(of: "@") else { return url }
        let credentials = rest[..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return url }
        return String(url[..<scheme.upperBound]) + credentials[..<colon] + ":***" + rest[at...]
    }

    /// Replaces any occurrence of the password of `url` in `text`: driver messages may quote the URL.
    public static func scrub(_ text: String, url: String?) -> String {
        guard let url, let password = password(of: url), !password.isEmpty else { return text }
        return text.replacingOccurrences(of: url, with: redacted(url)).replacingOccurrences(of: password, with: "***")
    }

    /// The database named by the URL's path (`mongodb://h/db?x` → `db`), if any.
    public static func databaseName(of url: String) -> String? {
        guard let scheme = url.range(of: "://") else { return nil }
        var rest = url[scheme.upperBound...]
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        let path = rest[rest.index(after: slash)...].prefix { $0 != "?" }
        return path.isEmpty ? nil : String(path)
    }

    static func password(of url: String) -> String? {
        guard let scheme = url.range(of: "://") else { return nil }
        let rest = url[scheme.upperBound...]
        guard let at = rest.lastIndex(of: "@") else { return nil }
        let credentials = rest[..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return nil }
        return String(credentials[credentials.index(after: colon)...])
    }
}
