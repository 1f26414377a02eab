import Foundation
import Logging
@testable import TEDStore

/// A fresh real store of each backend for the port tests (`Ports/`): a database of its own on the test server, or a
/// new SQLite file.
enum PortStores {
    enum Backend: CaseIterable, Sendable { case mongodb, sqlite }

    static func make(_ backend: Backend) throws -> any DocumentStore {
        let logger = Logger(label: "test")
        return switch backend {
        case .mongodb: try MongoStore(url: TestEnvironment.mongoURL(), database: TestEnvironment.uniqueDatabaseName(), logger: logger)
        case .sqlite: try SQLiteStore(path: TestEnvironment.temporaryDirectory().appendingPathComponent("ted.sqlite").path, logger: logger)
        }
    }
}
