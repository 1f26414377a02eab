import Foundation
import Testing

/// The MongoDB-compatible server `./scripts/test` starts. Tests that need it fail (never skip) without it.
enum TestEnvironment {
    static func mongoURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["TED_TEST_MONGO_URL"], !url.isEmpty else {
            throw MissingServer()
        }
        return url
    }

    /// A database name no other test uses, so tests can run in parallel against one server.
    static func uniqueDatabaseName(_ prefix: String = "ted_test") -> String {
        "\(prefix)_\(UInt32.random(in: 0...UInt32.max))_\(ProcessInfo.processInfo.processIdentifier)"
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ted-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    struct MissingServer: Error, CustomStringConvertible {
        var description: String {
            "TED_TEST_MONGO_URL is not set: run the tests with ./scripts/test, which starts a MongoDB-compatible server"
        }
    }
}
