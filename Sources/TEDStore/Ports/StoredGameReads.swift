import Foundation
import TEDCore

// A port of the persistence layer (see StorePorts.swift): TEDPersistence is its only consumer.

/// A stored game with its predictions and side bets. Documents, not records, on purpose: the game endpoints show what
/// is stored as it is stored, TED-V1's fields (`legacy_id`) and ObjectId `_id`s (as hex strings) included, which the
/// typed records cannot carry.
public struct StoredGameDetail: Sendable, Equatable {
    public var game: Document
    /// By `predicted_at_tick`.
    public var predictions: [Document]
    /// By `placed_at_tick`.
    public var sideBets: [Document]

    public init(game: Document, predictions: [Document], sideBets: [Document]) {
        self.game = game
        self.predictions = predictions
        self.sideBets = sideBets
    }
}

/// The stored games the API reads (the game recordings' ticks are `DocumentStore.recordedTicks`), as stored (see
/// `StoredGameDetail`).
public protocol StoredGameReads: Sendable {
    /// Up to `limit` games created before `before` (any when nil), newest first.
    func latestGames(limit: Int, before: Date?) async throws(StoreError) -> [Document]
    /// The game `gameID`; nil when it is not stored.
    func storedGame(_ gameID: String) async throws(StoreError) -> Document?
    /// The game `gameID` with its stored predictions and side bets; nil when the game is not stored.
    func storedGameDetail(_ gameID: String) async throws(StoreError) -> StoredGameDetail?
}
