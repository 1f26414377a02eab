import Foundation
import Testing
import TEDCore
@testable import TEDStore

/// The flag history port (`FlagHistoryStore`) on both real stores.
@Suite struct FlagHistoryStoreTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000.123)

    static func change(_ seconds: Double, to: Bool, host: String = "a", source: FlagSource = .api) -> FlagChange {
        FlagChange(at: t0.addingTimeInterval(seconds), from: !to, to: to, source: source,
                   tokenFingerprint: source == .api ? "sha256:0123456789abcdef" : nil, host: host)
    }

    @Test(arguments: PortStores.Backend.allCases)
    func changesAreKeptOnceAndListedNewestFirst(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        #expect(try await store.latestFlagChanges(limit: 10) == [], "no collection yet")
        let changes = [Self.change(0, to: false), Self.change(60, to: true, source: .sighup), Self.change(30, to: false, host: "b")]
        try await store.appendFlagChanges(changes)
        // Synced again (the local mark was lost) with one new change: the kept ones are left as they are.
        var resent = changes[0]
        resent.tokenFingerprint = "sha256:ffffffffffffffff"
        try await store.appendFlagChanges([resent, Self.change(90, to: false, host: "b", source: .environment)])
        #expect(try await store.latestFlagChanges(limit: 10)
                == [Self.change(90, to: false, host: "b", source: .environment), changes[1], changes[2], changes[0]])
        #expect(try await store.latestFlagChanges(limit: 2) == [Self.change(90, to: false, host: "b", source: .environment), changes[1]])
        #expect(try await store.latestFlagChanges(limit: 0) == [])
        await store.close()
    }

    @Test(arguments: PortStores.Backend.allCases)
    func changesOfTheSameMillisecondOnTwoHostsAreBothKept(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        let changes = [Self.change(0, to: false, host: "a"), Self.change(0, to: false, host: "b")]
        try await store.appendFlagChanges(changes)
        #expect(try await store.latestFlagChanges(limit: 10) == [changes[1], changes[0]], "ties newest-first by _id")
        await store.close()
    }
}
