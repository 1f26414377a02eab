import Logging
import TEDCore

/// Opens the store the settings name.
public enum StoreFactory {
    /// `threadPriority`: the CPU priority of the threads that write (see `StoreThreadPriority`); nil for commands.
    public static func make(settings: Settings, logger: Logger,
                            threadPriority: StoreThreadPriority? = nil) throws(StoreError) -> any DocumentStore {
        switch settings.backend {
        case .mongodb:
            guard let url = settings.mongoURL else {
                throw StoreError(.configuration, "MONGO_URL is not set (PERSISTENCE_BACKEND=mongodb)")
            }
            return try MongoStore(url: url, database: settings.mongoDatabase, logger: logger, writeThreadPriority: threadPriority)
        case .sqlite:
            return try SQLiteStore(path: settings.sqlitePath, logger: logger, threadPriority: threadPriority)
        }
    }

    /// `make`, then a ping, so a command fails at once on a store that does not answer (closed again then).
    public static func open(settings: Settings, logger: Logger) async throws(StoreError) -> any DocumentStore {
        let store = try make(settings: settings, logger: logger)
        do {
            try await store.ping()
        } catch {
            await store.close()
            throw error
        }
        return store
    }
}
