import Foundation
import TEDCore
import TEDStore

/// The games and game recordings the API reads from the store, so that routes never touch the store itself.
/// Reads only: the routes run them through `PersistenceRuntime.reports`.
public struct StoredGames: Sendable {
    /// One page of a game's recording with the completeness of the whole recording.
    public struct Recording: Sendable {
        public let gameID: String
        public let ticks: [RecordedTick]
        /// The tick to ask the next page after; nil on the last page.
        public let nextAfterTick: Int?
        public let completeness: RecordingCompleteness

        public var json: JSONValue {
            [
                "game_id": .string(gameID),
                "count": JSONValue(ticks.count),
                "ticks": .array(ticks.map {
                    ["tick": JSONValue($0.tick), "price": .double($0.price), "timestamp": .string(Timestamp.formatISO8601($0.timestamp))]
                }),
                "next_after_tick": nextAfterTick.map { JSONValue($0) } ?? .null,
                "completeness": completeness.json,
            ]
        }
    }

    /// Ticks read per round trip while the completeness is computed.
    public static let completenessPageSize = 5000

    let store: any DocumentStore
    let sampleEveryTicks: Int
    /// The MongoDB URL, scrubbed from messages.
    let url: String?

    public init(store: any DocumentStore, sampleEveryTicks: Int, url: String? = nil) {
        self.store = store
        self.sampleEveryTicks = sampleEveryTicks
        self.url = url
    }

    /// The stored games that started (`created_at`) before `before`, newest first, as the game endpoint shows them.
    public func latest(limit: Int, before: Date?) async throws(StoredReports.ReportError) -> [JSONValue] {
        try await reading { () throws(StoreError) in
            try await store.latestGames(limit: limit, before: before).map(\.json)
        }
    }

    /// Up to `limit` ticks of `gameID` after `afterTick`, and the completeness of its whole recording; nil when
    /// neither the game nor any of its ticks is stored. One pass over the game's ticks, `completenessPageSize` at a
    /// time, serves both: memory holds one read page and the asked page, whatever the length of the game.
    public func recording(ofGame gameID: String, afterTick: Int, limit: Int) async throws(StoredReports.ReportError) -> Recording? {
        try await reading { () throws(StoreError) -> Recording? in
            let game = try await store.storedGame(gameID)
            var completeness = RecordingCompleteness(
                sampleEveryTicks: sampleEveryTicks,
                firstTickSeen: game?["first_tick_seen"]?.intValue ?? game?["start_tick"]?.intValue,
                endTick: game?["end_tick"]?.intValue)
            var asked: [RecordedTick] = []
            var more = false
            var after = -1
            while true {
                let page = try await store.recordedTicks(ofGame: gameID, afterTick: after, limit: Self.completenessPageSize)
                for tick in page {
                    completeness.add(tick.tick)
                    guard tick.tick > afterTick else { continue }
                    if asked.count < limit { asked.append(tick) } else { more = true }
                }
                guard let last = page.last, page.count == Self.completenessPageSize else { break }
                after = last.tick
            }
            completeness.finish()
            guard game != nil || completeness.endTick != nil else { return nil }
            return Recording(gameID: gameID, ticks: asked, nextAfterTick: more ? asked.last?.tick : nil,
                             completeness: completeness)
        }
    }

    private func reading<T>(_ body: () async throws(StoreError) -> T) async throws(StoredReports.ReportError) -> T {
        do {
            return try await body()
        } catch {
            throw .storeUnavailable("store unavailable: " + MongoURL.scrub(error.message, url: url))
        }
    }
}

extension PersistenceRuntime {
    /// The stored games, while persistence is on and a store is configured; nil otherwise (the API then answers
    /// from memory, or that persistence is disabled).
    public var storedGames: StoredGames? {
        guard flag.isEnabled, let store else { return nil }
        return StoredGames(store: store, sampleEveryTicks: settings.streamSampleEveryTicks, url: settings.mongoURL)
    }

    /// The finished games still in memory that started before `before`, newest first.
    public func finishedGamesInMemory(limit: Int, before: Date?) -> [GameRecord] {
        let games = ingestor.latestGameSummaries(ingestor.sizes.finishedGames).reversed().map(\.game)
        return Array(games.filter { game in before.map { game.createdAt < $0 } ?? true }.prefix(limit))
    }
}
