import Foundation
import Testing
import TEDCore
@testable import TEDStore

/// A restored tick sample whose `tick` is a whole double (`2.0`: older databases and hand-written backups have them)
/// belongs to its game's recording in both stores, as MongoDB compares numbers across types: SQLite keeps the
/// document whole (so it reads back a double) and holds the integer in its `tick` column for `tick >` and the sort.
@Suite struct RestoredNumberParityTests {
    static let when = Date(timeIntervalSince1970: 1_767_225_600)

    static func sample(_ id: String, tick: DocumentValue) -> Document {
        ["_id": .string(id), "game_id": "g", "tick": tick, "price": .double(1.5), "timestamp": .date(when), "created_at": .date(when)]
    }

    @Test(arguments: PortStores.Backend.allCases)
    func aWholeDoubleTickIsInTheRecordingInBothStores(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        try await MigrationRunner(store: store, migrations: try MigrationFiles.embedded.load()).up()
        let restored = [
            Self.sample("g:0000000003", tick: .int64(3)),
            Self.sample("g:0000000002", tick: .double(2)),
            Self.sample("g:0000000001", tick: .int64(1)),
        ]
        #expect(try await store.restoreDocuments(restored, into: .tickSamples) == 3)

        let ticks = try await store.recordedTicks(ofGame: "g", afterTick: 1, limit: 10)
        #expect(ticks.map(\.tick) == [2, 3])
        #expect(try await store.recordedTicks(ofGame: "g", afterTick: -1, limit: 2).map(\.tick) == [1, 2], "sorted by tick")

        let page = try await store.documentPage(of: .tickSamples, matching: .all, afterID: nil, limit: 10)
        #expect(page.first { $0["_id"] == "g:0000000002" }?["tick"] == .double(2), "the document reads back as restored")
        await store.close()
    }
}
