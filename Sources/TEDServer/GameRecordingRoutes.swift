import Foundation
import Hummingbird
import TEDCore
import TEDPersistence

/// `/api/persistence/games` (the latest stored games, for the console) and `/api/persistence/game/{game_id}/ticks`
/// (a game's recording, page by page, with its completeness). Store reads go through the report gate.
struct GameRecordingRoutes: Sendable {
    let runtime: PersistenceRuntime

    static let gamesLimit = 1...500
    static let defaultGamesLimit = 50
    static let ticksLimit = 1...5000
    static let defaultTicksLimit = 1000
    /// Ticks are `Tick`s of the ingest API (0 to 2^31 - 1); -1 asks for the first page.
    static let afterTick = -1...Int(Int32.max)

    func register(on router: Router<some RequestContext>) {
        router.get("/api/persistence/games") { request, _ -> Response in
            let query = request.uri.queryParameters
            guard let limit = Self.integer(query.get("limit"), default: Self.defaultGamesLimit, in: Self.gamesLimit) else {
                return Self.outOfRange("limit", Self.gamesLimit)
            }
            var before: Date?
            if let text = query.get("before") {
                guard let date = Timestamp.parseISO8601(text) else {
                    return JSONResponse.error(.badRequest, "before must be an ISO-8601 date-time (e.g. 2026-01-02T03:04:05Z)",
                                              field: "before")
                }
                before = date
            }
            guard let stored = runtime.storedGames else {
                let games = runtime.finishedGamesInMemory(limit: limit, before: before)
                return JSONResponse.make(.ok, ["enabled": false, "count": JSONValue(games.count), "games": .array(games.map(\.json))])
            }
            return await gated { () throws(StoredReports.ReportError) in
                let games = try await stored.latest(limit: limit, before: before)
                return JSONResponse.make(.ok, ["enabled": true, "count": JSONValue(games.count), "games": .array(games)])
            }
        }
        router.get("/api/persistence/game/:game_id/ticks") { request, context -> Response in
            guard let gameID = context.parameters.get("game_id") else { return JSONResponse.error(.notFound, "game not found") }
            let query = request.uri.queryParameters
            guard let afterTick = Self.integer(query.get("after_tick"), default: -1, in: Self.afterTick) else {
                return Self.outOfRange("after_tick", Self.afterTick)
            }
            guard let limit = Self.integer(query.get("limit"), default: Self.defaultTicksLimit, in: Self.ticksLimit) else {
                return Self.outOfRange("limit", Self.ticksLimit)
            }
            guard let stored = runtime.storedGames else {
                return JSONResponse.make(.ok, ["enabled": false, "message": "Persistence is disabled"])
            }
            return await gated { () throws(StoredReports.ReportError) in
                guard let recording = try await stored.recording(ofGame: gameID, afterTick: afterTick, limit: limit) else {
                    return JSONResponse.error(.notFound, "game not found")  // neither the game nor any of its ticks is stored
                }
                return JSONResponse.make(.ok, recording.json)
            }
        }
    }

    /// Runs a store read if a report place is free (else 503 with Retry-After at once); a failed read is a 503.
    private func gated(_ read: () async throws(StoredReports.ReportError) -> Response) async -> Response {
        await runtime.reports.respond { () async -> Response in
            do throws(StoredReports.ReportError) {
                return try await read()
            } catch {
                return error.response
            }
        }
    }

    /// The whole number `text` in `range`, `fallback` when absent; nil when it is not one.
    private static func integer(_ text: String?, default fallback: Int, in range: ClosedRange<Int>) -> Int? {
        guard let text else { return fallback }
        guard let value = Int(text), range.contains(value) else { return nil }
        return value
    }

    private static func outOfRange(_ field: String, _ range: ClosedRange<Int>) -> Response {
        JSONResponse.error(.badRequest, "\(field) must be a whole number from \(range.lowerBound) to \(range.upperBound)",
                           field: field)
    }
}
