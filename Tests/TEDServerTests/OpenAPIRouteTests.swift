import Foundation
import Hummingbird
import Logging
import Prometheus
import Testing
import TEDCore
import TEDPersistence
@testable import TEDServer
import TEDStore

/// `openapi.yaml` documents exactly the routes the service registers: every registered method + path is in the
/// spec's `paths`, and every operation of the spec is registered.
@Suite struct OpenAPIRouteTests {
    struct Route: Hashable, Comparable, CustomStringConvertible {
        var method: String
        var path: String

        var description: String { "\(method.uppercased()) \(path)" }
        static func < (a: Route, b: Route) -> Bool { (a.path, a.method) < (b.path, b.method) }
    }

    static let specURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("openapi.yaml")

    static let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]

    /// The operations under `paths:` — a minimal reading of the YAML: `  /path:` lines (two spaces) and the
    /// `    method:` lines (four spaces) under them, up to the next top-level key.
    static func documentedRoutes(_ text: String) -> [Route] {
        var routes: [Route] = []
        var inPaths = false
        var currentPath: String?
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.hasSuffix("\r") ? String(rawLine.dropLast()) : String(rawLine)
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.trimmingCharacters(in: .whitespaces).hasPrefix("#") { continue }
            if !line.hasPrefix(" ") {
                inPaths = line.hasPrefix("paths:")
                currentPath = nil
                continue
            }
            guard inPaths else { continue }
            if line.hasPrefix("  "), !line.hasPrefix("   "), line.hasSuffix(":"),
               ["/", "'/", "\"/"].contains(where: { line.dropFirst(2).hasPrefix($0) }) {
                var path = String(line.dropFirst(2).dropLast())
                if path.count >= 2, let first = path.first, first == "'" || first == "\"", path.last == first {
                    path = String(path.dropFirst().dropLast())
                }
                currentPath = path
            } else if line.hasPrefix("  "), !line.hasPrefix("   ") {
                currentPath = nil  // another key at the level of the paths (an extension such as x-...)
            } else if let currentPath, line.hasPrefix("    "), !line.hasPrefix("     "), let colon = line.firstIndex(of: ":") {
                let key = line[line.index(line.startIndex, offsetBy: 4)..<colon].lowercased()
                if methods.contains(key) { routes.append(Route(method: key, path: currentPath)) }
            }
        }
        return routes
    }

    /// The routes of `TEDApplication.router` with every optional part on: a metrics registry (`/metrics`) and a
    /// jobs status (`/api/persistence/jobs`).
    static func registeredRoutes() throws -> Set<Route> {
        var settings = Settings()
        settings.adminToken = "admin"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ted-openapi-\(UUID().uuidString)")
        settings.sqlitePath = directory.appendingPathComponent("ted.sqlite").path
        let store = try SQLiteStore(path: settings.sqlitePath, logger: Logger(label: "test"))
        let flag = PersistenceFlag(enabled: false, source: .default, backendName: "SQLite", logger: Logger(label: "test"))
        let runtime = PersistenceRuntime(settings: settings, flag: flag, ingestor: Ingestor(settings: settings, flag: flag),
                                         store: store, statistics: FlushStatistics())
        let router = TEDApplication.router(runtime: runtime, registry: PrometheusCollectorRegistry(), version: "test",
                                           jobs: JobsStatus(instanceID: "test"))
        return Set(router.routes.map { Route(method: $0.method.rawValue.lowercased(), path: $0.path.description) })
    }

    static func spec() throws -> String {
        try String(contentsOf: specURL, encoding: .utf8)
    }

    @Test func theSpecReaderFindsPathsAndMethods() throws {
        let sample = """
            openapi: 3.1.0
            paths:
              /a:
                get:
                  responses: {}
                post:
                  summary: x
              '/b/{id}':
                parameters: []
                delete:
                  responses: {}
              x-note: ignored
            components:
              schemas:
                Foo:
                  get: not a route
            """
        #expect(Self.documentedRoutes(sample) == [
            Route(method: "get", path: "/a"), Route(method: "post", path: "/a"), Route(method: "delete", path: "/b/{id}"),
        ])
        let documented = Self.documentedRoutes(try Self.spec())
        #expect(documented.count >= 15)
        #expect(Set(documented).count == documented.count, "an operation is listed twice")
    }

    @Test func everyRegisteredRouteIsDocumented() throws {
        let documented = Set(Self.documentedRoutes(try Self.spec()))
        let registered = try Self.registeredRoutes()
        let missing = registered.subtracting(documented).sorted()
        #expect(missing.isEmpty, "registered but not in openapi.yaml: \(missing)")
    }

    @Test func everyDocumentedRouteIsRegistered() throws {
        let documented = Set(Self.documentedRoutes(try Self.spec()))
        let registered = try Self.registeredRoutes()
        let extra = documented.subtracting(registered).sorted()
        #expect(extra.isEmpty, "in openapi.yaml but not registered: \(extra)")
    }
}
