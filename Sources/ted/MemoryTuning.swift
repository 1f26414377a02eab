/// Process-wide allocator settings, applied before the service starts its threads.
enum MemoryTuning {
    /// glibc gives each thread that meets a locked arena an arena of its own, up to 8 per core, and each keeps the
    /// memory freed into it. The ingest, flush and store threads hand records to each other, so freed memory ends up
    /// spread over arenas that are rarely reused: with persistence on, nearly all of the peak RSS above the "off"
    /// run was a second arena (smaps and heaptrack, BENCHMARKS.md row 4). One arena kept `scripts/bench`'s
    /// million-event ingest under 64 MiB (62.7 and 59.4 MiB with `MALLOC_ARENA_MAX=1`, 64.1–67.0 with two) without
    /// a measurable loss of ingest throughput on this 2-core machine. It must be set before any thread but the main
    /// one allocates (see `TED.main`). `MALLOC_ARENA_MAX` in the environment, read by glibc at start, still wins:
    /// this applies only when it is not set.
    static func apply(environment: [String: String]) {
        #if os(Linux)
        guard environment["MALLOC_ARENA_MAX"] == nil else { return }
        _ = mallopt(mArenaMax, 1)
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
