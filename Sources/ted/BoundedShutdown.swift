import ServiceLifecycle

/// Runs a service and, once graceful shutdown begins, gives it `grace` to finish before cancelling it. The HTTP
/// server waits for open requests when it shuts down; one client stalled mid-body must not hold the final flush
/// (which runs after the server stopped) past the grace period.
struct BoundedShutdown<Inner: Service>: Service {
    let inner: Inner
    let grace: Duration

    func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await inner.run() }
            group.addTask {
                do {
                    try await gracefulShutdown()
                    try await Task.sleep(for: grace)
                } catch {
                    return  // the inner service finished first
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }
}
