import Logging
import TEDCore

/// Opens the store the settings name.
public enum StoreFactory {
    public static func make(settings: Settings, logger: Logger) throws(StoreError) -> any DocumentStore {
        switch settings.backend {
        case .mongodb:
            guard let url = settings.mongoURL else {
                throw StoreError(.configuration, "MONGO_URL is not set (PERSISTENCE_BACKEND=mongodb)")
            }
            return try MongoStore(url: url, database: settings.mongoDatabase, logger: logger)
        case .sqlite:
            return try SQLiteStore(path: settings.sqlitePath, logger: logger)
        }
    }
}
