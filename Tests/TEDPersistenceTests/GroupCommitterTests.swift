import Foundation
import Logging
import Testing
import TEDCore
@testable import TEDPersistence
import TEDStore

/// The durable commit path as a service of the group: what was queued before shutdown is committed, and a request
/// that comes after it has stopped fails at once instead of waiting for a commit that will never come.
@Suite struct GroupCommitterTests {
    static func tick(_ tick: Int) -> StoreRecord {
        .tickSample(TickSample(gameID: "gc", tick: tick, price: 1, features: nil, timestamp: Feed.start, createdAt: Feed.start))
    }

    @Test(.timeLimit(.minutes(1)))
    func whatIsQueuedBeforeShutdownIsCommittedAndLaterTicketsFailAtOnce() async throws {
        let path = try TestServer.temporaryDirectory().appendingPathComponent("spool.sqlite").path
        let spool = Spool(file: try await SpoolFile(path: path, maxBytes: 64 << 20, logger: Logger(label: "test")))
        let committer = GroupCommitter(spool: spool)
        let (first, queuedAtShutdown) = try await withRunning([committer]) {
            let first = committer.enqueue([Self.tick(0), Self.tick(1)])
            try await first.wait().get()
            // Queued and left to the shutdown: the committer's last drain takes it.
            return (first, committer.enqueue([Self.tick(2)]))
        }
        try await first.wait().get()
        try await queuedAtShutdown.wait().get()
        #expect(spool.file.count == 3)
        let late = committer.enqueue([Self.tick(3)])
        guard case .failure(let error) = await late.wait() else {
            Issue.record("a ticket after the committer stopped must fail")
            return
        }
        #expect(error.message.contains("stopped"))
        #expect(spool.file.count == 3)
        await spool.file.close()
    }
}
