import Foundation
import TEDCore

// A port of the persistence layer (see StorePorts.swift): TEDPersistence is its only consumer.

/// The flag history in the store (`flag_history`): every host's changes of the persistence flag, kept once each.
public protocol FlagHistoryStore: Sendable {
    /// Keeps the changes not kept yet; a change already kept (the same `id`: it was synced before) is left as it is.
    func appendFlagChanges(_ changes: [FlagChange]) async throws(StoreError)
    /// The newest `limit` changes, newest first.
    func latestFlagChanges(limit: Int) async throws(StoreError) -> [FlagChange]
}
