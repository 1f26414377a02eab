import Foundation
import Testing
import TEDCore
@testable import TEDStore

/// The retention port (`RetentionStore`) on both real stores.
@Suite struct RetentionStoreTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let cutoff = now.addingTimeInterval(-86_400)

    /// Documents of `tick_samples` created `ages` seconds before `now`, `_id`s in reverse order of age so that the
    /// oldest-first order cannot come from the `_id`s; plus one without a `created_at` and one whose `created_at` is
    /// not a date: neither is ever expired.
    static func fill(_ store: any DocumentStore, ages: [TimeInterval]) async throws {
        var documents: [Document] = ages.enumerated().map { index, age in
            ["_id": .string("d\(ages.count - index)"), "created_at": .date(now.addingTimeInterval(-age))]
        }
        documents.append(["_id": "undated"])
        documents.append(["_id": "text", "created_at": "2020-01-01T00:00:00Z"])
        _ = try await store.documents.insert(documents, into: .tickSamples)
    }

    @Test(arguments: PortStores.Backend.allCases)
    func expiredDocumentsAreCountedAndTheOldestFound(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        #expect(try await store.expiredCount(in: .tickSamples, before: Self.cutoff) == 0, "no collection yet")
        #expect(try await store.oldestExpired(in: .tickSamples, before: Self.cutoff) == nil)
        try await Self.fill(store, ages: [3 * 86_400, 86_400 + 1, 86_400, 3600, 10 * 86_400])
        #expect(try await store.expiredCount(in: .tickSamples, before: Self.cutoff) == 3)
        #expect(try await store.oldestExpired(in: .tickSamples, before: Self.cutoff) == Self.now.addingTimeInterval(-10 * 86_400))
        #expect(try await store.expiredCount(in: .games, before: Self.cutoff) == 0)
        await store.close()
    }

    @Test(arguments: PortStores.Backend.allCases)
    func expiredDocumentsAreDeletedOldestFirstInBatches(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        #expect(try await store.deleteExpired(from: .tickSamples, before: Self.cutoff, limit: 2) == 0, "no collection yet")
        try await Self.fill(store, ages: [3 * 86_400, 86_400 + 1, 86_400, 3600, 10 * 86_400])
        #expect(try await store.deleteExpired(from: .tickSamples, before: Self.cutoff, limit: 0) == 0)
        #expect(try await store.deleteExpired(from: .tickSamples, before: Self.cutoff, limit: 2) == 2)
        // The two oldest went (10 and 3 days): the one a second past the cutoff is the oldest left.
        #expect(try await store.oldestExpired(in: .tickSamples, before: Self.cutoff) == Self.now.addingTimeInterval(-86_400 - 1))
        #expect(try await store.deleteExpired(from: .tickSamples, before: Self.cutoff, limit: 2) == 1)
        #expect(try await store.deleteExpired(from: .tickSamples, before: Self.cutoff, limit: 2) == 0)
        let left = try await store.documents.find(.tickSamples, where: .all, sort: DocumentSort("_id"), limit: nil).compactMap { $0["_id"]?.stringValue }
        #expect(left == ["d2", "d3", "text", "undated"])
        await store.close()
    }
}
