#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Whether the threads that write to the store yield the CPU to the threads that answer requests.
///
/// A flush batch holds a core for milliseconds: a SQLite transaction of 1000 rows takes 2–4 ms here, and building
/// and sending 1000 BSON documents about as long. `perf sched` of `ted serve` at 2000 single events/s showed the
/// event loop woken by a request waiting 1–3 ms for the core the store's thread held, a few times a second: that
/// was the difference between p99 with persistence on and off (BENCHMARKS.md, "The store's threads yield").
/// `nice` does not help: the kernel's scheduler (EEVDF) lets a running thread finish its slice whatever its weight.
/// A thread under `SCHED_IDLE` is preempted as soon as a normal thread wakes on its core, and a core that runs only
/// such threads counts as idle when a woken thread looks for one.
///
/// `SCHED_IDLE` yields to every process on the machine, not only to ted's requests, so the flush turns it off while
/// the store is behind (a full batch still waiting after a round) and on again once it has caught up: on a host kept
/// busy by other programs the store competes as an equal as soon as it falls behind, instead of waiting for idle
/// time that may not come. Only the threads that run the flush's writes take part: with SQLite that is the store's
/// one connection, which also serves the report reads; with MongoDB the write clients, while the read clients keep
/// their priority (a request waits for them), and so does the spool's thread (in durable mode a request waits for
/// its append).
public final class StoreThreadPriority: Sendable {
    private let yields: Atomic<Bool>

    public init(yieldsToRequests: Bool) {
        yields = Atomic(yieldsToRequests)
    }

    public var yieldsToRequests: Bool { yields.load(ordering: .relaxed) }

    /// Takes effect on each store thread at the start of its next job.
    public func set(yieldsToRequests: Bool) {
        yields.store(yieldsToRequests, ordering: .relaxed)
    }

    /// Called first in every job of a store thread (the threads belong to a pool the store does not create itself).
    /// Costs one thread-local read unless the priority changed since the thread's last job.
    func applyToCurrentThread() {
        #if os(Linux)
        let wanted: Int32 = yieldsToRequests ? schedIdle : schedOther
        let applied = Int32(truncatingIfNeeded: Int(bitPattern: pthread_getspecific(appliedPolicyKey)) - 1)
        guard applied != wanted else { return }
        var parameters = sched_param(sched_priority: 0)
        // On failure (a seccomp filter, say) the thread keeps its priority: slower requests while flushing, nothing
        // worse. It is not tried again for this value.
        _ = sched_setscheduler(0, wanted, &parameters)
        pthread_setspecific(appliedPolicyKey, UnsafeRawPointer(bitPattern: Int(wanted) + 1))
        #endif
    }

    /// The calling thread's scheduling policy as the kernel reports it: 0 normal, 5 idle (for tests and diagnostics).
    static var currentPolicy: Int32 {
        #if os(Linux)
        return sched_getscheduler(0)
        #else
        return 0
        #endif
    }
}

#if os(Linux)
/// `SCHED_OTHER` and `SCHED_IDLE` of `<sched.h>` (Glibc's module declares the second only under `_GNU_SOURCE`).
private let schedOther: Int32 = 0
private let schedIdle: Int32 = 5

/// The policy last applied to a thread, plus one (a key reads as nil, 0, on a thread that never set it).
private let appliedPolicyKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()
#endif
