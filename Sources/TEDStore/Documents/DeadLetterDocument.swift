import Foundation
import TEDCore

/// One layout of a `dead_letters` document for both stores (and their backups): `{_id: "<collection>/<record _id>",
/// collection, record_id, record, error_code, error_message, failed_at, created_at}`. The record is kept as Extended
/// JSON text: a value the store refused as a field may still be kept as a string.
enum DeadLetterDocument {
    static func id(of collection: CollectionName, recordID: String) -> String { "\(collection.rawValue)/\(recordID)" }

    /// `created_at` is when the letter was (last) kept: the list is oldest first by it.
    static func encode(_ letter: DeadLetter) throws(StoreError) -> Document {
        let record = try letter.record.map { record throws(StoreError) -> DocumentValue in
            .string(try ExtendedJSON.encode(record.document).serializedString)
        }
        return [
            "_id": .string(id(of: letter.collection, recordID: letter.recordID)),
            "collection": .string(letter.collection.rawValue), "record_id": .string(letter.recordID),
            "record": record ?? .null,
            "error_code": .int64(Int64(letter.errorCode)), "error_message": .string(letter.errorMessage),
            "failed_at": .date(letter.failedAt), "created_at": .date(letter.failedAt),
        ]
    }

    /// Never fails: a letter whose record cannot be read comes back without it, so it can still be listed and purged.
    static func decode(_ document: Document) -> DeadLetter {
        let collection = CollectionName(document["collection"]?.stringValue ?? "")
        let record = document["record"]?.stringValue.flatMap { text -> StoreRecord? in
            guard let decoded = try? ExtendedJSON.decodeDocument(text: Array(text.utf8)) else { return nil }
            return try? StoreRecord(document: decoded, collection: collection)
        }
        return DeadLetter(
            collection: collection, recordID: document["record_id"]?.stringValue ?? "", record: record,
            errorCode: document["error_code"]?.intValue ?? 0, errorMessage: document["error_message"]?.stringValue ?? "",
            failedAt: document["failed_at"]?.dateValue ?? Date(timeIntervalSince1970: 0))
    }
}
