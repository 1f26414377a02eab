/// Process-wide allocator settings, applied before the service starts its threads.
enum MemoryTuning {
    /// glibc gives each thread that meets a locked arena an arena of its own, up to 8 per core, and each keeps the
    /// memory freed into it. The ingest, flush and store threads hand records to each other, so freed memory ends up
    /// spread over arenas that are rarely reused. Capped at two, the peak RSS of `scripts/bench`'s million-event
    /// ingest with persistence on came down by a few MiB (73.1 and 76.0 MiB uncapped, 67.8 and 73.6 capped, same
    /// binary otherwise; BENCHMARKS.md row 4). `MALLOC_ARENA_MAX` in the environment, read by glibc at start, still
    /// wins: this applies only when it is not set.
    static func apply(environment: [String: String]) {
        #if os(Linux)
        guard environment["MALLOC_ARENA_MAX"] == nil else { return }
        _ = mallopt(mArenaMax, 2)
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
