import Foundation
import TEDCore
import TEDStore
#if canImport(Glibc)
import Glibc
#endif

/// What this process adds to a `FlagChange` (a TEDCore value): its own host name, token fingerprints, and the line
/// format of the local journal.
extension FlagChange {
    /// A change made on this machine.
    public init(at: Date, from: Bool, to: Bool, source: FlagSource, tokenFingerprint: String?) {
        self.init(at: at, from: from, to: to, source: source, tokenFingerprint: tokenFingerprint, host: FlagChange.localHost)
    }

    /// Names a token without revealing it: enough to tell two operators' tokens apart, useless to log in with.
    public static func fingerprint(ofToken token: String) -> String {
        "sha256:" + SHA256.hex(Array(token.utf8)).prefix(16)
    }

    /// This machine's name (the `host` of each change it records).
    public static let localHost: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "unknown" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "unknown" : name
    }()

    /// A line of the local file: the API's fields, the time in epoch milliseconds (exact, and quick to read back).
    var journalJSON: JSONValue {
        ["at_ms": .int(Self.milliseconds(at)), "from": .bool(from), "to": .bool(to),
         "source": .string(source.rawValue), "token_fingerprint": JSONValue(tokenFingerprint), "host": .string(host)]
    }

    init?(journalJSON object: JSONObject) {
        guard case .int(let millis)? = object["at_ms"], case .bool(let from)? = object["from"], case .bool(let to)? = object["to"],
              let source = object["source"]?.stringValue.flatMap(FlagSource.init(rawValue:)),
              let host = object["host"]?.stringValue else { return nil }
        self.init(at: Date(timeIntervalSince1970: Double(millis) / 1000), from: from, to: to, source: source,
                  tokenFingerprint: object["token_fingerprint"]?.stringValue, host: host)
    }
}
