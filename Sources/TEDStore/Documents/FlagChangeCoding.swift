import Foundation
import TEDCore

extension CollectionName {
    /// Every change of the persistence flag (`FlagChange`), whoever made it.
    public static let flagHistory = CollectionName("flag_history")
}

/// One layout of a `flag_history` document for both stores (and their backups): `created_at` is the time of the
/// change, which the history is listed by.
extension FlagChange {
    public var document: Document {
        ["_id": .string(id), "at": .date(at), "from": .bool(from), "to": .bool(to), "source": .string(source.rawValue),
         "token_fingerprint": tokenFingerprint.map(DocumentValue.string) ?? .null, "host": .string(host), "created_at": .date(at)]
    }

    public init(document: Document) throws(StoreError) {
        guard let at = document["at"]?.dateValue, let from = document["from"]?.boolValue, let to = document["to"]?.boolValue,
              let source = document["source"]?.stringValue.flatMap(FlagSource.init(rawValue:)),
              let host = document["host"]?.stringValue else {
            throw StoreError(.corrupt, "flag_history document \(document["_id"]?.stringValue ?? "?") lacks a field")
        }
        self.init(at: at, from: from, to: to, source: source, tokenFingerprint: document["token_fingerprint"]?.stringValue, host: host)
    }
}
