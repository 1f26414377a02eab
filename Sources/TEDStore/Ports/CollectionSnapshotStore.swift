import Foundation

// A port of the persistence layer (see StorePorts.swift): TEDPersistence is its only consumer.

/// Which documents of a collection a backup or an export reads: all of them, or those of a date window and a game.
public struct DocumentSelection: Sendable, Equatable {
    /// A date field and the window [from, to) its value must fall in; a missing bound is open.
    public struct DateWindow: Sendable, Equatable {
        public var field: String
        public var from: Date?
        public var to: Date?

        public init(field: String, from: Date?, to: Date?) {
            self.field = field
            self.from = from
            self.to = to
        }
    }

    public var window: DateWindow?
    /// Only the documents whose `game_id` is this string.
    public var gameID: String?

    public init(window: DateWindow? = nil, gameID: String? = nil) {
        self.window = window
        self.gameID = gameID
    }

    /// Every document of the collection.
    public static let all = DocumentSelection()
}

/// Whole collections as documents, in one format for both stores: what backups read and restores write back, and
/// what exports read. A backup taken from one store restores into the other.
public protocol CollectionSnapshotStore: Sendable {
    /// Up to `limit` documents of `collection` matching `selection` whose `_id` sorts after the string `afterID`
    /// (from the first when nil), by `_id`, strings in binary order in both stores: one page of a collection read
    /// whole.
    /// Reading a missing collection finds nothing and creates nothing.
    func documentPage(of collection: CollectionName, matching selection: DocumentSelection, afterID: String?,
                      limit: Int) async throws(StoreError) -> [Document]
    /// How many documents of `collection` match `selection`.
    func documentCount(of collection: CollectionName, matching selection: DocumentSelection) async throws(StoreError) -> Int
    /// Puts `documents` back as they are, each replacing the document stored under its `_id` (restoring twice gives
    /// the same collection); returns how many were written.
    func restoreDocuments(_ documents: [Document], into collection: CollectionName) async throws(StoreError) -> Int
}
