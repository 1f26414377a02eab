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
        let state: Mutex<ExpiringTable<Bucket>>

        /// A client idle for `forgetAfter` is forgotten (with a refill of at least `burst` in that time its bucket
        /// would be full again anyway); past `maxClients` the least recently seen one is, so the table stays bounded
        /// however many addresses a client rotates through.
        public init(burst: Int, refillPerSecond: Double, forgetAfter: Duration = .seconds(60), maxClients: Int = 100_000) {
            self.burst = Double(burst)
            self.refillPerSecond = refillPerSecond
            state = Mutex(ExpiringTable(idle: forgetAfter, capacity: maxClients))
        }

        /// The clients currently remembered.
        var clientCount: Int { state.withLock { $0.count } }

        /// Takes a token for `client`; false when the bucket is empty.
        func take(_ client: String, now: ContinuousClock.Instant = .now) -> Bool {
            state.withLock { table in
                var bucket = table.value(for: client, now: now) ?? Bucket(tokens: burst, updated: now)
                bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated).seconds * refillPerSecond)
                bucket.updated = now
                let allowed = bucket.tokens >= 1
                if allowed { bucket.tokens -= 1 }
                table.set(bucket, for: client, now: now)
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
