import Foundation
import Logging
import TEDStore

/// The two stores a test runs against: the MongoDB-compatible test server (`./scripts/test`) and a new SQLite file.
enum TestStores {
    enum Backend: CaseIterable, Sendable { case mongodb, sqlite }

    static func make(_ backend: Backend, logger: Logger = Logger(label: "test")) throws -> any DocumentStore {
        switch backend {
        case .mongodb: try MongoStore(url: TestServer.mongoURL(), database: TestServer.uniqueDatabase(), logger: logger)
        case .sqlite: try SQLiteStore(path: TestServer.temporaryDirectory().appendingPathComponent("ted.sqlite").path, logger: logger)
        }
    }
}
