import Hummingbird
import NIOCore
import Testing
import TEDCore
import TEDTestSupport
@testable import TEDServer

/// The request-body budget and the body timeout, driven through `IngestRoutes` with bodies whose arrival the test
/// controls (a stalled upload is a stream that is never finished), and time that moves only when the test moves it.
@Suite struct IngestBodyBudgetTests {
    struct Setup {
        let fixture: HTTPTests.Fixture
        let budget: BodyBudget
        let routes: IngestRoutes
        let clock: ManualClock
        let deadlines: BodyDeadlines

        /// Starts an ingest request of `declaring` bytes whose body is `upload`; its answer is the task's value.
        func answer(to upload: Upload, declaring length: Int) -> Task<Response, Never> {
            Task { [routes, body = upload.body] in
                await routes.ingest(IngestBodyBudgetTests.request(body, declaring: length), rawGameState: false)
            }
        }

        /// Runs `body` with the deadlines' sweeper running on the manual clock, parked before `body` starts.
        func sweeping(_ body: () async throws -> Void) async throws {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await deadlines.run() }
                try await clock.waitForSleepers(1)
                try await body()
                group.cancelAll()
            }
        }
    }

    static func setup(budget limit: Int, timeout: Duration = .seconds(30), maxBodyBytes: Int = 4096) throws -> Setup {
        let fixture = try HTTPTests.fixture()
        let budget = BodyBudget(limit: limit, largestBody: maxBodyBytes)
        let clock = ManualClock()
        let deadlines = BodyDeadlines(timeout: timeout, clock: clock)
        let routes = IngestRoutes(runtime: fixture.runtime, access: AccessControl(ingestToken: nil, adminToken: nil),
                                  crossSite: CrossSiteWriteGuard(allowedOrigins: []),
                                  bodyReader: IngestBodyReader(budget: budget, maxBodyBytes: maxBodyBytes, deadlines: deadlines),
                                  maxEvents: 100)
        return Setup(fixture: fixture, budget: budget, routes: routes, clock: clock, deadlines: deadlines)
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
        let slowAnswer = s.answer(to: upload, declaring: 900)
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

    /// Large bodies fill the budget only up to the share kept for small ones: while a stalled upload holds nearly all
    /// it may, a second large body is refused (announced or not) and an ordinary event is still served.
    @Test(.timeLimit(.minutes(1)))
    func stalledLargeUploadsLeaveRoomForSmallBodies() async throws {
        let s = try Self.setup(budget: 1 << 20, maxBodyBytes: 512 << 10)
        #expect(s.budget.reservedForSmallBodies == 128 << 10)
        var upload = Upload()
        var stalled = Self.event(tick: 1, size: 500_000)
        let stalledAnswer = s.answer(to: upload, declaring: 500_000)
        await upload.send(stalled.readSlice(length: 400_000)!)
        var second = Upload()
        var secondBody = Self.event(tick: 2, size: 500_000)
        let secondAnswer = s.answer(to: second, declaring: 500_000)
        await second.send(secondBody.readSlice(length: 400_000)!)
        #expect(s.budget.inUse == 800_000)

        // 248,576 bytes are left, 117,504 of them for large bodies: 200 KB is refused, announced or not.
        for declare in [true, false] {
            let large = await s.routes.ingest(Self.request(Self.event(tick: 3, size: 200_000), declare: declare), rawGameState: false)
            #expect(large.status == .serviceUnavailable, "declared: \(declare)")
        }
        #expect(s.budget.inUse == 800_000)
        // Two 60 KB requests fit in the reserve: small bodies are served while the uploads hold their bytes.
        for tick in 4...5 {
            let small = await s.routes.ingest(Self.request(Self.event(tick: tick, size: 60_000)), rawGameState: false)
            #expect(small.status == .accepted)
        }

        // One after the other: the first's last 100 KB leave too little for the second's until it is answered.
        await upload.send(stalled)
        upload.finish()
        #expect(await stalledAnswer.value.status == .accepted)
        await second.send(secondBody)
        second.finish()
        #expect(await secondAnswer.value.status == .accepted)
        #expect(s.budget.inUse == 0)
    }

    @Test(.timeLimit(.minutes(1)))
    func aStalledBodyIsA408AtItsDeadlineAndGivesItsBytesBack() async throws {
        let s = try Self.setup(budget: 1000, timeout: .seconds(5))
        try await s.sweeping {
            var upload = Upload()
            var stalled = Self.event(tick: 1, size: 900)
            let answer = s.answer(to: upload, declaring: 900)
            await upload.send(stalled.readSlice(length: 800)!)
            #expect(s.deadlines.count == 1)
            s.clock.advance(by: .seconds(5))
            let response = await answer.value
            #expect(response.status == .requestTimeout)
            #expect(response.headers[.connection] == "close")
            #expect(s.budget.inUse == 0)
            #expect(s.deadlines.count == 0)
            let next = await s.routes.ingest(Self.request(Self.event(tick: 2, size: 900)), rawGameState: false)
            #expect(next.status == .accepted)
            #expect(s.deadlines.count == 0)
        }
    }

    /// Each body has its own deadline, counted from the start of its request: chunks arriving do not extend it, and a
    /// later request is not cut at an earlier one's deadline.
    @Test(.timeLimit(.minutes(1)))
    func eachBodyHasItsOwnDeadlineFromItsStart() async throws {
        let s = try Self.setup(budget: 10_000, timeout: .seconds(5))
        try await s.sweeping {
            var early = Upload()
            var earlyBody = Self.event(tick: 1, size: 900)
            let earlyAnswer = s.answer(to: early, declaring: 900)
            await early.send(earlyBody.readSlice(length: 100)!)
            // Not a wake-up yet: the sweeper sleeps until the first deadline, 5 s after the start.
            s.clock.advance(by: .seconds(3))
            var late = Upload()
            var lateBody = Self.event(tick: 2, size: 900)
            let lateAnswer = s.answer(to: late, declaring: 900)
            await late.send(lateBody.readSlice(length: 100)!)
            await early.send(earlyBody.readSlice(length: 100)!)
            #expect(s.deadlines.count == 2)
            // At 5 s the early body's deadline passes, not the late one's (8 s): the sweeper parks again until then.
            try await s.clock.step(by: .seconds(2))
            #expect(await earlyAnswer.value.status == .requestTimeout)
            #expect(s.deadlines.count == 1)
            await late.send(lateBody)
            late.finish()
            #expect(await lateAnswer.value.status == .accepted)
            #expect(s.deadlines.count == 0)
            #expect(s.budget.inUse == 0)
        }
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
