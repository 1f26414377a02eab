import Foundation

/// Where the current value of `PERSISTENCE_ENABLED` came from.
public enum FlagSource: String, Sendable {
    case envFile = "env_file"
    case environment
    case api
    /// A SIGHUP made the service re-read the `.env` file (and the environment) and the value changed.
    case sighup
    case `default`
}

/// One change of `PERSISTENCE_ENABLED`, as the flag history keeps it: operator audit data, not game data. A value of
/// the domain (here, beside the records) because both the persistence layer and the stores' flag history speak it.
public struct FlagChange: Sendable, Equatable {
    /// Whole milliseconds, as both stores keep dates: what is read back equals what was recorded.
    public var at: Date
    public var from: Bool
    public var to: Bool
    public var source: FlagSource
    /// `sha256:` and the first 16 hex digits of the SHA-256 of the admin token of an API change; nil otherwise.
    public var tokenFingerprint: String?
    public var host: String

    public init(at: Date, from: Bool, to: Bool, source: FlagSource, tokenFingerprint: String?, host: String) {
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

    static func wholeMilliseconds(_ date: Date) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds(date)) / 1000)
    }

    /// Rounded, not truncated: a whole millisecond divided by 1000 and multiplied back may land a hair below it.
    public static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }
}
