import Foundation

/// One `game_state` event: the price of a game at a tick.
public struct GameStateUpdate: Sendable, Equatable {
    public var gameID: String
    public var tick: Int
    public var price: Double
    public var active: Bool
    public var rugged: Bool
    public var timestamp: Date
    /// Numbers and booleans only (validated).
    public var features: JSONObject?

    public init(gameID: String, tick: Int, price: Double, active: Bool = true, rugged: Bool = false,
                timestamp: Date, features: JSONObject? = nil) {
        self.gameID = gameID
        self.tick = tick
        self.price = price
        self.active = active
        self.rugged = rugged
        self.timestamp = timestamp
        self.features = features
    }
}

/// How far a prediction of the rug tick was from the actual rug tick.
public struct PredictionErrorMetrics: Sendable, Equatable {
    /// Width of one window, in ticks.
    public static let windowTicks = 40

    public var rawError: Int
    public var e40: Double
    public var absoluteError: Int
    /// The smallest k with |raw_error| ≤ 40·k, i.e. ⌈|raw_error|/40⌉ (0 only for an exact hit), so that
    /// `withinWindows <= k` exactly when `isWithin(windows: k)`.
    public var withinWindows: Int

    public init(predictedEndTick: Int, actualEndTick: Int) {
        rawError = predictedEndTick - actualEndTick
        e40 = Double(rawError) / Double(Self.windowTicks)
        absoluteError = abs(rawError)
        withinWindows = (absoluteError + Self.windowTicks - 1) / Self.windowTicks
    }

    /// Within `k` windows means |raw_error| ≤ 40·k ticks (the one definition used everywhere).
    public func isWithin(windows k: Int) -> Bool { absoluteError <= Self.windowTicks * k }
}

public struct UncertaintyBounds: Sendable, Equatable {
    public var lower: Double
    public var upper: Double

    public init(lower: Double, upper: Double) {
        self.lower = lower
        self.upper = upper
    }
}

/// A model's prediction of the tick at which a game will rug.
public struct Prediction: Sendable, Equatable {
    public var gameID: String
    public var predictedAtTick: Int
    public var predictedEndTick: Int
    public var confidence: Double
    public var uncertaintyBounds: UncertaintyBounds?
    public var featuresUsed: JSONObject?
    public var modelVersion: String
    public var timestamp: Date
    public var createdAt: Date
    public var actualEndTick: Int?
    public var errorMetrics: PredictionErrorMetrics?
    /// Resolved against an end that was never seen (`GameRecord.endInferred`): kept out of accuracy by default.
    public var endInferred = false

    public init(gameID: String, predictedAtTick: Int, predictedEndTick: Int, confidence: Double,
                uncertaintyBounds: UncertaintyBounds? = nil, featuresUsed: JSONObject? = nil,
                modelVersion: String = "unknown", timestamp: Date, createdAt: Date) {
        self.gameID = gameID
        self.predictedAtTick = predictedAtTick
        self.predictedEndTick = predictedEndTick
        self.confidence = confidence
        self.uncertaintyBounds = uncertaintyBounds
        self.featuresUsed = featuresUsed
        self.modelVersion = modelVersion
        self.timestamp = timestamp
        self.createdAt = createdAt
    }

    /// The natural key: one prediction per game, tick and model. The model version is the one part that may hold
    /// `:` beside the game id, so its `%` and `:` are escaped: the key reads back one way only (game `g`, tick 1,
    /// model `2:m` and game `g:1`, tick 2, model `m` would otherwise share one). Versions without them are unchanged.
    public var id: String { "\(gameID):\(predictedAtTick):\(Self.escapedKeyPart(modelVersion))" }

    static func escapedKeyPart(_ part: String) -> String {
        guard part.contains(where: { $0 == ":" || $0 == "%" }) else { return part }
        return part.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: ":", with: "%3A")
    }

    public var isResolved: Bool { actualEndTick != nil }

    /// The prediction with its outcome, once the game's end is known (or inferred).
    public func resolved(actualEndTick: Int, endInferred: Bool = false) -> Prediction {
        var copy = self
        copy.actualEndTick = actualEndTick
        copy.endInferred = endInferred
        copy.errorMetrics = PredictionErrorMetrics(predictedEndTick: predictedEndTick, actualEndTick: actualEndTick)
        return copy
    }
}

public enum Recommendation: String, Sendable, Equatable {
    case bet = "BET"
    case skip = "SKIP"
    case wait = "WAIT"
}

public enum SideBetResult: String, Sendable, Equatable {
    case won = "WON"
    case lost = "LOST"
    /// Placed at or after the rug tick: betting had closed, so nothing was won or lost.
    case void = "VOID"
}

/// A side-bet signal: "the game rugs within the next window".
public struct SideBet: Sendable, Equatable {
    public var gameID: String
    public var placedAtTick: Int
    public var probability: Double
    public var expectedValue: Double
    public var confidence: Double
    public var recommendation: Recommendation
    public var timestamp: Date
    public var createdAt: Date
    public var actualEndTick: Int?
    public var actualOutcome: SideBetResult?
    /// Net result in stake units; only for `BET`.
    public var payout: Double?
    /// Resolved against an end that was never seen (`GameRecord.endInferred`): kept out of ROI by default.
    public var endInferred = false

    public init(gameID: String, placedAtTick: Int, probability: Double, expectedValue: Double, confidence: Double,
                recommendation: Recommendation, timestamp: Date, createdAt: Date) {
        self.gameID = gameID
        self.placedAtTick = placedAtTick
        self.probability = probability
        self.expectedValue = expectedValue
        self.confidence = confidence
        self.recommendation = recommendation
        self.timestamp = timestamp
        self.createdAt = createdAt
    }

    public var id: String { "\(gameID):\(placedAtTick)" }

    public var isResolved: Bool { actualOutcome != nil }

    /// VOID when placed at or after the rug tick (betting closes at the rug: a BET's stake comes back, payout 0);
    /// otherwise won when the game ended at or before the last tick of the window that starts at `placedAtTick`.
    public func resolved(actualEndTick: Int, windowTicks: Int, payoutMultiplier: Double, endInferred: Bool = false) -> SideBet {
        var copy = self
        copy.actualEndTick = actualEndTick
        copy.endInferred = endInferred
        let outcome: SideBetResult
        if placedAtTick >= actualEndTick {
            outcome = .void
        } else {
            outcome = actualEndTick <= placedAtTick + windowTicks - 1 ? .won : .lost
        }
        copy.actualOutcome = outcome
        guard recommendation == .bet else { return copy }
        switch outcome {
        case .won: copy.payout = payoutMultiplier - 1
        case .lost: copy.payout = -1
        case .void: copy.payout = 0
        }
        return copy
    }
}

/// One sampled tick of a game.
public struct TickSample: Sendable, Equatable {
    public var gameID: String
    public var tick: Int
    public var price: Double
    public var features: JSONObject?
    public var timestamp: Date
    public var createdAt: Date

    public init(gameID: String, tick: Int, price: Double, features: JSONObject?, timestamp: Date, createdAt: Date) {
        self.gameID = gameID
        self.tick = tick
        self.price = price
        self.features = features
        self.timestamp = timestamp
        self.createdAt = createdAt
    }

    public var id: String { "\(gameID):\(tick)" }
}

/// A game as derived from its `game_state` updates.
public struct GameRecord: Sendable, Equatable {
    public var gameID: String
    public var startTick: Int
    public var endTick: Int
    public var peakPrice: Double
    public var peakTick: Int
    public var finalPrice: Double
    public var ended: Bool
    public var rugged: Bool
    public var hadPredictions: Bool
    public var predictionCount: Int
    public var predictionAccuracy: Double?
    public var sideBetsPlaced: Int
    /// Distinct ticks this process saw of the game (the tracker counts them).
    public var ticksSeen: Int
    public var createdAt: Date
    public var updatedAt: Date

    public init(first update: GameStateUpdate, now: Date) {
        gameID = update.gameID
        startTick = update.tick
        endTick = update.tick
        peakPrice = update.price
        peakTick = update.tick
        finalPrice = update.price
        ended = false
        rugged = false
        hadPredictions = false
        predictionCount = 0
        sideBetsPlaced = 0
        ticksSeen = 0
        createdAt = now
        updatedAt = now
    }

    public init(gameID: String, startTick: Int, endTick: Int, peakPrice: Double, peakTick: Int, finalPrice: Double,
                ended: Bool, rugged: Bool, hadPredictions: Bool, predictionCount: Int, predictionAccuracy: Double?,
                sideBetsPlaced: Int, createdAt: Date, updatedAt: Date, ticksSeen: Int = 0) {
        self.gameID = gameID
        self.startTick = startTick
        self.endTick = endTick
        self.peakPrice = peakPrice
        self.peakTick = peakTick
        self.finalPrice = finalPrice
        self.ended = ended
        self.rugged = rugged
        self.hadPredictions = hadPredictions
        self.predictionCount = predictionCount
        self.predictionAccuracy = predictionAccuracy
        self.sideBetsPlaced = sideBetsPlaced
        self.ticksSeen = ticksSeen
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public var id: String { gameID }
    /// Games start at tick 0 (rugs.fun counts from there), so a game that ended at tick N lasted N + 1 ticks,
    /// however late this process joined it.
    public var durationTicks: Int { endTick + 1 }
    /// The lowest tick seen: above 0 when this process joined the game after it started. `startTick` holds the same
    /// value, kept under its old name for compatibility.
    public var firstTickSeen: Int { startTick }
    /// The share of the game's ticks seen, 0–1: below 1 when joined mid-game or when updates were missed.
    public var completeness: Double { Double(ticksSeen) / Double(endTick + 1) }
    /// Ended without a `rugged: true` ever seen (closed by another game's update, or by an idle feed): the end tick
    /// is the last tick seen, not a known rug. Derived, so it merges like `ended` and `rugged` do: a seen rug wins.
    public var endInferred: Bool { ended && !rugged }

    /// Folds one more update of this game in.
    public mutating func apply(_ update: GameStateUpdate, now: Date) {
        if update.tick < startTick { startTick = update.tick }
        if update.tick >= endTick {
            endTick = update.tick
            finalPrice = update.price
        }
        if update.price > peakPrice {
            peakPrice = update.price
            peakTick = update.tick
        }
        updatedAt = now
    }
}
