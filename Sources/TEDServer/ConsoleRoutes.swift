import Foundation
import Hummingbird
import TEDCore
import TEDPersistence

/// The operator console: the page at `/`, its files at `/console/{asset}`, and the timeline its charts draw.
struct ConsoleRoutes: Sendable {
    let runtime: PersistenceRuntime

    func register(on router: Router<some RequestContext>) {
        router.get("/") { request, _ in ConsoleAsset.page.response(to: request) }
        router.get("/console/:asset") { request, context -> Response in
            guard let name = context.parameters.get("asset"), let asset = ConsoleAsset.files[name] else {
                return JSONResponse.error(.notFound, "no such console asset", field: "asset")
            }
            return asset.response(to: request)
        }
        router.get("/api/persistence/timeline") { _, _ in JSONResponse.make(.ok, runtime.timeline.json) }
    }
}

extension Timeline {
    var json: JSONValue {
        [
            "interval_seconds": JSONValue(Int(interval)),
            "samples": .array(samples.map { sample in
                [
                    "at": .string(Timestamp.formatISO8601(sample.at)), "pending": JSONValue(sample.pending),
                    "spooled": JSONValue(sample.spooled), "stored_total": JSONValue(sample.storedTotal),
                    "flush_rate_per_second": JSONValue(sample.flushRatePerSecond.map { ($0 * 100).rounded() / 100 }),
                ]
            }),
        ]
    }
}
