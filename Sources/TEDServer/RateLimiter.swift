import Foundation
import Hummingbird
import Synchronization
import TEDPersistence

/// A token bucket per client address (`RATE_LIMIT_PER_SECOND` requests a second, bursts up to the same number);
/// past it the client gets 429 with `Retry-After`. Health and metrics endpoints are exempt so probes never fail.
public struct RateLimiter<Context: RemoteAddressRequestContext>: RouterMiddleware {
    public final class Buckets: Sendable {
        struct Bucket {
            var tokens: Double
            var updated: ContinuousClock.Instant
        }

        let burst: Double
        let refillPerSecond: Double
        let state = Mutex<[String: Bucket]>([:])

        public init(burst: Int, refillPerSecond: Double) {
            self.burst = Double(burst)
            self.refillPerSecond = refillPerSecond
        }

        /// Takes a token for `client`; false when the bucket is empty.
        func take(_ client: String, now: ContinuousClock.Instant = .now) -> Bool {
            state.withLock { buckets in
                var bucket = buckets[client] ?? Bucket(tokens: burst, updated: now)
                bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated).seconds * refillPerSecond)
                bucket.updated = now
                let allowed = bucket.tokens >= 1
                if allowed { bucket.tokens -= 1 }
                buckets[client] = bucket
                // Forget idle clients so the table stays small.
                if buckets.count > 10_000 { buckets = buckets.filter { now - $0.value.updated < .seconds(60) } }
                return allowed
            }
        }
    }

    let buckets: Buckets

    init(buckets: Buckets) {
        self.buckets = buckets
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if path.hasPrefix("/health") || path == "/metrics" { return try await next(request, context) }
        let client = context.remoteAddress?.ipAddress ?? "unknown"
        guard buckets.take(client) else {
            return JSONResponse.error(.tooManyRequests, "rate limit exceeded (RATE_LIMIT_PER_SECOND)", headers: [.retryAfter: "1"])
        }
        return try await next(request, context)
    }
}
