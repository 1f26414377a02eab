import Logging
import ServiceLifecycle
import Synchronization
import Testing
@testable import ted

/// When `serve`'s HTTP server ends on its own, the background services get a graceful shutdown (the flush drains,
/// a job finishes its store call), not a cancellation.
@Suite struct ServeGroupTests {
    struct ServerFailure: Error {}

    struct FailingServer: Service {
        func run() async throws { throw ServerFailure() }
    }

    struct StoppingServer: Service {
        func run() async throws {}
    }

    /// Waits for the group's graceful shutdown and says whether it came, or a cancellation came instead.
    final class BackgroundService: Service {
        let outcome = Mutex<String?>(nil)

        func run() async throws {
            do {
                try await gracefulShutdown()
                outcome.withLock { $0 = "graceful shutdown" }
            } catch {
                outcome.withLock { $0 = "cancelled" }
            }
        }
    }

    @Test func aServerThatFailsShutsTheOthersDownGracefully() async throws {
        let background = BackgroundService()
        let group = ServeGroup.make(background: [background], server: FailingServer(), signals: [], logger: Logger(label: "test"))
        await #expect(throws: ServerFailure.self) { try await group.run() }
        #expect(background.outcome.withLock { $0 } == "graceful shutdown")
    }

    @Test func aServerThatStopsShutsTheOthersDownGracefully() async throws {
        let background = BackgroundService()
        let group = ServeGroup.make(background: [background], server: StoppingServer(), signals: [], logger: Logger(label: "test"))
        try await group.run()
        #expect(background.outcome.withLock { $0 } == "graceful shutdown")
    }
}
