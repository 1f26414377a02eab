import Testing
@testable import TEDServer

/// Which clients the rate limiter remembers. The buckets never refill here, so a forgotten client shows up as one
/// that is allowed again, and a remembered one as one still refused.
@Suite struct RateLimiterTableTests {
    typealias Buckets = RateLimiter<TEDRequestContext>.Buckets
    let start = ContinuousClock.now

    func at(_ seconds: Int) -> ContinuousClock.Instant { start + .seconds(seconds) }

    @Test func anIdleClientIsForgottenEvenWithFewClients() {
        let buckets = Buckets(burst: 1, refillPerSecond: 0, forgetAfter: .seconds(60))
        #expect(buckets.take("a", now: at(0)))
        #expect(!buckets.take("a", now: at(1)))
        #expect(buckets.take("b", now: at(61)))
        #expect(buckets.clientCount == 1)  // a, idle for 60 s, is gone
        #expect(buckets.take("a", now: at(62)))
    }

    @Test func aClientSeenWithinTheIdlePeriodIsKept() {
        let buckets = Buckets(burst: 1, refillPerSecond: 0, forgetAfter: .seconds(60))
        #expect(buckets.take("a", now: at(0)))
        #expect(!buckets.take("a", now: at(30)))
        #expect(buckets.take("b", now: at(70)))  // a was queued at 0 but seen at 30: requeued, not dropped
        #expect(buckets.clientCount == 2)
        #expect(!buckets.take("a", now: at(80)))
        #expect(buckets.take("c", now: at(200)))  // then a and b go idle for good
        #expect(buckets.clientCount == 1)
    }

    @Test func pastTheCapacityTheLeastRecentlySeenClientIsForgotten() {
        let buckets = Buckets(burst: 1, refillPerSecond: 0, forgetAfter: .seconds(3600), maxClients: 3)
        for (n, client) in ["a", "b", "c"].enumerated() { #expect(buckets.take(client, now: at(n))) }
        #expect(!buckets.take("a", now: at(3)))  // a is now the most recently seen
        #expect(buckets.take("d", now: at(4)))
        #expect(buckets.clientCount == 3)
        #expect(buckets.take("b", now: at(5)))  // b was forgotten (a fresh bucket); that evicted c
        #expect(!buckets.take("a", now: at(6)))
        #expect(!buckets.take("d", now: at(7)))
    }

    @Test func manyClientsOverTimeStayBounded() {
        let buckets = Buckets(burst: 5, refillPerSecond: 5, forgetAfter: .seconds(60))
        for n in 0..<50_000 { _ = buckets.take("client-\(n)", now: start + .milliseconds(n * 10)) }
        // 10 ms apart over 500 s: only the last 60 s worth (6,000 clients) are remembered.
        #expect(buckets.clientCount == 6_000)
    }
}
