import Logging
import ServiceLifecycle
import UnixSignals

/// The service group of `serve`: the background services, each on the background thread (`BackgroundThread`), then
/// the HTTP server, which shutdown stops first.
///
/// When the HTTP server ends on its own (it could not bind its port, or it failed while serving), the group shuts
/// the other services down gracefully instead of cancelling them: the flush hands what is pending to the store or
/// the spool, and a job finishes the store call it is in. Cancelled, the jobs logged "failed: SQLite call cancelled
/// before it ran" beside the real error, and the flush could reach neither the store nor the spool with what it held.
enum ServeGroup {
    static func make(background: [any Service], server: any Service,
                     signals: [UnixSignal] = [.sigterm, .sigint], logger: Logger) -> ServiceGroup {
        ServiceGroup(configuration: .init(
            services: background.map { .init(service: BackgroundThread.shared.running($0)) }
                + [.init(service: server, successTerminationBehavior: .gracefullyShutdownGroup,
                         failureTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: signals,
            logger: logger))
    }
}
