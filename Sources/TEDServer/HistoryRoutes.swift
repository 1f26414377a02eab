import Hummingbird
import TEDCore
import TEDPersistence

/// Recent history, served from the in-memory rings whether persistence is on or off.
struct HistoryRoutes: Sendable {
    let runtime: PersistenceRuntime

    func register(on router: Router<some RequestContext>) {
        let ingestor = runtime.ingestor
        router.get("/api/tick-history") { request, _ -> Response in
            guard let limit = request.limit(default: 100, maximum: ingestor.sizes.tickSamples) else { return JSONResponse.invalidLimit }
            let samples = ingestor.latestTickSamples(limit)
            return JSONResponse.make(.ok, ["count": JSONValue(samples.count), "capacity": JSONValue(ingestor.sizes.tickSamples),
                                           "ticks": .array(samples.map(\.json))])
        }
        router.get("/api/prediction-history") { request, _ -> Response in
            guard let limit = request.limit(default: 50, maximum: ingestor.sizes.finishedGames) else { return JSONResponse.invalidLimit }
            let games = ingestor.latestGameSummaries(limit)
            return JSONResponse.make(.ok, ["count": JSONValue(games.count), "capacity": JSONValue(ingestor.sizes.finishedGames),
                                           "games": .array(games.map(\.json))])
        }
        router.get("/api/side-bet-history") { request, _ -> Response in
            guard let limit = request.limit(default: 100, maximum: ingestor.sizes.sideBets) else { return JSONResponse.invalidLimit }
            let bets = ingestor.latestSideBets(limit)
            return JSONResponse.make(.ok, ["count": JSONValue(bets.count), "capacity": JSONValue(ingestor.sizes.sideBets),
                                           "side_bets": .array(bets.map(\.json))])
        }
    }
}
