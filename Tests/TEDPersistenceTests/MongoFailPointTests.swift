import Foundation
import Logging
import Testing
import TEDCore
@testable import TEDPersistence
@testable import TEDStore

/// Faults injected into the real MongoDB-compatible server with `configureFailPoint`/`failCommand`, the way the drivers'
/// conformance tests inject them: dropped connections, retryable error codes, a validator that refuses one record.
/// Every record must end up stored exactly once, or (refused) in the dead-letter, with the accounting balanced.
@Suite(.serialized) struct MongoFailPointTests {
    let logger = Logger(label: "test")

    /// Sets `failCommand` on the server: `mode` is `{times: n}` or `"off"`.
    static func failCommand(_ store: MongoStore, mode: DocumentValue, data: Document = [:]) async throws {
        var command: Document = ["configureFailPoint": "failCommand", "mode": mode]
        if !data.isEmpty { command.append("data", .document(data)) }
        _ = try await store.runCommand(command, context: "configureFailPoint")
    }

    static func feed() -> [IngestEvent] {
        Feed.game("fp-1", ticks: 60, predictedEnd: 70) + Feed.game("fp-2", ticks: 45, predictedEnd: 30)
    }

    /// Flushes until nothing is pending (each failed round is retried, as the interval loop would).
    func drain(_ flush: FlushScheduler, _ ingestor: Ingestor) async {
        for _ in 0..<30 where ingestor.counters.pending > 0 {
            await flush.flushPending(deadline: nil)
        }
    }

    func expectEverythingStoredOnce(_ store: MongoStore, _ ingestor: Ingestor) async throws {
        #expect(ingestor.counters.pending == 0)
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 105)
        #expect(try await store.documentCount(of: .games, matching: .all) == 2)
        #expect(try await store.documentCount(of: .predictions, matching: .all) == 11)
        #expect(try await store.documents.count(.predictions, where: .equals("resolved", .bool(true))) == 11)
        #expect(try await store.documentCount(of: .sideBets, matching: .all) == 2)
        ingestor.expectBalanced()
        for collection in CollectionName.flushed {
            #expect(ingestor.counters.ledger.value(.rejected, collection) == 0)
        }
    }

    func run(_ mode: DocumentValue, _ data: Document, replicaSet: Bool = false) async throws {
        let server = try SecantusProcess(testCommands: true, replicaSet: replicaSet)
        try await server.start()
        // A quick heartbeat: after a "not primary" error the driver rediscovers the server in half a second, not ten.
        let url = server.url + "/?heartbeatFrequencyMS=500" + (replicaSet ? "&replicaSet=secantus" : "")
        let store = try MongoStore(url: url, database: "failpoints", logger: logger)
        let ingestor = Ingestor.forTests(flag: .forTests(enabled: true))
        let flush = FlushScheduler(ingestor: ingestor, store: store, interval: .milliseconds(100), batchSize: 20,
                                   shutdownGrace: .seconds(5), clock: ManualClock(), logger: logger)
        try await Self.failCommand(store, mode: mode, data: data)
        ingestor.ingest(Self.feed())
        await drain(flush, ingestor)
        try await Self.failCommand(store, mode: "off")
        try await expectEverythingStoredOnce(store, ingestor)
        await store.close()
        try await server.stop()
    }

    @Test func droppedConnectionsLoseNothingAndDuplicateNothing() async throws {
        try await run(.document(["times": .int32(5)]), ["failCommands": .array(["insert", "update"]), "closeConnection": .bool(true)])
    }

    /// ShutdownInProgress and NotWritablePrimary (the driver also marks the server unknown and selects it again).
    @Test(arguments: [91, 10107] as [Int32])
    func retryableErrorCodesAreRetried(_ code: Int32) async throws {
        try await run(.document(["times": .int32(3)]), ["failCommands": .array(["insert", "update"]), "errorCode": .int32(code)])
    }

    @Test func theReplicaSetTopologyStoresEverythingOnceThroughDroppedConnections() async throws {
        try await run(.document(["times": .int32(3)]), ["failCommands": .array(["insert", "update"]), "closeConnection": .bool(true)],
                      replicaSet: true)
    }

    /// A validator left on the database refuses one prediction for good (code 121): it alone goes to the dead-letter.
    @Test func aValidatorRefusesOneRecordAndNothingWaitsBehindIt() async throws {
        let store = try MongoStore(url: TestServer.mongoURL(), database: TestServer.uniqueDatabase(), logger: logger)
        try await store.schema.createCollection(.predictions, validator: ["confidence": .document(["$lte": .double(0.9)])])
        let ingestor = Ingestor.forTests(flag: .forTests(enabled: true))
        let flush = FlushScheduler(ingestor: ingestor, store: store, interval: .milliseconds(100), batchSize: 20,
                                   shutdownGrace: .seconds(5), clock: ManualClock(), logger: logger)
        var events = Self.feed()
        events.append(.prediction(Prediction(gameID: "fp-2", predictedAtTick: 44, predictedEndTick: 90, confidence: 0.95,
                                             timestamp: Feed.start, createdAt: Feed.start)))
        ingestor.ingest(events)
        #expect(await flush.flushPending(deadline: nil))
        #expect(ingestor.counters.pending == 0)
        #expect(ingestor.counters.ledger.value(.rejected, .predictions) == 1)
        #expect(try await store.documentCount(of: .predictions, matching: .all) == 11)
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 105)
        let letters = try await DeadLetters(store: store).list(limit: 10)
        #expect(letters.map(\.recordID) == ["fp-2:44:unknown"])
        #expect(letters.first?.errorCode == 121)
        ingestor.expectBalanced()
        await store.close()
    }
}
