import Foundation
import Logging
import ServiceLifecycle
import Testing
import TEDCore
import TEDPersistence
import TEDStore

/// Where the MongoDB-compatible server of `./scripts/test` runs. Tests that need it fail without it.
enum TestServer {
    struct Missing: Error, CustomStringConvertible {
        let variable: String
        var description: String { "\(variable) is not set: run the tests with ./scripts/test" }
    }

    static func mongoURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["TED_TEST_MONGO_URL"], !url.isEmpty else {
            throw Missing(variable: "TED_TEST_MONGO_URL")
        }
        return url
    }

    static func uniqueDatabase() -> String { "ted_test_\(UInt32.random(in: 0...UInt32.max))" }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ted-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// A SecantusDB process of a test's own, so the test can stop and restart it (an outage).
final class SecantusProcess: @unchecked Sendable {
    let port: Int
    let storage: URL
    /// Accept `configureFailPoint` (fault injection as the drivers' conformance tests do it).
    let testCommands: Bool
    /// Advertise a single-node replica set (retryable writes, `w: majority`) instead of a standalone server.
    let replicaSet: Bool
    private var process: Process?
    /// Ends when the running process exits (its termination handler).
    private var exited: AsyncStream<Void>?

    init(testCommands: Bool = false, replicaSet: Bool = false) throws {
        port = try Self.freePort()
        storage = try TestServer.temporaryDirectory()
        self.testCommands = testCommands
        self.replicaSet = replicaSet
    }

    var url: String { "mongodb://127.0.0.1:\(port)" }

    /// Starts the server and returns once it says it listens (its log line) and answers a ping.
    func start() async throws {
        guard let binary = ProcessInfo.processInfo.environment["TED_SECANTUS_BIN"], !binary.isEmpty else {
            throw TestServer.Missing(variable: "TED_SECANTUS_BIN")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--host", "127.0.0.1", "--port", String(port), "--storage-path", storage.path]
            + (replicaSet ? [] : ["--standalone"]) + (testCommands ? ["--enable-test-commands"] : [])
        process.standardOutput = FileHandle.nullDevice
        let log = Pipe()
        process.standardError = log
        let (output, chunk) = AsyncStream<String>.makeStream()
        let (exited, exit) = AsyncStream<Void>.makeStream()
        // A thread of its own that blocks reading the pipe until the server exits, not `readabilityHandler`: that
        // registers a dispatch source per pipe, and libdispatch on Linux crashes in `_dispatch_event_loop_drain`
        // when many come and go at once (swift-corelibs-foundation#3276; it took a fresh-clone run of the suite
        // down here, with a dozen of these servers started by parallel tests).
        let reader = log.fileHandleForReading
        Thread.detachNewThread {
            while case let data = reader.availableData, !data.isEmpty {
                chunk.yield(String(decoding: data, as: UTF8.self))
            }
            chunk.finish()
        }
        process.terminationHandler = { _ in
            chunk.finish()
            exit.finish()
        }
        try process.run()
        self.process = process
        self.exited = exited
        var seen = ""
        for await text in output {
            seen += text
            if seen.contains("listening on 127.0.0.1:\(port)") { break }
        }
        // The server keeps logging: the reading thread goes on (so the pipe never fills and blocks the server), and
        // the finished stream drops what it yields.
        chunk.finish()
        let store = try MongoStore(url: url, database: "ping", logger: Logger(label: "test"))
        do {
            try await store.ping()
            await store.close()
        } catch {
            await store.close()
            throw TestServer.Missing(variable: "a SecantusDB that answers on port \(port) (it logged: \(seen))")
        }
    }

    /// SIGTERM, then SIGKILL if it is still running 10 s later; returns when it has exited (its termination handler,
    /// not `waitUntilExit`, which spins a CPU on Linux).
    func stop() async throws {
        guard let process, let exited else { return }
        let pid = process.processIdentifier
        process.terminate()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // The one bound on a process outside the test's control; cancelled as soon as it exits.
                guard (try? await Task.sleep(for: .seconds(10))) != nil else { return }
                kill(pid, SIGKILL)
            }
            for await _ in exited {}
            group.cancelAll()
        }
        self.process = nil
        self.exited = nil
    }

    deinit {
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: storage)
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A feed of one or more games, as a live relay would send it.
enum Feed {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// `ticks` game_state updates (the last one rugged), a prediction every 10 ticks and a side bet at tick 5.
    static func game(_ id: String, ticks: Int, rug: Bool = true, predictedEnd: Int = 50) -> [IngestEvent] {
        var events: [IngestEvent] = []
        for tick in 0..<ticks {
            let price = 1.0 + Double(tick % 17) / 10
            events.append(.gameState(GameStateUpdate(gameID: id, tick: tick, price: price, rugged: rug && tick == ticks - 1,
                                                     timestamp: start.addingTimeInterval(Double(tick) / 4))))
            if tick % 10 == 0 && tick < ticks - 1 {
                events.append(.prediction(Prediction(gameID: id, predictedAtTick: tick, predictedEndTick: predictedEnd,
                                                     confidence: 0.7, modelVersion: "m1", timestamp: start, createdAt: start)))
            }
            if tick == 5 {
                events.append(.sideBet(SideBet(gameID: id, placedAtTick: 5, probability: 0.3, expectedValue: 0.5, confidence: 0.6,
                                               recommendation: .bet, timestamp: start, createdAt: start)))
            }
        }
        return events
    }
}

extension PersistenceFlag {
    static func forTests(enabled: Bool) -> PersistenceFlag {
        PersistenceFlag(enabled: enabled, source: .default, backendName: "test", logger: Logger(label: "test"))
    }
}

extension Ingestor {
    static func forTests(flag: PersistenceFlag, pendingCapacity: Int = 100_000) -> Ingestor {
        Ingestor(rules: OutcomeRules(), sizes: BufferSizes(tickSamples: 100, finishedGames: 10, sideBets: 10),
                 pendingCapacity: pendingCapacity, flag: flag)
    }
}

extension Ingestor {
    /// The accounting identity, per collection: accepted + recovered + caught_up = stored + pending + spooled + rejected
    /// + dropped + superseded.
    func expectBalanced(_ context: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
        let counters = counters
        // The count read without the lock (ingest's room and admission checks) agrees with the queue's own.
        #expect(pendingCount == counters.pending, "\(context): pendingCount", sourceLocation: sourceLocation)
        for collection in CollectionName.flushed {
            #expect(counters.ledger.isBalanced(collection, pending: counters.pendingByCollection[collection] ?? 0),
                    "\(context) \(collection): \(counters.ledger.counts[collection] ?? [:])", sourceLocation: sourceLocation)
        }
    }
}

/// Runs `services` in a service group, as `ted serve` does, for the duration of `body`, then shuts them down
/// gracefully and waits until they have stopped.
func withRunning<T>(_ services: [any Service], _ body: () async throws -> T) async throws -> T {
    let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) }, logger: Logger(label: "test")))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        let result: Result<T, any Error>
        do {
            result = .success(try await body())
        } catch {
            result = .failure(error)
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return try result.get()
    }
}
