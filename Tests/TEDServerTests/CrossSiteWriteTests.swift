import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TEDCore
@testable import TEDServer

/// Ingest refuses what a page of another site can send through a browser: a body not declared as JSON/NDJSON
/// (a form or `text/plain` post needs no preflight) and any `Origin` not listed in `CORS_ORIGINS`.
@Suite struct CrossSiteWriteTests {
    static let gameState = HTTPTests.gameState

    @Test(arguments: [nil, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "",
                      "application/jsonx", "text/json"])
    func aBodyNotDeclaredAsJSONIsA415(contentType: String?) async throws {
        let f = try HTTPTests.fixture()
        let headers: HTTPFields = contentType.map { [.contentType: $0] } ?? [:]
        try await f.app.test(.router) { client in
            for uri in ["/api/ingest", "/api/game-state"] {
                try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: Self.gameState)) { response in
                    #expect(response.status == .unsupportedMediaType, "\(uri) \(contentType ?? "none")")
                    let reply = try HTTPTests.json(response)
                    #expect(reply["field"] == .string("content-type"))
                }
            }
        }
        #expect(f.runtime.ingestor.counters.acceptedEvents.isEmpty)
    }

    @Test(arguments: ["application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8",
                      "application/x-ndjson", "application/x-ndjson; charset=utf-8"])
    func jsonAndNDJSONWithParametersAreTaken(contentType: String) async throws {
        let f = try HTTPTests.fixture()
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/api/ingest", method: .post, headers: [.contentType: contentType],
                                     body: ByteBuffer(string: Self.gameState + "\n")) { response in
                #expect(response.status == .accepted, "\(contentType)")
            }
        }
    }

    @Test func anOriginNotListedIsA403() async throws {
        let closed = try HTTPTests.fixture()
        try await closed.app.test(.router) { client in
            try await client.execute(uri: "/api/ingest", method: .post,
                                     headers: [.contentType: "application/json", .origin: "https://evil.example"],
                                     body: ByteBuffer(string: Self.gameState)) { response in
                #expect(response.status == .forbidden)
                let reply = try HTTPTests.json(response)
                #expect(reply["field"] == .string("origin"))
            }
            // No Origin: not a browser writing cross-site.
            try await client.execute(uri: "/api/ingest", method: .post, headers: HTTPTests.jsonType,
                                     body: ByteBuffer(string: Self.gameState)) { response in
                #expect(response.status == .accepted)
            }
        }
        let listed = try HTTPTests.fixture(corsOrigins: ["https://dash.example"])
        try await listed.app.test(.router) { client in
            for (origin, status) in [("https://dash.example", HTTPResponse.Status.accepted), ("https://evil.example", .forbidden),
                                     ("null", .forbidden), ("https://dash.example.evil.example", .forbidden)] {
                try await client.execute(uri: "/api/game-state", method: .post,
                                         headers: [.contentType: "application/json", .origin: origin],
                                         body: ByteBuffer(string: #"{"gameId":"g","tickCount":1,"price":1}"#)) { response in
                    #expect(response.status == status, "\(origin)")
                }
            }
        }
        #expect(listed.runtime.ingestor.counters.acceptedEvents.values.reduce(0, +) == 1)
    }

    @Test func theWildcardListsEveryOrigin() async throws {
        let f = try HTTPTests.fixture(corsOrigins: ["*"])
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/api/ingest", method: .post,
                                     headers: [.contentType: "application/json", .origin: "https://any.example"],
                                     body: ByteBuffer(string: Self.gameState)) { response in
                #expect(response.status == .accepted)
            }
        }
    }
}
