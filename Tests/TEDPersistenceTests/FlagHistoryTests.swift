import Foundation
import Logging
import ServiceLifecycle
import Testing
import TEDCore
@testable import TEDPersistence
@testable import TEDStore
import TEDTestSupport

/// The flag history on both stores: every source, the token's fingerprint (never the token), the local file while
/// the store is down or the flag is off, and a sync that never duplicates.
@Suite struct FlagHistoryTests {
    let logger = Logger(label: "test")

    typealias Backend = BothStores

    func makeStore(_ backend: Backend) throws -> any DocumentStore { try backend.makeStore() }

    static let token = "admin-secret-0123456789"

    @Test(arguments: Backend.allCases)
    func everySourceIsRecordedAndOnlyTheAPIsWithTheTokensFingerprint(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        let directory = try TestServer.temporaryDirectory()
        let journal = directory.appendingPathComponent("flag_history.jsonl").path
        let envFile = directory.appendingPathComponent(".env").path
        let flag = PersistenceFlag.forTests(enabled: false)
        let history = try FlagHistory(flag: flag, store: store, journalPath: journal, logger: logger)
        func watcher(environment: [String: String]) -> ConfigWatcher {
            ConfigWatcher(path: envFile, environment: environment, flag: flag, clock: ManualClock(), listenForSIGHUP: false, logger: logger)
        }
        let fingerprint = FlagChange.fingerprint(ofToken: Self.token)

        try "PERSISTENCE_ENABLED=true\n".write(toFile: envFile, atomically: true, encoding: .utf8)
        #expect(watcher(environment: [:]).reload(reason: "file changed"))
        #expect(flag.set(false, source: .api, tokenFingerprint: fingerprint))
        #expect(watcher(environment: [:]).reload(reason: "SIGHUP", trigger: .sighup))
        #expect(flag.snapshot.source == .sighup)
        try "PORT=8000\n".write(toFile: envFile, atomically: true, encoding: .utf8)
        #expect(watcher(environment: ["PERSISTENCE_ENABLED": "false"]).reload(reason: "file changed"))
        // A re-read that changes nothing is no change, SIGHUP or not.
        #expect(!watcher(environment: ["PERSISTENCE_ENABLED": "false"]).reload(reason: "SIGHUP", trigger: .sighup))

        // Off: the changes wait in the local file; nothing is written to the store, yet they are served.
        #expect(try await history.sync() == 0)
        #expect(try await store.documentCount(of: .flagHistory, matching: .all) == 0)
        let waiting = try await history.list(limit: 100)
        #expect(waiting.unsynced == 4)
        #expect(waiting.changes.map(\.source) == [.environment, .sighup, .api, .envFile])

        #expect(flag.set(true, source: .api, tokenFingerprint: fingerprint))
        #expect(try await history.sync() == 5)
        #expect(try await store.documentCount(of: .flagHistory, matching: .all) == 5)
        let page = try await history.list(limit: 100)
        #expect(page.unsynced == 0)
        #expect(page.changes.map(\.source) == [.api, .environment, .sighup, .api, .envFile])
        #expect(page.changes.map(\.to) == [true, false, true, false, true])
        #expect(page.changes.map(\.from) == [false, true, false, true, false])
        #expect(page.changes.map(\.tokenFingerprint) == [fingerprint, nil, nil, fingerprint, nil])
        #expect(page.changes.allSatisfy { $0.host == FlagChange.localHost })
        #expect(zip(page.changes, page.changes.dropFirst()).allSatisfy { $0.at > $1.at }, "newest first")
        #expect(try await history.list(limit: 2).changes == Array(page.changes.prefix(2)))

        // sha256:<first 16 hex>, never the token, neither in the store nor in the file.
        #expect(fingerprint == "sha256:" + SHA256.hex(Array(Self.token.utf8)).prefix(16))
        #expect(fingerprint.count == "sha256:".count + 16)
        for document in try await store.documents.find(.flagHistory, where: .all, sort: nil, limit: nil) {
            #expect(!"\(document)".contains(Self.token))
        }
        let file = try String(contentsOfFile: journal, encoding: .utf8)
        #expect(!file.contains(Self.token))
        #expect(file.contains(fingerprint))
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func changesMadeWhileTheStoreIsDownWaitInTheFileAndSyncOnceWithoutDuplicates(_ backend: Backend) async throws {
        let directory = try TestServer.temporaryDirectory()
        let journal = directory.appendingPathComponent("flag_history.jsonl").path
        let sqlitePath = directory.appendingPathComponent("ted.sqlite").path
        let server = try SecantusProcess()
        if backend == .mongodb { try await server.start() }
        let database = TestServer.uniqueDatabase()
        func open() throws -> any DocumentStore {
            switch backend {
            case .mongodb: try MongoStore(url: server.url, database: database, logger: logger)
            case .sqlite: try SQLiteStore(path: sqlitePath, logger: logger)
            }
        }

        // The store goes away (the server stops; the SQLite file is closed), the flag is on and changes twice.
        let first = try open()
        let flag = PersistenceFlag.forTests(enabled: true)
        let history = try FlagHistory(flag: flag, store: first, journalPath: journal, logger: logger)
        switch backend {
        case .mongodb: try await server.stop()
        case .sqlite: await first.close()
        }
        flag.set(false, source: .api, tokenFingerprint: FlagChange.fingerprint(ofToken: Self.token))
        flag.set(true, source: .envFile)
        await #expect(throws: StoreError.self) { try await history.sync() }
        #expect(history.unsyncedCount == 2)
        let beforeSync = try Data(contentsOf: URL(fileURLWithPath: journal))

        // The store is back; a restart reads the file and syncs what it holds.
        if backend == .mongodb { try await server.start() }
        let store = try open()
        let restarted = try FlagHistory(flag: .forTests(enabled: true), store: store, journalPath: journal, logger: logger)
        #expect(restarted.unsyncedCount == 2)
        #expect(try await restarted.sync() == 2)
        #expect(try await restarted.sync() == 0)
        #expect(restarted.unsyncedCount == 0)
        #expect(try await store.documentCount(of: .flagHistory, matching: .all) == 2)
        let page = try await restarted.list(limit: 10)
        #expect(page.changes.map(\.to) == [true, false])
        #expect(page.changes.map(\.source) == [.envFile, .api])
        #expect(page.unsynced == 0)

        // The marks lost (the file as it was before the sync): synced again, found already stored, no duplicate.
        let copy = directory.appendingPathComponent("copy.jsonl").path
        try beforeSync.write(to: URL(fileURLWithPath: copy))
        let again = try FlagHistory(flag: .forTests(enabled: true), store: store, journalPath: copy, logger: logger)
        #expect(try await again.sync() == 2)
        #expect(try await store.documentCount(of: .flagHistory, matching: .all) == 2)
        #expect(try await again.list(limit: 10).changes == page.changes)
        await store.close()
        if backend == .mongodb { try await server.stop() }
    }

    @Test func aTornLastLineIsSkippedAndTheNextChangeStartsOnItsOwnLine() async throws {
        let journal = try TestServer.temporaryDirectory().appendingPathComponent("flag_history.jsonl").path
        let flag = PersistenceFlag.forTests(enabled: false)
        let history = try FlagHistory(flag: flag, store: nil, journalPath: journal, logger: logger)
        withExtendedLifetime(history) { _ = flag.set(true, source: .api) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: journal))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"change": {"at_ms": 17"#.utf8))  // a crash mid-write
        try handle.close()

        let restarted = try FlagHistory(flag: flag, store: nil, journalPath: journal, logger: logger)
        #expect(restarted.journal.unreadableLines == 1)
        withExtendedLifetime(restarted) { _ = flag.set(false, source: .api) }
        let reread = try FlagHistory(flag: .forTests(enabled: false), store: nil, journalPath: journal, logger: logger)
        #expect(reread.journal.unreadableLines == 1)
        let page = try await reread.list(limit: 10)
        #expect(page.changes.map(\.to) == [false, true])
        #expect(page.unsynced == 2)
    }

    @Test(.timeLimit(.minutes(1)))
    func theSyncServiceWritesWhenTheFlagTurnsOnAndStopsOnShutdown() async throws {
        let store = try makeStore(.sqlite)
        let flag = PersistenceFlag.forTests(enabled: false)
        let history = FlagHistory(inMemoryFor: flag, store: store, logger: logger)
        // Two changes before the service starts, the flag off after them: they wait for the flag to turn on.
        flag.set(true, source: .api)
        flag.set(false, source: .api)
        let recorder = LogRecorder()
        let sync = FlagHistorySync(history: history, retryInterval: .seconds(5), clock: ManualClock(), logger: recorder.logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: sync)], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(history.unsyncedCount == 2)
            // The change itself wakes the service: no clock moves.
            flag.set(true, source: .environment)
            await recorder.waitFor("Flag history synced to the store")
            #expect(history.unsyncedCount == 0)
            #expect(try await store.documentCount(of: .flagHistory, matching: .all) == 3)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        await store.close()
    }

    /// A sync the store refuses is retried after `retryInterval` on the service's clock, not before.
    @Test(.timeLimit(.minutes(1)))
    func theSyncServiceRetriesOnItsClockWhileTheStoreIsDown() async throws {
        let server = try SecantusProcess()  // not started yet: the store is down
        // A quick heartbeat and a patient server selection: the retry finds the server once it is started.
        let store = try MongoStore(url: server.url + "/?heartbeatFrequencyMS=500&serverSelectionTimeoutMS=3000",
                                   database: TestServer.uniqueDatabase(), logger: logger)
        let flag = PersistenceFlag.forTests(enabled: true)
        let history = FlagHistory(inMemoryFor: flag, store: store, logger: logger)
        flag.set(false, source: .api)
        flag.set(true, source: .api)
        let clock = ManualClock()
        let recorder = LogRecorder()
        let sync = FlagHistorySync(history: history, retryInterval: .seconds(5), clock: clock, logger: recorder.logger)
        try await withRunning([sync]) {
            try await clock.waitForSleepers()  // the first sync failed: the retry waits on the clock
            #expect(history.unsyncedCount == 2)
            try await server.start()
            try await clock.step(by: .seconds(4))
            #expect(history.unsyncedCount == 2, "retried before the interval ended")
            clock.advance(by: .seconds(1))
            await recorder.waitFor("Flag history synced to the store")
            #expect(history.unsyncedCount == 0)
            #expect(try await store.documentCount(of: .flagHistory, matching: .all) == 2)
        }
        await store.close()
        try await server.stop()
    }
}
