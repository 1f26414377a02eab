import Foundation
import TEDCore

// A port of the persistence layer (see StorePorts.swift): TEDPersistence is its only consumer.

/// A record the store refused for good, with its error, as the dead-letter keeps it.
public struct DeadLetter: Sendable, Equatable {
    public var collection: CollectionName
    public var recordID: String
    /// Nil when the kept record cannot be read back (it is kept as text, see `DeadLetterDocument`).
    public var record: StoreRecord?
    public var errorCode: Int
    public var errorMessage: String
    public var failedAt: Date

    public init(collection: CollectionName, recordID: String, record: StoreRecord?, errorCode: Int, errorMessage: String,
                failedAt: Date) {
        self.collection = collection
        self.recordID = recordID
        self.record = record
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.failedAt = failedAt
    }

    /// The letter of `record`, refused with `error` at `date`.
    public init(refused record: StoreRecord, error: StoreError, at date: Date) {
        self.init(collection: record.collection, recordID: record.id, record: record, errorCode: error.code,
                  errorMessage: error.message, failedAt: date)
    }
}

/// The dead-letter (`dead_letters`): records the store refused for good, kept in the same store so nothing queues
/// behind them and an operator can see, fix and re-drive them.
public protocol DeadLetterStore: Sendable {
    /// Keeps `letters`; a letter for a record already kept replaces the earlier one (a record refused again).
    func addDeadLetters(_ letters: [DeadLetter]) async throws(StoreError)
    /// The oldest letters first (by when they were kept), at most `limit`.
    func deadLetters(limit: Int) async throws(StoreError) -> [DeadLetter]
    func deadLetterCount() async throws(StoreError) -> Int
    /// Deletes every letter; returns how many.
    func purgeDeadLetters() async throws(StoreError) -> Int
    /// Removes the letters of these records of `collection`, if kept.
    func removeDeadLetters(of collection: CollectionName, recordIDs: [String]) async throws(StoreError)
}
