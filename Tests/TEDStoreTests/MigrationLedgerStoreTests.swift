import Foundation
import Testing
import TEDCore
@testable import TEDStore

/// The migration ledger port (`MigrationLedgerStore`) on both real stores.
@Suite struct MigrationLedgerStoreTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000.125)

    static func row(_ version: Int, checksum: String = "sha-a", at offset: TimeInterval = 0) -> AppliedMigration {
        AppliedMigration(version: version, name: "step_\(version)", checksum: checksum, appliedAt: t0.addingTimeInterval(offset),
                         durationMs: 10 * version)
    }

    @Test(arguments: PortStores.Backend.allCases)
    func readingAFreshDatabaseFindsNothingAndCreatesNothing(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        #expect(try await store.appliedMigrations() == [])
        #expect(try await !store.schema.collectionNames().contains(CollectionName.schemaMigrations.rawValue))
        await store.close()
    }

    @Test(arguments: PortStores.Backend.allCases)
    func rowsReadBackByVersionWithEveryField(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        // Recorded out of order, and version 10 after 9 (a text sort by `_id` would agree, by name it would not).
        for version in [10, 2, 9, 1] { try await store.recordMigration(Self.row(version, at: Double(version))) }
        #expect(try await store.appliedMigrations() == [1, 2, 9, 10].map { Self.row($0, at: Double($0)) })
        await store.close()
    }

    @Test(arguments: PortStores.Backend.allCases)
    func aVersionIsKeptOnceAndRemovedByVersion(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        try await store.recordMigration(Self.row(1))
        try await store.recordMigration(Self.row(2))
        // Recording a kept version again leaves the first row as it is.
        try await store.recordMigration(Self.row(1, checksum: "sha-b", at: 60))
        #expect(try await store.appliedMigrations() == [Self.row(1), Self.row(2)])
        try await store.removeMigration(version: 1)
        #expect(try await store.appliedMigrations() == [Self.row(2)])
        try await store.removeMigration(version: 7)  // not kept: nothing to do
        try await store.removeMigration(version: 2)
        #expect(try await store.appliedMigrations() == [])
        await store.close()
    }

    @Test(arguments: PortStores.Backend.allCases)
    func aRowWithoutItsChecksumIsReportedCorrupt(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        _ = try await store.documents.insert([["_id": "0001", "version": .int64(1), "name": "initial", "applied_at": .date(Self.t0)]],
                                             into: .schemaMigrations)
        let error = await #expect(throws: StoreError.self) { try await store.appliedMigrations() }
        #expect(error?.kind == .corrupt && error?.message.contains("0001") == true)
        await store.close()
    }
}
