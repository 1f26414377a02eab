import Foundation
import TEDCore
import TEDStore

/// The dead-letter as the admin API sees it: list, re-drive (after the cause was fixed), purge.
extension PersistenceRuntime {
    public enum DeadLetterError: Error, Sendable {
        /// No store is configured.
        case noStore
        /// Re-driving needs persistence on: the records go back to the pending queue.
        case persistenceDisabled
        case store(StoreError)
    }

    private func deadLetters() throws(DeadLetterError) -> DeadLetters {
        guard let store else { throw .noStore }
        return DeadLetters(store: store)
    }

    public func listDeadLetters(limit: Int) async throws(DeadLetterError) -> (total: Int, letters: [DeadLetter]) {
        let deadLetters = try deadLetters()
        do throws(StoreError) {
            return (try await deadLetters.count(), try await deadLetters.list(limit: limit))
        } catch {
            throw .store(error)
        }
    }

    /// Takes up to `limit` letters back into the pending queue (counted `recovered`) and asks for a flush.
    public func redriveDeadLetters(limit: Int) async throws(DeadLetterError) -> Int {
        let deadLetters = try deadLetters()
        guard flag.isEnabled else { throw .persistenceDisabled }
        let records: [StoreRecord]
        do throws(StoreError) {
            records = try await deadLetters.takeForRedrive(limit: limit)
        } catch {
            throw .store(error)
        }
        ingestor.redrive(records)
        requestFlush()
        return records.count
    }

    public func purgeDeadLetters() async throws(DeadLetterError) -> Int {
        let deadLetters = try deadLetters()
        do throws(StoreError) {
            return try await deadLetters.purge()
        } catch {
            throw .store(error)
        }
    }
}

extension DeadLetter {
    /// A letter as the admin API lists it.
    public var json: JSONValue {
        [
            "collection": .string(collection.rawValue), "record_id": .string(recordID),
            "record": record.map { .object($0.document.jsonObject) } ?? .null,
            "error_code": JSONValue(errorCode), "error_message": .string(errorMessage),
            "failed_at": .string(Timestamp.formatISO8601(failedAt)),
        ]
    }
}
