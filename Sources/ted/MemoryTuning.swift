/// Process-wide allocator settings, applied before the service starts its threads.
enum MemoryTuning {
    /// glibc gives each thread that meets a locked arena an arena of its own, up to 8 per core, and each keeps the
    /// memory freed into it. The ingest, flush and store threads hand records to each other, so freed memory ends up
    /// spread over arenas that are rarely reused: with persistence on, nearly all of the peak RSS above the "off"
    /// run was a second arena (smaps and heaptrack, BENCHMARKS.md row 4). A small fixed number of arenas bounds that.
    /// One arena kept `scripts/bench`'s million-event ingest at 57 MiB but made every allocation of every thread take
    /// the same lock, the event loops' and the store's write threads' alike: the write threads run under `SCHED_IDLE`
    /// (`StoreThreadPriority`) and libmongoc builds a bulk write from many small allocations, so a write thread
    /// preempted while holding that lock could leave an event loop waiting until an idle-class thread got a core
    /// again. Four, side by side with one while flushing to MongoDB: p99 0.92 against 1.09 ms, and 1.88 against 3.22
    /// ms in a noisier run (four better in 11 of 16 rounds); row 4 60.2 MiB (BENCHMARKS.md, "Row 3: where "on"
    /// waits"). It must be set before any thread but the main one allocates (see `TED.main`). `MALLOC_ARENA_MAX` in
    /// the environment, read by glibc at start, still wins: this applies only when it is not set.
    static let arenas: Int32 = 4

    static func apply(environment: [String: String]) {
        #if os(Linux)
        guard environment["MALLOC_ARENA_MAX"] == nil else { return }
        _ = mallopt(mArenaMax, arenas)
        #endif
    }

    #if os(Linux)
    /// `M_ARENA_MAX` of glibc's `<malloc.h>`, which the Glibc module does not export.
    private static let mArenaMax: Int32 = -8
    #endif
}

#if os(Linux)
/// glibc's `int mallopt(int param, int value)`, declared here because the Glibc module leaves `<malloc.h>` out.
@_silgen_name("mallopt")
private func mallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
