import Foundation
import TEDCore
import TEDStore
#if canImport(Glibc)
import Glibc
#endif

/// One change of `PERSISTENCE_ENABLED`, as the flag history keeps it: operator audit data, not game data.
public struct FlagChange: Sendable, Equatable {
    /// Whole milliseconds, as both stores keep dates: what is read back equals what was recorded.
    public var at: Date
    public var from: Bool
    public var to: Bool
    public var source: FlagSource
    /// `sha256:` and the first 16 hex digits of the SHA-256 of the admin token of an API change; nil otherwise.
    public var tokenFingerprint: String?
    public var host: String

    public init(at: Date, from: Bool, to: Bool, source: FlagSource, tokenFingerprint: String?, host: String = FlagChange.localHost) {
        self.at = FlagChange.wholeMilliseconds(at)
        self.from = from
        self.to = to
        self.source = source
        self.tokenFingerprint = tokenFingerprint
        self.host = host
    }

    /// Deterministic, so a change synced twice (the store took it but the mark in the local file was lost) is
    /// "already stored", never a duplicate. One host cannot change the flag twice the same way in the same
    /// millisecond (a change to on must come between two changes to off).
    public var id: String {
        "\(host)/\(Self.milliseconds(at))/\(to ? "on" : "off")/\(source.rawValue)"
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

    static func wholeMilliseconds(_ date: Date) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds(date)) / 1000)
    }

    /// Rounded, not truncated: a whole millisecond divided by 1000 and multiplied back may land a hair below it.
    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }
}

extension FlagChange {
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

    /// The store's document (`flag_history`): `created_at` is the time of the change, which the list sorts on.
    var document: Document {
        ["_id": .string(id), "at": .date(at), "from": .bool(from), "to": .bool(to), "source": .string(source.rawValue),
         "token_fingerprint": tokenFingerprint.map(DocumentValue.string) ?? .null, "host": .string(host), "created_at": .date(at)]
    }

    init(document: Document) throws(StoreError) {
        guard let at = document["at"]?.dateValue, let from = document["from"]?.boolValue, let to = document["to"]?.boolValue,
              let source = document["source"]?.stringValue.flatMap(FlagSource.init(rawValue:)),
              let host = document["host"]?.stringValue else {
            throw StoreError(.corrupt, "flag_history document \(document["_id"]?.stringValue ?? "?") lacks a field")
        }
        self.init(at: at, from: from, to: to, source: source, tokenFingerprint: document["token_fingerprint"]?.stringValue, host: host)
    }
}

extension CollectionName {
    /// Every change of the persistence flag (`FlagChange`), whoever made it.
    public static let flagHistory = CollectionName("flag_history")
}
