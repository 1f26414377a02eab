import NIOCore
import NIOPosix
import ServiceLifecycle

/// The thread that runs `serve`'s background services (the flush, the jobs, the watchers), so that their work never
/// holds an event loop that answers requests.
///
/// With Swift concurrency on the event loops (`EventLoopExecutor`), the flush ran on one of the two loops: taking a
/// batch of 1,000 records out of the pending queue, settling it and releasing its records held that loop for
/// hundreds of microseconds, and the requests that came in on it meanwhile waited behind them, whichever core was
/// free (`perf` showed the loops running for over 0.4 ms at a stretch 7 times a second with persistence on, 1.3 with
/// it off; BENCHMARKS.md, "A quiet machine"). On a thread of its own that work waits for a core like any thread, and
/// a request that arrives meanwhile is read by its loop on the other core or as soon as the kernel switches. Kept for
/// that, not for a measured gain: side by side, row 3's p99 did not move beyond this machine's noise (BENCHMARKS.md,
/// "The background services leave the event loops").
///
/// The store's own calls still run on the store's threads (`SQLiteConnection`, `MongoClientPool`); this thread runs
/// what the services do between them. It is named `ted-bg-…` (`ps -L`), and lives as long as the process, like NIO's
/// own event loops.
final class BackgroundThread: TaskExecutor {
    static let shared = BackgroundThread()

    private let loop: any EventLoop

    private init() {
        // Perpetual: one thread for the process's lifetime, never shut down (a static, so never deinitialised).
        loop = MultiThreadedEventLoopGroup._makePerpetualGroup(threadNamePrefix: "ted-bg-", numberOfThreads: 1).next()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// Whether the caller runs on this thread.
    var isCurrent: Bool { loop.inEventLoop }

    /// Runs `service` with this thread as the preferred executor of its tasks (child tasks included).
    func running(_ service: any Service) -> any Service {
        OnBackgroundThread(inner: service, thread: self)
    }
}

/// A service whose tasks run on the background thread. Described as the service it runs, so the service group's log
/// names the same services as before.
private struct OnBackgroundThread: Service, CustomStringConvertible {
    let inner: any Service
    let thread: BackgroundThread

    func run() async throws {
        try await withTaskExecutorPreference(thread) { try await inner.run() }
    }

    var description: String { String(describing: inner) }
}
