import Foundation
import TEDCore

/// Collection snapshots in SQLite, through the store's own document reads and writes (`DocumentCollections`):
/// pages by primary key, a restore replaces each row by `_id` in one transaction per page.
extension SQLiteStore {
    public func documentPage(of collection: CollectionName, matching selection: DocumentSelection, afterID: String?,
                             limit: Int) async throws(StoreError) -> [Document] {
        var filter = Self.filter(selection)
        if let afterID { filter.append(.idAfter(afterID)) }
        return try await find(collection, where: .and(filter), sort: DocumentSort("_id"), limit: limit)
    }

    public func documentCount(of collection: CollectionName, matching selection: DocumentSelection) async throws(StoreError) -> Int {
        try await count(collection, where: .and(Self.filter(selection)))
    }

    public func restoreDocuments(_ documents: [Document], into collection: CollectionName) async throws(StoreError) -> Int {
        try await upsert(documents, into: collection).total
    }

    /// The conditions of `selection`, all of which a document meets.
    private static func filter(_ selection: DocumentSelection) -> [DocumentFilter] {
        var filter: [DocumentFilter] = []
        if let window = selection.window { filter.append(.dateRange(window.field, from: window.from, to: window.to)) }
        if let gameID = selection.gameID { filter.append(.equals("game_id", .string(gameID))) }
        return filter
    }
}
