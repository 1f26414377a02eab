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

    /// A request body whose chunks the test sends, and which tells the test when the reader asks for another chunk: by
    /// then the reader has taken in (and holds budget for) every chunk sent before. Until `finish` it never ends; a
    /// cancelled read ends it.
    struct Upload {
        let body: RequestBody
        private let chunks: AsyncStream<ByteBuffer>.Continuation
        private var asks: AsyncStream<Void>.AsyncIterator
        private var sent = 0
        private var asked = 0

        init() {
            let (chunks, chunksContinuation) = AsyncStream.makeStream(of: ByteBuffer.self)
            let (asks, asksContinuation) = AsyncStream.makeStream(of: Void.self)
            body = RequestBody(asyncSequence: AskingBody(chunks: chunks, asks: asksContinuation))
            self.chunks = chunksContinuation
            self.asks = asks.makeAsyncIterator()
        }

        /// Sends `chunk` and returns once the reader has taken it in.
        mutating func send(_ chunk: ByteBuffer) async {
            chunks.yield(chunk)
            sent += 1
            while asked <= sent, await asks.next() != nil { asked += 1 }
        }

        func finish() { chunks.finish() }
    }

    /// The chunks of an `Upload`, announcing each request for the next one.
    struct AskingBody: AsyncSequence, Sendable {
        let chunks: AsyncStream<ByteBuffer>
        let asks: AsyncStream<Void>.Continuation

        struct AsyncIterator: AsyncIteratorProtocol {
            var chunks: AsyncStream<ByteBuffer>.AsyncIterator
            let asks: AsyncStream<Void>.Continuation

            mutating func next() async -> ByteBuffer? {
                asks.yield()
                return await chunks.next()
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chunks: chunks.makeAsyncIterator(), asks: asks) }
    }

    @Test(.timeLimit(.minutes(1)))
    func aFullBudgetIsA503WithRetryAfterAndIsReleasedWithTheRequest() async throws {
        let s = try Self.setup(budget: 1000)
        // A slow upload: 900 bytes announced, 800 sent, the rest later.
        var upload = Upload()
        var slow = Self.event(tick: 1, size: 900)
        let slowAnswer = Task { [body = upload.body] in
            await s.routes.ingest(Self.request(body, declaring: 900), rawGameState: false)
        }
        await upload.send(slow.readSlice(length: 800)!)
        #expect(s.budget.inUse == 800)

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

        await upload.send(slow)
        upload.finish()
        #expect(await slowAnswer.value.status == .accepted)
        #expect(s.budget.inUse == 0)
        let retried = await s.routes.ingest(Self.request(Self.event(tick: 2, size: 300)), rawGameState: false)
        #expect(retried.status == .accepted)
        #expect(s.budget.inUse == 0)
    }

    @Test(.timeLimit(.minutes(1)))
    func aStalledBodyIsA408AndGivesItsBytesBack() async throws {
        let s = try Self.setup(budget: 1000, timeout: .milliseconds(300))
        var upload = Upload()
        var stalled = Self.event(tick: 1, size: 900)
        let answer = Task { [body = upload.body] in
            await s.routes.ingest(Self.request(body, declaring: 900), rawGameState: false)
        }
        await upload.send(stalled.readSlice(length: 800)!)
        let response = await answer.value
        #expect(response.status == .requestTimeout)
        #expect(s.budget.inUse == 0)
        let next = await s.routes.ingest(Self.request(Self.event(tick: 2, size: 900)), rawGameState: false)
        #expect(next.status == .accepted)
    }

    @Test(.timeLimit(.minutes(1)))
    func anAnnouncedBodyOverTheLimitIsA413WithoutReadingIt() async throws {
        let s = try Self.setup(budget: 100_000, timeout: .seconds(30), maxBodyBytes: 4096)
        let upload = Upload()  // never sends: reading it would wait for the timeout and answer 408
        let response = await s.routes.ingest(Self.request(upload.body, declaring: 5000), rawGameState: false)
        #expect(response.status == .contentTooLarge)
        #expect(s.budget.inUse == 0)
    }
}
