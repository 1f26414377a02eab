import Foundation
import Logging
import Testing
import TEDCore
@testable import TEDPersistence
import TEDStore

/// In durable mode a 202 means "on disk": a request refused because the spool could not take it stays refused on
/// retry until its records (which the tracker has already derived) are committed.
@Suite struct DurableAcknowledgementTests {
    let logger = Logger(label: "test")

    @Test func aRetryOfARefusedRequestIsNotAcknowledgedUntilItsRecordsAreOnDisk() async throws {
        let path = try TestServer.temporaryDirectory().appendingPathComponent("spool.sqlite").path
        // The smallest spool there is: one game of 400 ticks does not fit.
        let spool = Spool(file: try await SpoolFile(path: path, maxBytes: 1 << 16, logger: logger))
        let committer = GroupCommitter(spool: spool)
        let ingestor = Ingestor(rules: OutcomeRules(), sizes: BufferSizes(tickSamples: 10, finishedGames: 10, sideBets: 10),
                                pendingCapacity: 100_000, flag: .forTests(enabled: true), durableSink: committer)
        let request = Feed.game("d-1", ticks: 400, rug: false)
        try await withRunning([committer]) {
            let first = ingestor.ingest(request)
            let ticket = try #require(first.durable)
            guard case .failure = await ticket.wait() else { Issue.record("the spool should be full"); return }
            ingestor.keepInMemory(ticket.records)
            let kept = ingestor.counters.pending
            #expect(kept == ticket.records.count)

            // The client retries the same request: nothing new is derived, yet the answer must wait for the disk.
            let retry = ingestor.ingest(request)
            let retried = try #require(retry.durable, "a retry must not be acknowledged while its records are only in memory")
            #expect(retried.records.count >= kept)  // what was kept, and what the re-sent predictions derive again
            guard case .failure = await retried.wait() else { Issue.record("still no room in the spool"); return }
            ingestor.keepInMemory(retried.records)
            #expect(ingestor.counters.pending >= kept)
            ingestor.expectBalanced()
        }
        await spool.file.close()
    }
}
