import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TEDCore
@testable import TEDPersistence
@testable import TEDServer

/// The console's page and files as the binary serves them, and the timeline its charts read.
@Suite struct ConsoleRoutesTests {
    @Test func thePageIsServedAtTheRootWithAStrictPolicyAndAValidator() async throws {
        let f = try HTTPTests.fixture()
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(response.headers[.cacheControl] == "no-cache")
                #expect(response.headers[.eTag] == ConsoleAsset.page.etag)
                let policy = try #require(response.headers[.contentSecurityPolicy])
                #expect(policy.contains("default-src 'none'") && policy.contains("script-src 'self'")
                        && policy.contains("connect-src 'self'") && policy.contains("frame-ancestors 'none'"))
                #expect(!policy.contains("unsafe-inline") && !policy.contains("http"))
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                #expect(Array(buffer: response.body) == PackageResources.console_html)
            }
        }
    }

    @Test(arguments: [("console.css", "text/css; charset=utf-8"), ("console.js", "text/javascript; charset=utf-8"),
                      ("charts.js", "text/javascript; charset=utf-8"), ("format.js", "text/javascript; charset=utf-8")])
    func eachFileHasItsContentTypeAndBytes(_ name: String, _ contentType: String) async throws {
        let f = try HTTPTests.fixture()
        let asset = try #require(ConsoleAsset.files[name])
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/console/\(name)", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == contentType)
                #expect(response.headers[.eTag] == asset.etag)
                #expect(response.headers[.contentSecurityPolicy] == ConsoleAsset.contentSecurityPolicy)
                #expect(Array(buffer: response.body) == asset.bytes)
            }
        }
    }

    @Test func aMatchingIfNoneMatchIsA304WithoutABody() async throws {
        let f = try HTTPTests.fixture()
        let asset = try #require(ConsoleAsset.files["console.js"])
        try await f.app.test(.router) { client in
            for header in [asset.etag, "W/\(asset.etag)", "\"other\", \(asset.etag)", "*"] {
                try await client.execute(uri: "/console/console.js", method: .get, headers: [.ifNoneMatch: header]) { response in
                    #expect(response.status == .notModified, "\(header)")
                    #expect(response.headers[.eTag] == asset.etag)
                    #expect(response.body.readableBytes == 0)
                }
            }
            try await client.execute(uri: "/console/console.js", method: .get, headers: [.ifNoneMatch: "\"stale\""]) { response in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == asset.bytes.count)
            }
            try await client.execute(uri: "/", method: .get, headers: [.ifNoneMatch: ConsoleAsset.page.etag]) { response in
                #expect(response.status == .notModified)
            }
        }
    }

    @Test func anUnknownFileIsA404NamingTheAsset() async throws {
        let f = try HTTPTests.fixture()
        try await f.app.test(.router) { client in
            for name in ["nope.js", "console.html", "..%2Fconsole.js"] {
                try await client.execute(uri: "/console/\(name)", method: .get) { response in
                    #expect(response.status == .notFound, "\(name)")
                    let body = try HTTPTests.json(response)
                    #expect(body["field"] == .string("asset"))
                }
            }
        }
    }

    /// Every file the page and its modules reference is served, and every served file is referenced: no broken
    /// link, no dead file.
    @Test func everyReferencedFileIsServedAndEveryServedFileIsReferenced() throws {
        let page = String(decoding: PackageResources.console_html, as: UTF8.self)
        var referenced = Set(Self.matches(#"(?:src|href)="/console/([^"]+)""#, in: page))
        for asset in ConsoleAsset.files.values where asset.contentType.hasPrefix("text/javascript") {
            referenced.formUnion(Self.matches(#"from "\./([^"]+)""#, in: String(decoding: asset.bytes, as: UTF8.self)))
        }
        #expect(referenced == Set(ConsoleAsset.files.keys))
    }

    @Test func theETagChangesWithTheBytes() {
        #expect(ConsoleAsset([1, 2, 3], contentType: "x").etag == ConsoleAsset([1, 2, 3], contentType: "y").etag)
        #expect(ConsoleAsset([1, 2, 3], contentType: "x").etag != ConsoleAsset([1, 2, 4], contentType: "x").etag)
        #expect(ConsoleAsset.fnv1a([]) == "cbf29ce484222325")
        #expect(ConsoleAsset.fnv1a(Array("a".utf8)) == "af63dc4c8601ec8c")
    }

    @Test func theTimelineServesTheSamplesOldestFirst() async throws {
        let f = try HTTPTests.fixture()
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/api/persistence/timeline", method: .get) { response in
                let body = try HTTPTests.json(response)
                #expect(body["interval_seconds"] == .int(5))
                #expect(body["samples"] == .array([]))
            }
            f.runtime.timeline.record(at: t0, pending: 7, spooled: 2, storedTotal: 100)
            f.runtime.timeline.record(at: t0.addingTimeInterval(5), pending: 0, spooled: 0, storedTotal: 162)
            try await client.execute(uri: "/api/persistence/timeline", method: .get) { response in
                #expect(response.status == .ok)
                let body = try HTTPTests.json(response)
                #expect(body["samples"] == [
                    ["at": "2027-01-15T08:00:00.000Z", "pending": 7, "spooled": 2, "stored_total": 100, "flush_rate_per_second": .null],
                    ["at": "2027-01-15T08:00:05.000Z", "pending": 0, "spooled": 0, "stored_total": 162, "flush_rate_per_second": .double(12.4)],
                ])
            }
        }
    }

    static func matches(_ pattern: String, in text: String) -> [String] {
        let regex = try! NSRegularExpression(pattern: pattern)
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            Range(match.range(at: 1), in: text).map { String(text[$0]) }
        }
    }
}
