import Logging
import TEDStore
import Testing

/// The two stores a test runs on (`@Test(arguments: BothStores.allCases)`), each a fresh, empty database.
enum BothStores: String, CaseIterable, CustomTestStringConvertible {
    case sqlite, mongodb

    var testDescription: String { rawValue }

    func makeStore() throws -> any DocumentStore {
        let logger = Logger(label: "test.\(rawValue)")
        switch self {
        case .mongodb: return try MongoStore(url: TestServer.mongoURL(), database: TestServer.uniqueDatabase(), logger: logger)
        case .sqlite:
            return try SQLiteStore(path: TestServer.temporaryDirectory().appendingPathComponent("ted.sqlite").path, logger: logger)
        }
    }
}
