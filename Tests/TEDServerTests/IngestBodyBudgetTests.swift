import Hummingbird
import NIOCore
import Testing
import TEDCore
@testable import TEDServer

/// The request-body budget and the body timeout, driven through `IngestRoutes` with bodies whose arrival the test
/// controls (a stalled upload is a stream that is never finished).
@Suite struct IngestBodyBudgetTests {
    struct Setup {
        let fixture: HTTPTests.Fixture
        let budget: BodyBudget
        let routes: IngestRoutes
    }

    static func setup(budget limit: Int, timeout: Duration = .seconds(30), maxBodyBytes: Int = 4096) throws -> Setup {
        let fixture = try HTTPTests.fixture()
        let budget = BodyBudget(limit: limit)
        let routes = IngestRoutes(runtime: fixture.runtime, access: AccessControl(ingestToken: nil, adminToken: nil),
                                  crossSite: CrossSiteWriteGuard(allowedOrigins: []),
                                  bodyReader: IngestBodyReader(budget: budget, maxBodyBytes: maxBodyBytes, timeout: timeout),
                                  maxEvents: 100)
        return Setup(fixture: fixture, budget: budget, routes: routes)
    }

    /// A game-state event padded with spaces to `size` bytes: valid JSON of any length.
    static func event(tick: Int, size: Int) -> ByteBuffer {
        let json = #"{"type":"game_state","game_id":"g1","tick":\#(tick),"price":1.5}"#
        return ByteBuffer(string: json + String(repeating: " ", count: max(0, size - json.utf8.count)))
    }

    static func request(_ body: RequestBody, declaring length: Int?) -> Request {
        var fields: HTTPFields = [.contentType: "application/json"]
        if let length { fields[.contentLength] = String(length) }
        return Request(head: HTTPRequest(method: .post, scheme: "http", authority: "127.0.0.1", path: "/api/ingest",
                                         headerFields: fields), body: body)
    }

    static func request(_ buffer: ByteBuffer, declare: Bool = true) -> Request {
        request(RequestBody(buffer: buffer), declaring: declare ? buffer.readableBytes : nil)
    }

    /// Ends a stream the code under test should never wait for, so a regression fails instead of hanging.
    static func watchdog(_ source: RequestBody.Source) -> Task<Void, Never> {
        Task {
            try? await Task.sleep(for: .seconds(5))
            source.finish()
        }
    }

    static func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<500 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
        #expect(condition())
    }

    @Test func aFullBudgetIsA503WithRetryAfterAndIsReleasedWithTheRequest() async throws {
        let s = try Self.setup(budget: 1000)
        // A slow upload: 900 bytes announced, 800 sent, the rest later.
        let (body, source) = RequestBody.makeStream()
        var slow = Self.event(tick: 1, size: 900)
        let slowAnswer = Task { await s.routes.ingest(Self.request(body, declaring: 900), rawGameState: false) }
        await source.yield(slow.readSlice(length: 800)!)
        try await Self.waitUntil { s.budget.inUse == 800 }

        // 300 bytes announced, or 300 bytes received without an announcement: past the 200 left.
        for declare in [true, false] {
            let refused = await s.routes.ingest(Self.request(Self.event(tick: 2, size: 300), declare: declare), rawGameState: false)
            #expect(refused.status == .serviceUnavailable, "declared: \(declare)")
            #expect(refused.headers[.retryAfter] != nil)
        }
        // A small request still fits and is served meanwhile.
        let small = await s.routes.ingest(Self.request(Self.event(tick: 3, size: 100)), rawGameState: false)
        #expect(small.status == .accepted)
        #expect(s.budget.inUse == 800)

        await source.yield(slow)
        source.finish()
        #expect(await slowAnswer.value.status == .accepted)
        #expect(s.budget.inUse == 0)
        let retried = await s.routes.ingest(Self.request(Self.event(tick: 2, size: 300)), rawGameState: false)
        #expect(retried.status == .accepted)
        #expect(s.budget.inUse == 0)
    }

    @Test func aStalledBodyIsA408AndGivesItsBytesBack() async throws {
        let s = try Self.setup(budget: 1000, timeout: .milliseconds(300))
        let (body, source) = RequestBody.makeStream()
        var stalled = Self.event(tick: 1, size: 900)
        let watchdog = Self.watchdog(source)
        let answer = Task { await s.routes.ingest(Self.request(body, declaring: 900), rawGameState: false) }
        await source.yield(stalled.readSlice(length: 800)!)
        let response = await answer.value
        #expect(response.status == .requestTimeout)
        #expect(s.budget.inUse == 0)
        let next = await s.routes.ingest(Self.request(Self.event(tick: 2, size: 900)), rawGameState: false)
        #expect(next.status == .accepted)
        watchdog.cancel()
        source.finish()
    }

    @Test func anAnnouncedBodyOverTheLimitIsA413WithoutReadingIt() async throws {
        let s = try Self.setup(budget: 100_000, timeout: .seconds(30), maxBodyBytes: 4096)
        let (body, source) = RequestBody.makeStream()  // never yields: reading it would wait for the timeout
        let watchdog = Self.watchdog(source)
        let response = await s.routes.ingest(Self.request(body, declaring: 5000), rawGameState: false)
        #expect(response.status == .contentTooLarge)
        #expect(s.budget.inUse == 0)
        watchdog.cancel()
        source.finish()
    }
}
