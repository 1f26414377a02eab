import Foundation

/// What one or more events changed: the records to keep in memory and to persist.
public struct TrackerOutput: Sendable {
    public var tickSamples: [TickSample] = []
    /// Latest version of each changed game (one entry per game per output).
    public var games: [GameRecord] = []
    /// New or resolved predictions (a resolved one replaces the earlier version of the same id).
    public var predictions: [Prediction] = []
    public var sideBets: [SideBet] = []
    public var finishedGames: [GameSummary] = []
    /// Events that changed nothing: an update for a game that already ended, or a tick already seen.
    public var ignoredUpdates = 0

    public init() {}

    public var recordCount: Int { tickSamples.count + games.count + predictions.count + sideBets.count }

    mutating func upsertGame(_ game: GameRecord) {
        if let index = games.lastIndex(where: { $0.gameID == game.gameID }) {
            games[index] = game
        } else {
            games.append(game)
        }
    }
}

/// Outcome rules shared by the tracker and the reports.
public struct OutcomeRules: Sendable, Equatable {
    public var sideBetWindowTicks: Int
    public var sideBetPayoutMultiplier: Double
    public var sampleEveryTicks: Int

    public init(sideBetWindowTicks: Int = 40, sideBetPayoutMultiplier: Double = 5, sampleEveryTicks: Int = 1) {
        self.sideBetWindowTicks = sideBetWindowTicks
        self.sideBetPayoutMultiplier = sideBetPayoutMultiplier
        self.sampleEveryTicks = sampleEveryTicks
    }

    /// The rules the settings configure (`SIDE_BET_WINDOW_TICKS`, its payout, `STREAM_SAMPLE_EVERY_TICKS`).
    public init(settings: Settings) {
        self.init(sideBetWindowTicks: settings.sideBetWindowTicks, sideBetPayoutMultiplier: settings.sideBetPayoutMultiplier,
                  sampleEveryTicks: settings.streamSampleEveryTicks)
    }
}

/// Derives games, tick samples and outcomes from the event stream. Pure state, no I/O, not thread-safe:
/// the owner serialises calls.
///
/// One game runs at a time: a game starts at its first `game_state`, ends at an update with `rugged: true`,
/// or — its end then inferred at its last seen tick — when a `game_state` of another game arrives or its feed goes
/// silent (`endIdleGame`). Predictions and side bets may arrive before the game's
/// first update (they wait for it) or after its end (they are resolved at once).
public struct GameTracker: Sendable {
    /// Games with predictions or side bets but no end yet, beyond which the oldest is forgotten.
    public static let maxOpenGames = 64
    /// Ended games remembered to resolve late predictions and side bets. Late records arrive seconds after the
    /// end, and each remembered game keeps one entry per prediction, so a short memory keeps RSS small.
    public static let maxEndedGames = 32

    struct OpenGame: Sendable {
        var record: GameRecord?
        /// Every distinct tick is sampled once, in whatever order ticks arrive (a late tick still moves the peak).
        var seenTicks = SeenTicks()
        var predictions: [String: Prediction] = [:]
        var sideBets: [String: SideBet] = [:]
    }

    struct EndedGame: Sendable {
        var record: GameRecord
        /// Tells a re-send of its updates from a second round reusing its id.
        var seenTicks: SeenTicks
        var withinOneWindow: Int
        /// Whether each prediction (by id) is within one window, so that a re-sent one is counted once.
        var predictionWithin: [String: Bool] = [:]
        /// Whether each side bet (by id) is a BET, so that a re-sent one is counted once.
        var sideBetIsBet: [String: Bool] = [:]
    }

    public let rules: OutcomeRules
    private(set) var currentGameID: String?
    /// When the running game's last update arrived: how long its feed has been silent.
    public private(set) var currentGameLastUpdate: Date?
    private var open: [String: OpenGame] = [:]
    private var openOrder: [String] = []
    private var ended: [String: EndedGame] = [:]
    private var endedOrder: [String] = []
    public private(set) var forgottenOpenGames = 0

    public init(rules: OutcomeRules) {
        self.rules = rules
    }

    public var currentGame: GameRecord? { currentGameID.flatMap { open[$0]?.record } }

    public mutating func apply(_ event: IngestEvent, now: Date, into output: inout TrackerOutput) {
        switch event {
        case .gameState(let update): apply(update, now: now, into: &output)
        case .prediction(let prediction): apply(prediction, now: now, into: &output)
        case .sideBet(let sideBet): apply(sideBet, now: now, into: &output)
        }
    }

    public mutating func apply(_ update: GameStateUpdate, now: Date, into output: inout TrackerOutput) {
        if ended[update.gameID] != nil {
            output.ignoredUpdates += 1
            return
        }
        if let current = currentGameID, current != update.gameID {
            finish(current, rugged: false, now: now, into: &output)
        }
        currentGameID = update.gameID
        currentGameLastUpdate = now
        var game = takeOpenGame(update.gameID)
        if var record = game.record {
            record.apply(update, now: now)
            game.record = record
        } else {
            var record = GameRecord(first: update, now: now)
            record.hadPredictions = !game.predictions.isEmpty
            record.predictionCount = game.predictions.count
            record.sideBetsPlaced = game.sideBets.values.filter { $0.recommendation == .bet }.count
            game.record = record
        }
        if game.seenTicks.insert(update.tick, price: update.price) {
            game.record?.ticksSeen = game.seenTicks.count
            if update.tick % rules.sampleEveryTicks == 0 {
                output.tickSamples.append(TickSample(
                    gameID: update.gameID, tick: update.tick, price: update.price, features: update.features,
                    timestamp: update.timestamp, createdAt: now))
            }
        } else {
            output.ignoredUpdates += 1
        }
        open[update.gameID] = game
        output.upsertGame(game.record!)
        if update.rugged {
            finish(update.gameID, rugged: true, now: now, into: &output)
        }
    }

    public mutating func apply(_ prediction: Prediction, now: Date, into output: inout TrackerOutput) {
        if var finished = ended.removeValue(forKey: prediction.gameID) {
            let resolved = prediction.resolved(actualEndTick: finished.record.endTick, endInferred: finished.record.endInferred)
            output.predictions.append(resolved)
            finished.record.hadPredictions = true
            let within = resolved.errorMetrics!.isWithin(windows: 1)
            if let previous = finished.predictionWithin.updateValue(within, forKey: prediction.id) {
                if previous { finished.withinOneWindow -= 1 }  // a re-sent prediction replaces its earlier version
            } else {
                finished.record.predictionCount += 1
            }
            if within { finished.withinOneWindow += 1 }
            finished.record.predictionAccuracy = Double(finished.withinOneWindow) / Double(finished.record.predictionCount)
            finished.record.updatedAt = now
            ended[prediction.gameID] = finished
            output.upsertGame(finished.record)
            return
        }
        var game = takeOpenGame(prediction.gameID)
        game.predictions[prediction.id] = prediction
        output.predictions.append(prediction)
        if var record = game.record {
            record.hadPredictions = true
            record.predictionCount = game.predictions.count
            record.updatedAt = now
            game.record = record
            output.upsertGame(record)
        }
        open[prediction.gameID] = game
    }

    public mutating func apply(_ sideBet: SideBet, now: Date, into output: inout TrackerOutput) {
        if var finished = ended.removeValue(forKey: sideBet.gameID) {
            output.sideBets.append(sideBet.resolved(
                actualEndTick: finished.record.endTick, windowTicks: rules.sideBetWindowTicks,
                payoutMultiplier: rules.sideBetPayoutMultiplier, endInferred: finished.record.endInferred))
            let isBet = sideBet.recommendation == .bet
            let wasBet = finished.sideBetIsBet.updateValue(isBet, forKey: sideBet.id) ?? false
            if isBet != wasBet {
                finished.record.sideBetsPlaced += isBet ? 1 : -1
                finished.record.updatedAt = now
                output.upsertGame(finished.record)
            }
            ended[sideBet.gameID] = finished
            return
        }
        var game = takeOpenGame(sideBet.gameID)
        game.sideBets[sideBet.id] = sideBet
        output.sideBets.append(sideBet)
        if var record = game.record {
            record.sideBetsPlaced = game.sideBets.values.filter { $0.recommendation == .bet }.count
            record.updatedAt = now
            game.record = record
            output.upsertGame(record)
        }
        open[sideBet.gameID] = game
    }

    /// The first update of `events` that would start a second round under the id of a game whose rug was seen
    /// (before, or earlier in `events`): any update of it that is not an exact re-send (same tick and price) of
    /// one already seen. Changes nothing, so a request can be refused whole before any of it is applied.
    public func closedGameConflict(in events: [IngestEvent]) -> ClosedGameConflict? {
        guard updatesAClosedGame(events) else { return nil }
        // This request's own prices by game and tick, beside the tracker's (not copied: a request costs its size).
        var pricesHere: [String: [Int: Double]] = [:]
        var ruggedHere: [String: Int] = [:]
        for (index, event) in events.enumerated() {
            guard case .gameState(let update) = event else { continue }
            let id = update.gameID
            let rugTick = ruggedHere[id] ?? rugTickSeen(of: id)
            if let rugTick {
                let repeats = pricesHere[id]?[update.tick].map { $0 == update.price }
                    ?? (ended[id]?.seenTicks ?? open[id]?.seenTicks)?.repeats(update.tick, price: update.price) ?? false
                if !repeats { return ClosedGameConflict(index: index, gameID: id, rugTick: rugTick) }
                continue
            }
            pricesHere[id, default: [:]][update.tick] = update.price
            if update.rugged { ruggedHere[id] = update.tick }
        }
        return nil
    }

    /// Whether an update of `events` is of a game whose rug was seen, before or earlier in `events`. Nearly every
    /// request updates none (a feed's rug is its game's last update): this pass looks each game up once per run of
    /// its updates, where the full check builds a table of the request's prices (3.5 % of batched ingest's CPU).
    private func updatesAClosedGame(_ events: [IngestEvent]) -> Bool {
        var ruggedHere: Set<String> = []
        var gameID: String?
        var closed = false
        for event in events {
            guard case .gameState(let update) = event else { continue }
            if update.gameID != gameID {
                gameID = update.gameID
                closed = ruggedHere.contains(update.gameID) || rugTickSeen(of: update.gameID) != nil
            }
            if closed { return true }
            if update.rugged {
                ruggedHere.insert(update.gameID)
                closed = true
            }
        }
        return false
    }

    /// The rug tick of an ended game whose rug was seen (not one whose end was inferred).
    private func rugTickSeen(of gameID: String) -> Int? {
        ended[gameID].flatMap { $0.record.rugged ? $0.record.endTick : nil }
    }

    /// Ends the running game, its end inferred at its last seen tick, when no update of it arrived since `cutoff`:
    /// a feed that stopped without a rug would otherwise leave the game, its predictions and side bets open.
    /// Returns the id of the game it ended.
    @discardableResult
    public mutating func endIdleGame(silentSince cutoff: Date, now: Date, into output: inout TrackerOutput) -> String? {
        guard let current = currentGameID, let last = currentGameLastUpdate, last <= cutoff else { return nil }
        finish(current, rugged: false, now: now, into: &output)
        return current
    }

    /// Takes the open game out of `open`, or a new one, for the caller to change and put back. Taken out, it is
    /// the only reference to its tables, so a change copies none of them: changed while `open` still held it, every
    /// tick copied the game's seen-tick table (up to 10,000 entries), and single-event ingest ran at a fraction of
    /// its speed.
    private mutating func takeOpenGame(_ gameID: String) -> OpenGame {
        if let game = open.removeValue(forKey: gameID) { return game }
        remember(gameID)
        return OpenGame()
    }

    private mutating func remember(_ gameID: String) {
        openOrder.append(gameID)
        // Bound memory: forget the oldest game that is not running (its records were already emitted).
        while openOrder.count > Self.maxOpenGames {
            guard let index = openOrder.firstIndex(where: { $0 != currentGameID }) else { break }
            open[openOrder.remove(at: index)] = nil
            forgottenOpenGames += 1
        }
    }

    /// Ends a game: resolves its predictions and side bets, emits the final record and its summary.
    private mutating func finish(_ gameID: String, rugged: Bool, now: Date, into output: inout TrackerOutput) {
        guard let game = open.removeValue(forKey: gameID), var record = game.record else { return }
        openOrder.removeAll { $0 == gameID }
        if currentGameID == gameID {
            currentGameID = nil
            currentGameLastUpdate = nil
        }
        // Without a seen rug the end is the last tick seen: outcomes resolved against it are marked inferred.
        let endInferred = !rugged
        let predictions = game.predictions.values
            .map { $0.resolved(actualEndTick: record.endTick, endInferred: endInferred) }
            .sorted { ($0.predictedAtTick, $0.modelVersion) < ($1.predictedAtTick, $1.modelVersion) }
        let sideBets = game.sideBets.values
            .map { $0.resolved(actualEndTick: record.endTick, windowTicks: rules.sideBetWindowTicks,
                               payoutMultiplier: rules.sideBetPayoutMultiplier, endInferred: endInferred) }
            .sorted { $0.placedAtTick < $1.placedAtTick }
        let withinOne = predictions.filter { $0.errorMetrics!.isWithin(windows: 1) }.count
        record.ended = true
        record.rugged = rugged
        record.predictionCount = predictions.count
        record.hadPredictions = !predictions.isEmpty
        record.predictionAccuracy = predictions.isEmpty ? nil : Double(withinOne) / Double(predictions.count)
        record.updatedAt = now
        output.predictions.append(contentsOf: predictions)
        output.sideBets.append(contentsOf: sideBets)
        output.upsertGame(record)
        output.finishedGames.append(GameSummary(game: record, predictions: predictions, sideBets: sideBets))

        ended[gameID] = EndedGame(
            record: record, seenTicks: game.seenTicks, withinOneWindow: withinOne,
            predictionWithin: Dictionary(uniqueKeysWithValues: predictions.map { ($0.id, $0.errorMetrics!.isWithin(windows: 1)) }),
            sideBetIsBet: Dictionary(uniqueKeysWithValues: sideBets.map { ($0.id, $0.recommendation == .bet) }))
        endedOrder.append(gameID)
        if endedOrder.count > Self.maxEndedGames {
            ended[endedOrder.removeFirst()] = nil
        }
    }
}
