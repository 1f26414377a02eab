import NIOCore
import NIOPosix
import Synchronization

/// `ted serve` runs Swift concurrency's jobs on NIO's event loops instead of the cooperative thread pool.
///
/// Without it every request crossed threads twice: the event loop that read it woke a pool thread to run the
/// handler, which woke the loop again to write the answer. Each wake-up is a chance to wait for a core, and on a
/// small machine the core is often taken by the flush or a colocated database. With the jobs on the loops, a request
/// is read, handled and answered on one thread. Measured with `scripts/bench` (BENCHMARKS.md, "NIO's event loops as
/// the executor"): ted's CPU at 2000 single events/s fell by a fifth, p50 and p99 with persistence off and on fell,
/// and NDJSON ingest rose by 10 %.
///
/// What it asks of the code: a job must not block, because a blocked job now holds an event loop and the requests
/// queued on it. Every blocking call of `serve` already runs on a thread of its own (`SQLiteConnection`, the spool's
/// connection, `MongoClientPool`'s threads); the commands that write files (backup, export) run without a server
/// and keep the default executor.
enum EventLoopExecutor {
    /// Installs the hook: once, from the main thread, before the service starts any task.
    static func install() {
        installed.store(NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor(),
                        ordering: .relaxed)
    }

    /// False when the toolchain did not let NIO install the hook: the service then runs on the cooperative pool,
    /// correctly but slower, and `serve` says so in its log.
    static var isInstalled: Bool { installed.load(ordering: .relaxed) }

    private static let installed = Atomic(false)
}
