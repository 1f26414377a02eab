import Foundation
import Logging
import Testing
@testable import TEDStore

/// The threads that write to the store run under `SCHED_IDLE` while their `StoreThreadPriority` says they yield to
/// requests, and at the normal policy otherwise; threads without one (the spool's, MongoDB's read clients) keep theirs.
@Suite struct StoreThreadPriorityTests {
    static let idle: Int32 = 5
    static let normal: Int32 = 0

    @Test func theSQLiteStoresThreadFollowsItsPriority() async throws {
        let priority = StoreThreadPriority(yieldsToRequests: true)
        let path = try TestEnvironment.temporaryDirectory().appendingPathComponent("ted.sqlite").path
        let store = try SQLiteStore(path: path, logger: Logger(label: "test"), threadPriority: priority)
        #expect(try await store.connection.run { _ in StoreThreadPriority.currentPolicy } == Self.idle)
        priority.set(yieldsToRequests: false)
        #expect(try await store.connection.run { _ in StoreThreadPriority.currentPolicy } == Self.normal)
        priority.set(yieldsToRequests: true)
        #expect(try await store.connection.run { _ in StoreThreadPriority.currentPolicy } == Self.idle)
        await store.close()
    }

    @Test func aConnectionWithoutAPriorityKeepsItsThreads() async throws {
        let path = try TestEnvironment.temporaryDirectory().appendingPathComponent("spool.sqlite").path
        let connection = try SQLiteConnection(path: path)
        #expect(try await connection.run { _ in StoreThreadPriority.currentPolicy } == Self.normal)
        await connection.close()
    }

    /// libmongoc connects lazily: popping a client and reading the thread's policy needs no server.
    @Test func mongoDBsWriteClientsFollowThePriorityAndItsReadClientsDoNot() async throws {
        let priority = StoreThreadPriority(yieldsToRequests: true)
        let store = try MongoStore(url: "mongodb://127.0.0.1:1", database: "ted_priority", logger: Logger(label: "test"),
                                   writeThreadPriority: priority)
        #expect(try await store.pool.withClient { _ in StoreThreadPriority.currentPolicy } == Self.idle)
        #expect(try await store.readPool.withClient { _ in StoreThreadPriority.currentPolicy } == Self.normal)
        priority.set(yieldsToRequests: false)
        // Every thread of the pool switches at its next job, whichever thread takes it.
        for _ in 0..<8 {
            #expect(try await store.pool.withClient { _ in StoreThreadPriority.currentPolicy } == Self.normal)
        }
        await store.close()
    }
}
