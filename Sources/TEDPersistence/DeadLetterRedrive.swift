import Foundation
import TEDCore
import TEDStore

/// Re-drives dead letters straight into the store, for `ted dead-letters redrive` (the admin API re-drives through
/// the running service's pending queue instead, where they count as `recovered`). A letter is removed only once its
/// record is stored: refused again, its letter takes the new error; retryable (the store failing), it stays as it
/// was. Nothing is lost if the command is interrupted.
public struct DeadLetterRedrive: Sendable {
    let deadLetters: DeadLetters
    let writer: BatchWriter

    public init(store: any DocumentStore, rules: OutcomeRules) {
        deadLetters = DeadLetters(store: store)
        writer = BatchWriter(store: store, rules: rules)
    }

    public struct Outcome: Sendable, Equatable {
        public var stored = 0
        public var refusedAgain = 0
        public var retryable = 0
        /// Letters whose record cannot be read back: left as they are.
        public var unreadable = 0
        /// The first error met, to show.
        public var firstError: String?
    }

    /// Writes the records of up to `limit` letters, oldest first.
    public func run(limit: Int, now: Date) async throws(StoreError) -> Outcome {
        let letters = try await deadLetters.list(limit: limit)
        var outcome = Outcome()
        outcome.unreadable = letters.count { $0.record == nil }
        let records = letters.compactMap(\.record)
        for collection in Set(records.map(\.collection)).sorted() {
            let batch = records.filter { $0.collection == collection }
            let result = await writer.write(batch, to: collection)
            var storedIDs: [String] = []
            var refused: [(record: StoreRecord, error: StoreError)] = []
            for (record, fate) in zip(batch, result.fates) {
                switch fate {
                case .stored, .alreadyStored:
                    storedIDs.append(record.id)
                case .refused(let error):
                    refused.append((record, error))
                    outcome.firstError = outcome.firstError ?? error.message
                case .retryable(let error):
                    outcome.retryable += 1
                    outcome.firstError = outcome.firstError ?? error.message
                }
            }
            try await deadLetters.add(refused, at: now)
            try await deadLetters.remove(collection: collection, recordIDs: storedIDs)
            outcome.stored += storedIDs.count
            outcome.refusedAgain += refused.count
        }
        return outcome
    }
}
