import Foundation
import Logging
import Testing
import TEDCore
@testable import TEDPersistence
@testable import TEDStore
import TEDTestSupport

/// Model-based: random interleavings of ingest, flushes, retryable outages (whole store or one collection), records
/// refused for good, spills to the spool and restarts must keep the accounting identity at every step and end with the
/// stored data of a fault-free run.
@Suite struct WritePathModelTests {
    let logger = Logger(label: "test")

    /// Three games of a live feed, cut into request-sized chunks by the seed.
    static let feed: [IngestEvent] = Feed.game("m-1", ticks: 120, predictedEnd: 90) + Feed.game("m-2", ticks: 75, predictedEnd: 200)
        + Feed.game("m-3", ticks: 50, predictedEnd: 51)

    /// A value the database never takes: every 37th tick sample.
    static let refuses: @Sendable (StoreRecord) -> Bool = { record in
        if case .tickSample(let sample) = record { return sample.tick % 37 == 36 }
        return false
    }

    enum Step: CaseIterable { case flush, outage, collectionOutage, heal, spill, restart }

    struct Process {
        var ingestor: Ingestor
        var flush: FlushScheduler
    }

    func start(_ store: any DocumentStore, _ spool: Spool) -> Process {
        let ingestor = Ingestor.forTests(flag: .forTests(enabled: true))
        ingestor.spoolRecovered(spool.file.countByCollection)
        let flush = FlushScheduler(ingestor: ingestor, store: store, interval: .milliseconds(100), batchSize: 16,
                                   shutdownGrace: .seconds(5), clock: ManualClock(), spool: spool, logger: logger)
        return Process(ingestor: ingestor, flush: flush)
    }

    /// Runs the feed with faults drawn from `seed` (none when `faulty` is false) and returns every stored document.
    func run(seed: UInt64, faulty: Bool) async throws -> [CollectionName: [Document]] {
        let directory = try TestServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = FaultInjectingStore(try SQLiteStore(path: directory.appendingPathComponent("ted.sqlite").path, logger: logger),
                                        refuses: Self.refuses)
        store.faults.withLock { $0.random = SeededRandom(seed: seed &* 31 &+ 7) }
        let spool = Spool(file: try await SpoolFile(path: directory.appendingPathComponent("spool.sqlite").path,
                                                    maxBytes: 64 << 20, logger: logger))
        // Request sizes come from their own generator, so both runs cut the feed the same way.
        var sizes = SeededRandom(seed: seed)
        var random = SeededRandom(seed: seed &+ 1000)
        var process = start(store, spool)
        var position = 0
        var chunk = 0
        while position < Self.feed.count {
            let size = Int.random(in: 1...12, using: &sizes)
            let events = Array(Self.feed[position..<min(position + size, Self.feed.count)])
            position += events.count
            chunk += 1
            // One clock reading per request, the same in every run, so `created_at`/`updated_at` compare.
            process.ingestor.ingest(events, now: Feed.start.addingTimeInterval(Double(chunk)))
            process.ingestor.expectBalanced("seed \(seed), after ingest \(chunk)")
            guard faulty else {
                if chunk % 5 == 0 { await process.flush.flushPending(deadline: nil) }
                continue
            }
            switch Step.allCases.randomElement(using: &random)! {
            case .flush:
                await process.flush.flushPending(deadline: nil)
            case .outage:
                store.faults.withLock { $0.retryableChance = Double.random(in: 0.3...1, using: &random) }
            case .collectionOutage:
                let collection = CollectionName.flushed.randomElement(using: &random)!
                store.faults.withLock { $0.failing = [collection] }
            case .heal:
                store.faults.withLock { $0.retryableChance = 0; $0.failing = [] }
            case .spill:
                await process.flush.spillToSpool()
            case .restart:
                // A graceful stop: what is pending moves to the spool; the next process replays it.
                await process.flush.spillToSpool()
                #expect(process.ingestor.counters.pending == 0)
                process = start(store, spool)
            }
            process.ingestor.expectBalanced("seed \(seed), after step \(chunk)")
        }
        store.faults.withLock { $0.retryableChance = 0; $0.failing = [] }
        for _ in 0..<50 where process.ingestor.counters.pending > 0 || !spool.file.isEmpty {
            await process.flush.flushPending(deadline: nil)
        }
        #expect(process.ingestor.counters.pending == 0)
        #expect(spool.file.isEmpty)
        process.ingestor.expectBalanced("seed \(seed), drained")
        var stored: [CollectionName: [Document]] = [:]
        for collection in CollectionName.flushed + [.deadLetters] {
            stored[collection] = try await store.documents.find(collection, where: .all, sort: DocumentSort("_id"), limit: nil)
                .map { document in Document(document.fields.filter { $0.key != "failed_at" && $0.key != "created_at" || collection != .deadLetters }) }
        }
        await store.close()
        await spool.file.close()
        return stored
    }

    /// A document without the fields a restart may lower (`ticks_seen` and the `completeness` derived from it).
    static func comparable(_ document: Document) -> Document {
        Document(document.fields.filter { $0.key != "ticks_seen" && $0.key != "completeness" })
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func anyInterleavingStoresWhatAFaultFreeRunStores(_ seed: UInt64) async throws {
        let expected = try await run(seed: seed, faulty: false)
        let actual = try await run(seed: seed, faulty: true)
        #expect(expected[.games]?.count == 3)
        #expect(expected[.deadLetters]?.count == 6)  // ticks 36, 73, 110 of m-1; 36, 73 of m-2; 36 of m-3
        for collection in CollectionName.flushed + [.deadLetters] {
            let want = expected[collection] ?? []
            let got = actual[collection] ?? []
            #expect(got.count == want.count, "seed \(seed): \(collection) count")
            for (a, b) in zip(got, want) where Self.comparable(a) != Self.comparable(b) {
                Issue.record("seed \(seed): \(collection) \(a["_id"]?.stringValue ?? "?") differs:\n got  \(a)\n want \(b)")
                break
            }
            // A restarted process counts only the ticks it saw itself: the merged count is a lower bound.
            for (a, b) in zip(got, want) where collection == .games {
                #expect((a["ticks_seen"]?.intValue ?? 0) <= (b["ticks_seen"]?.intValue ?? 0), "seed \(seed)")
            }
        }
    }
}
