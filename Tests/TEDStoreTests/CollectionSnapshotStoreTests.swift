import Foundation
import Testing
import TEDCore
@testable import TEDStore

/// The collection snapshot port (`CollectionSnapshotStore`: what backups, restores and exports read and write) on
/// both real stores.
@Suite struct CollectionSnapshotStoreTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// `_id`s whose binary order differs from a case-insensitive or locale order: upper case before lower case,
    /// a prefix before its extensions, non-ASCII last.
    static let ids = ["é:1", "b:2", "B:1", "a:10", "a:1", "a:2", "aa:1"]
    static let idsInBinaryOrder = ["B:1", "a:1", "a:10", "a:2", "aa:1", "b:2", "é:1"]

    /// A tick sample per id, `game_id` the part before the colon, `timestamp` a minute apart in the order of `ids`.
    static func samples() -> [Document] {
        ids.enumerated().map { index, id in
            ["_id": .string(id), "game_id": .string(String(id.split(separator: ":")[0])), "tick": .int64(Int64(index)),
             "timestamp": .date(t0.addingTimeInterval(60 * Double(index))), "nested": .document(["x": .array([.int32(1), .null])])]
        }
    }

    /// Every document of `selection` read through pages of `size`, chaining each page from the last `_id` read.
    static func paged(_ store: any DocumentStore, _ selection: DocumentSelection, size: Int) async throws -> [Document] {
        var all: [Document] = []
        var after: String?
        while true {
            let page = try await store.documentPage(of: .tickSamples, matching: selection, afterID: after, limit: size)
            // A page that does not start after the last `_id` read would be read again and again.
            if let after, let first = page.first?["_id"]?.stringValue, !after.utf8.lexicographicallyPrecedes(first.utf8) {
                Issue.record("the page after \(after) starts at \(first)")
                return all
            }
            all += page
            guard page.count == size, let last = page.last?["_id"]?.stringValue else { return all }
            after = last
        }
    }

    @Test(arguments: PortStores.Backend.allCases)
    func aMissingCollectionReadsEmptyAndIsNotCreated(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        #expect(try await store.documentPage(of: .tickSamples, matching: .all, afterID: nil, limit: 10) == [])
        #expect(try await store.documentCount(of: .tickSamples, matching: DocumentSelection(gameID: "a")) == 0)
        #expect(try await !store.schema.collectionNames().contains(CollectionName.tickSamples.rawValue))
        await store.close()
    }

    @Test(arguments: PortStores.Backend.allCases)
    func pagesFollowTheIDsInBinaryOrderAndReadEachDocumentOnce(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        #expect(try await store.restoreDocuments(Self.samples(), into: .tickSamples) == Self.ids.count)
        for size in [1, 2, 3, 7, 100] {
            let read = try await Self.paged(store, .all, size: size)
            #expect(read.compactMap { $0["_id"]?.stringValue } == Self.idsInBinaryOrder, "pages of \(size)")
        }
        // Documents come back as stored, every field and type.
        let byID = Dictionary(uniqueKeysWithValues: Self.samples().map { ($0["_id"]!.stringValue!, $0) })
        for document in try await Self.paged(store, .all, size: 3) { #expect(document == byID[document["_id"]!.stringValue!]) }
        #expect(try await store.documentPage(of: .tickSamples, matching: .all, afterID: "é:1", limit: 10) == [])
        #expect(try await store.documentPage(of: .tickSamples, matching: .all, afterID: nil, limit: 0) == [])
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == Self.ids.count)
        await store.close()
    }

    @Test(arguments: PortStores.Backend.allCases)
    func aSelectionReadsAndCountsTheDocumentsOfItsWindowAndGame(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        var documents = Self.samples()
        // Neither matches a window nor the game "a": a timestamp that is text, a game_id that is a number.
        documents.append(["_id": "text-time", "game_id": "a", "timestamp": "2027-01-15T08:00:00Z"])
        documents.append(["_id": "number-game", "game_id": .int64(1), "timestamp": .date(Self.t0)])
        _ = try await store.restoreDocuments(documents, into: .tickSamples)

        // Minutes [2, 5): "B:1", "a:10" and "a:1", by their index in `ids`.
        let window = DocumentSelection.DateWindow(field: "timestamp", from: Self.t0.addingTimeInterval(120),
                                                  to: Self.t0.addingTimeInterval(300))
        let cases: [(DocumentSelection, [String])] = [
            (DocumentSelection(window: window), ["B:1", "a:10", "a:1"]),
            (DocumentSelection(window: window, gameID: "a"), ["a:10", "a:1"]),
            (DocumentSelection(window: window, gameID: "b"), []),
            (DocumentSelection(gameID: "a"), ["a:1", "a:10", "a:2", "text-time"]),
            (DocumentSelection(window: .init(field: "timestamp", from: Self.t0.addingTimeInterval(300), to: nil)), ["a:2", "aa:1"]),
            (DocumentSelection(window: .init(field: "timestamp", from: nil, to: Self.t0.addingTimeInterval(60))), ["number-game", "é:1"]),
            (DocumentSelection(window: .init(field: "timestamp", from: nil, to: nil)), Self.idsInBinaryOrder + ["number-game", "text-time"]),
        ]
        for (selection, expected) in cases {
            let sorted = expected.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            #expect(try await Self.paged(store, selection, size: 2).compactMap { $0["_id"]?.stringValue } == sorted, "\(selection)")
            #expect(try await store.documentCount(of: .tickSamples, matching: selection) == expected.count, "\(selection)")
        }
        await store.close()
    }

    @Test(arguments: PortStores.Backend.allCases)
    func aRestoreReplacesEachDocumentByIDAndTwiceChangesNothing(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        #expect(try await store.restoreDocuments([], into: .games) == 0)
        _ = try await store.documents.insert([["_id": "g1", "game_id": "g1", "stale": .bool(true)], ["_id": "g9", "game_id": "g9"]],
                                             into: .games)
        let backup: [Document] = [["_id": "g1", "game_id": "g1", "end_tick": .int64(7), "created_at": .date(Self.t0)],
                                  ["_id": "g2", "game_id": "g2", "end_tick": .int64(3)]]
        #expect(try await store.restoreDocuments(backup, into: .games) == 2)
        #expect(try await store.restoreDocuments(backup, into: .games) == 2)
        // The backed-up version replaced the stored one whole (`stale` is gone); a document the backup lacks stays.
        let stored = try await store.documentPage(of: .games, matching: .all, afterID: nil, limit: 10)
        #expect(stored == backup + [["_id": "g9", "game_id": "g9"]])
        // The `created_at` of the restored document is the one retention reads.
        #expect(try await store.expiredCount(in: .games, before: Self.t0.addingTimeInterval(1)) == 1)
        await store.close()
    }

    /// One format for both stores: documents read from one store and restored into the other read back the same.
    @Test func documentsReadFromOneStoreRestoreIntoTheOther() async throws {
        let sqlite = try PortStores.make(.sqlite)
        let mongo = try PortStores.make(.mongodb)
        _ = try await sqlite.restoreDocuments(Self.samples(), into: .tickSamples)
        let fromSQLite = try await Self.paged(sqlite, .all, size: 3)
        _ = try await mongo.restoreDocuments(fromSQLite, into: .predictions)
        #expect(try await mongo.documentPage(of: .predictions, matching: .all, afterID: nil, limit: 100) == fromSQLite)
        _ = try await sqlite.restoreDocuments(try await mongo.documentPage(of: .predictions, matching: .all, afterID: nil, limit: 100),
                                              into: .sideBets)
        #expect(try await sqlite.documentPage(of: .sideBets, matching: .all, afterID: nil, limit: 100) == fromSQLite)
        await sqlite.close()
        await mongo.close()
    }
}
