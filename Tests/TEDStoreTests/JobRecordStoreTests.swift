import Foundation
import Testing
import TEDCore
@testable import TEDStore

/// The job records port (`JobRecordStore`) on both real stores.
@Suite struct JobRecordStoreTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: PortStores.Backend.allCases)
    func aLeaseReadsBackWithItsOwnerAndExpiryExpiredOrNot(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        #expect(try await store.lease(named: "job") == nil, "no collection yet")
        #expect(try await store.acquireLease("job", owner: "a", now: Self.t0, expiresAt: Self.t0.addingTimeInterval(300)))
        #expect(try await store.lease(named: "job") == StoredLease(owner: "a", expiresAt: Self.t0.addingTimeInterval(300)))
        #expect(try await store.lease(named: "other") == nil)
        let later = Self.t0.addingTimeInterval(600)
        #expect(try await store.acquireLease("job", owner: "b", now: later, expiresAt: later.addingTimeInterval(300)))
        #expect(try await store.lease(named: "job") == StoredLease(owner: "b", expiresAt: later.addingTimeInterval(300)))
        try await store.releaseLease("job", owner: "b")
        #expect(try await store.lease(named: "job") == nil)
        await store.close()
    }

    @Test(arguments: PortStores.Backend.allCases)
    func aJobsLastRunReplacesTheOneBeforeAndLeavesItsLeaseAlone(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        #expect(try await store.lastJobRun(of: "cleanup") == nil, "no collection yet")
        #expect(try await store.acquireLease("cleanup", owner: "a", now: Self.t0, expiresAt: Self.t0.addingTimeInterval(300)))
        let first = JobRun(job: "cleanup", startedAt: Self.t0, finishedAt: Self.t0.addingTimeInterval(2), instance: "a",
                           deleted: [.tickSamples: 120, .games: 0, .predictions: 3, .sideBets: 0, .metricsHourly: 0])
        try await store.recordJobRun(first)
        #expect(try await store.lastJobRun(of: "cleanup") == first)
        let second = JobRun(job: "cleanup", startedAt: Self.t0.addingTimeInterval(86_400),
                            finishedAt: Self.t0.addingTimeInterval(86_401), instance: "b",
                            deleted: [.tickSamples: 0, .games: 1, .predictions: 0, .sideBets: 0, .metricsHourly: 0])
        try await store.recordJobRun(second)
        #expect(try await store.lastJobRun(of: "cleanup") == second)
        #expect(try await store.lastJobRun(of: "metrics") == nil)
        #expect(try await store.lease(named: "cleanup") == StoredLease(owner: "a", expiresAt: Self.t0.addingTimeInterval(300)))
        // The run record has no owner: it never reads as a lease.
        #expect(try await store.lease(named: "cleanup_last_run") == nil)
        await store.close()
    }
}
