import TEDCore
import TEDStore

/// Whether a backed-up document is one the service can use once restored. A restore with `--drop` deletes the
/// existing data before it writes anything, so every document is checked while the database is still untouched: a
/// record that does not decode (a field of the wrong type, a missing one) or whose `_id` is not the key its fields
/// give would otherwise be found only after the drop, or be stored and break every later read of that collection.
enum BackupDocumentCheck {
    /// The collections a restore writes (the ledger is read for warnings only).
    static let restorable: Set<CollectionName> = Set(BackupWriter.collections)

    /// Nil when `document` may be restored into `collection`; else what is wrong with it.
    static func problem(with document: Document, in collection: CollectionName) -> String? {
        guard restorable.contains(collection) else {
            return "collection \(collection) is not one ted stores"
        }
        guard case .string(let id)? = document["_id"], !id.isEmpty else {
            return "a \(collection) document has no string _id"
        }
        switch collection {
        case .schemaMigrations:
            return nil
        case .flagHistory:
            do {
                let change = try FlagChange(document: document)
                return change.id == id ? nil : "\(collection) document \(id): its fields give the _id \(change.id)"
            } catch {
                return error.message
            }
        case .metricsHourly:
            // Written by the hourly job and read back by hour.
            for field in ["hour_start", "hour_end"] where document[field]?.dateValue == nil {
                return "\(collection) document \(id): field \(field) is missing or not a date"
            }
            return nil
        default:
            let record: StoreRecord
            do {
                record = try StoreRecord(document: document, collection: collection)
            } catch {
                return error.message
            }
            guard record.id == id else {
                return "\(collection) document \(id): its fields give the _id \(record.id)"
            }
            return nil
        }
    }
}
