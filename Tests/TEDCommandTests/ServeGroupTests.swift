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

    /// Says, at each step, whether it ran on the background thread: at its start, after a suspension, in a child task,
    /// and after the shutdown that woke it.
    final class ThreadRecordingService: Service {
        let onThread = Mutex<[String: Bool]>([:])

        func run() async throws {
            record("start")
            await Task.yield()
            record("after a suspension")
            await withTaskGroup(of: Void.self) { group in group.addTask { self.record("child task") } }
            try? await gracefulShutdown()
            record("after shutdown began")
        }

        private func record(_ step: String) {
            let current = BackgroundThread.shared.isCurrent
            onThread.withLock { $0[step] = current }
        }
    }

    @Test func backgroundServicesRunOnTheBackgroundThreadNotOnTheCallers() async throws {
        let background = ThreadRecordingService()
        #expect(!BackgroundThread.shared.isCurrent)
        let group = ServeGroup.make(background: [background], server: StoppingServer(), signals: [],
                                    logger: Logger(label: "test"))
        try await group.run()
        #expect(background.onThread.withLock { $0 } == [
            "start": true, "after a suspension": true, "child task": true, "after shutdown began": true,
        ])
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
