import NIOPosix

/// A task executor with one thread of its own, at the priority of the store's writing threads (`StoreThreadPriority`):
/// the flush runs its own work there, not on the event loops that answer requests.
///
/// `ted serve` runs Swift concurrency on NIO's event loops (`EventLoopExecutor`), so without this the flush ran on a
/// request event loop. `perf` of `ted serve` at 2000 single events/s flushing to SQLite found it there about three
/// times a second, for 0.25–0.9 ms each (taking a batch out of memory, settling it, freeing its records), and every
/// request that event loop had read waited behind it. On this thread, under `SCHED_IDLE` while the flush keeps up, a
/// woken event loop takes the core at once.
public final class YieldingTaskExecutor: TaskExecutor, Sendable {
    /// One thread: the flush is one task, and its jobs follow each other.
    private let thread: NIOThreadPool
    private let priority: StoreThreadPriority

    public init(priority: StoreThreadPriority) {
        self.priority = priority
        thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
    }

    deinit {
        thread.shutdownGracefully { _ in }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        // A job must run whatever the pool's state: a task waiting on it would never resume. The pool stops only in
        // `deinit`, when no task prefers this executor any more.
        thread.submit { [priority] _ in
            priority.applyToCurrentThread()
            job.runSynchronously(on: executor)
        }
    }
}
