import Foundation
import Logging
import Synchronization
import Testing
import TEDCore
@testable import TEDPersistence
@testable import TEDStore

/// Reports cannot starve the flush: slow reads hold only the store's read clients, and past the report gate's places a
/// report is refused at once.
@Suite(.serialized) struct ReadIsolationTests {
    let logger = Logger(label: "test")

    /// Six reads the server holds for eight seconds each, more than the store has clients of any kind; a flush started
    /// after them is written while they are all still held. The hold is the flush's margin: three seconds were too
    /// few for 20 ticks to reach SecantusDB while the whole suite and two builds shared the machine's two cores.
    @Test(.timeLimit(.minutes(1)))
    func slowReadsNeverHoldTheFlush() async throws {
        let server = try SecantusProcess(testCommands: true)
        try await server.start()
        let store = try MongoStore(url: server.url, database: "isolation", logger: logger)
        _ = try await store.write([.game(GameRecord(first: GameStateUpdate(gameID: "seed", tick: 0, price: 1, timestamp: Feed.start),
                                                    now: Feed.start))], to: .games)
        try await MongoFailPointTests.failCommand(store, mode: .document(["times": .int32(6)]), data: [
            "failCommands": .array(["find"]), "blockConnection": .bool(true), "blockTimeMS": .int32(8000),
        ])
        // A store of its own (its own clients) to ask the server what it is doing while the reads hold the others.
        let observer = try MongoStore(url: server.url, database: "admin", logger: logger)
        let readsDone = Shared(0)
        let flushedWhileReadsHeld = Shared(false)
        let ingestor = Ingestor.forTests(flag: .forTests(enabled: true))
        let flush = FlushScheduler(ingestor: ingestor, store: store, interval: .seconds(60), batchSize: 100,
                                   shutdownGrace: .seconds(5), clock: ManualClock(), logger: logger)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    _ = try? await store.documentPage(of: .games, matching: .all, afterID: nil, limit: 100)
                    readsDone.value.withLock { $0 += 1 }
                }
            }
            group.addTask {
                // Once the reads hold every read client of the store (the others wait for one), as the server's own
                // list of operations in progress says.
                do {
                    try await Self.waitUntilTheServerHolds(finds: Int(MongoStore.readClients), observer: observer)
                } catch {
                    Issue.record("cannot list the server's operations: \(error)")
                }
                // Ticks of a running game: the flush inserts and merges, and reads nothing back.
                ingestor.ingest((0..<20).map { .gameState(GameStateUpdate(gameID: "w", tick: $0, price: 1, timestamp: Feed.start)) })
                let ok = await flush.flushPending(deadline: nil)
                let held = readsDone.value.withLock { $0 == 0 }
                flushedWhileReadsHeld.value.withLock { $0 = ok && held }
            }
        }
        let flushedFirst = flushedWhileReadsHeld.value.withLock { $0 }
        #expect(flushedFirst, "the flush waited for the reads")
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 20)
        try await MongoFailPointTests.failCommand(store, mode: "off")
        await observer.close()
        await store.close()
        try await server.stop()
    }

    /// Returns once the server lists `count` `find` commands in progress (`currentOp`): each check is one round trip
    /// to the server, and the test's time limit bounds the wait.
    static func waitUntilTheServerHolds(finds count: Int, observer: MongoStore) async throws {
        while true {
            let reply = try await observer.runCommand(["currentOp": .int32(1)], context: "currentOp")
            let operations = reply?["inprog"]?.arrayValue ?? []
            if operations.filter({ $0.documentValue?["op"]?.stringValue == "find" }).count >= count { return }
        }
    }

    @Test func pastItsPlacesAReportIsRefusedAtOnce() async {
        let gate = ReportGate(limit: 1)
        let (held, release) = AsyncStream<Void>.makeStream()
        let (entered, signalEntered) = AsyncStream<Void>.makeStream()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                _ = await gate.run {
                    signalEntered.yield()
                    for await _ in held { break }
                    return 1
                }
            }
            for await _ in entered { break }
            #expect(await gate.run { 2 } == nil)
            release.yield()
            release.finish()
        }
        #expect(await gate.run { 3 } == 3)
    }
}

/// A value shared by the tasks of a test.
final class Shared<T: Sendable>: Sendable {
    let value: Mutex<T>
    init(_ initial: T) { value = Mutex(initial) }
}
