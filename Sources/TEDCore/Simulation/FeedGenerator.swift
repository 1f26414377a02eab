import Foundation

/// A reproducible synthetic rugs.fun feed for `ted simulate`: the same configuration (seed and start time) always
/// gives the same events. Pure value type, no I/O.
///
/// One game runs at a time, one tick after another (a tick is `tickInterval` seconds of simulated time). Each game:
/// - its rug tick is drawn when it starts from a hazard rate `h(t) = baseHazard + hazardGrowth · t` (the chance
///   that the game rugs at tick `t ≥ 1`, given that it is still running);
/// - its price starts at 1.0 and follows a multiplicative random walk with drift
///   (`price · exp(drift − σ²/2 + σ·Z)`), and collapses on the rug tick;
/// - every tick but the last has one `game_state`, one `prediction` (`predicted_end_tick`: a noisy estimate of the
///   true rug tick whose noise shrinks as the rug approaches) and, at most once every `sideBetCooldownTicks` ticks,
///   one `side_bet` whose probability is a noisy estimate of the true chance of a rug within the side-bet window
///   and whose expected value is `probability · multiplier − 1` (BET when positive, else SKIP);
/// - the last tick is a `game_state` with `rugged: true, active: false`.
public struct FeedGenerator: Sendable {
    public struct Configuration: Sendable, Equatable {
        public var seed: UInt64
        /// Game ids are `<prefix>-<n>`, n from 1; default `sim-<seed in hex>`.
        public var gameIDPrefix: String?
        public var modelVersion = "sim-hazard-v1"
        /// Simulated time of the first tick; a whole number of milliseconds keeps timestamps exact.
        public var startTime = Date(timeIntervalSince1970: 1_767_225_600)
        public var tickInterval = 0.25
        public var baseHazard = 0.005
        public var hazardGrowth = 0.00002
        public var drift = 0.002
        public var volatility = 0.03
        /// A game that has not rugged by then rugs at this tick.
        public var maxGameTicks = 5_000
        public var sideBetCooldownTicks = 40
        public var sideBetWindowTicks = 40
        public var sideBetPayoutMultiplier = 5.0
        /// Chance of a side-bet signal on a tick once the cooldown has passed.
        public var sideBetChancePerTick = 0.2
        /// No side-bet signal before this tick of a game.
        public var firstSideBetTick = 5

        public init(seed: UInt64) {
            self.seed = seed
        }

        public var resolvedGameIDPrefix: String {
            gameIDPrefix ?? "sim-" + String(seed, radix: 16)
        }
    }

    public struct GameState: Sendable, Equatable {
        public var gameID: String
        public var tick: Int
        public var price: Double
        public var active: Bool
        public var rugged: Bool
        public var timestamp: Date
        public var logReturn: Double
        public var drawdown: Double
    }

    public struct PredictionSignal: Sendable, Equatable {
        public var gameID: String
        public var predictedAtTick: Int
        public var predictedEndTick: Int
        public var confidence: Double
        public var lower: Double
        public var upper: Double
        public var modelVersion: String
        public var price: Double
        public var timestamp: Date
    }

    public struct SideBetSignal: Sendable, Equatable {
        public var gameID: String
        public var placedAtTick: Int
        public var probability: Double
        public var expectedValue: Double
        public var confidence: Double
        /// "BET" or "SKIP".
        public var recommendation: String
        public var timestamp: Date
    }

    public enum Event: Sendable, Equatable {
        case gameState(GameState)
        case prediction(PredictionSignal)
        case sideBet(SideBetSignal)

        public var gameID: String {
            switch self {
            case .gameState(let e): e.gameID
            case .prediction(let e): e.gameID
            case .sideBet(let e): e.gameID
            }
        }

        /// The event as `/api/ingest` takes it.
        public var json: JSONValue {
            switch self {
            case .gameState(let e):
                return [
                    "type": "game_state", "game_id": .string(e.gameID), "tick": JSONValue(e.tick), "price": .double(e.price),
                    "active": .bool(e.active), "rugged": .bool(e.rugged), "timestamp": FeedGenerator.millis(e.timestamp),
                    "features": ["log_return": .double(e.logReturn), "drawdown": .double(e.drawdown)],
                ]
            case .prediction(let e):
                return [
                    "type": "prediction", "game_id": .string(e.gameID), "predicted_at_tick": JSONValue(e.predictedAtTick),
                    "predicted_end_tick": JSONValue(e.predictedEndTick), "confidence": .double(e.confidence),
                    "uncertainty_bounds": ["lower": .double(e.lower), "upper": .double(e.upper)],
                    "features_used": ["tick": JSONValue(e.predictedAtTick), "price": .double(e.price)],
                    "model_version": .string(e.modelVersion), "timestamp": FeedGenerator.millis(e.timestamp),
                ]
            case .sideBet(let e):
                return [
                    "type": "side_bet", "game_id": .string(e.gameID), "placed_at_tick": JSONValue(e.placedAtTick),
                    "probability": .double(e.probability), "expected_value": .double(e.expectedValue),
                    "confidence": .double(e.confidence), "recommendation": .string(e.recommendation),
                    "timestamp": FeedGenerator.millis(e.timestamp),
                ]
            }
        }

        /// The event as `/api/game-state` takes it (a raw rugs.fun `gameStateUpdate`); nil for other events.
        public var rugsGameStateJSON: JSONValue? {
            guard case .gameState(let e) = self else { return nil }
            return [
                "gameId": .string(e.gameID), "tickCount": JSONValue(e.tick), "price": .double(e.price),
                "active": .bool(e.active), "rugged": .bool(e.rugged), "timestamp": FeedGenerator.millis(e.timestamp),
            ]
        }
    }

    struct Game: Sendable {
        var id: String
        var tick = 0
        var rugTick: Int
        var price = 1.0
        var peak = 1.0
        var lastSideBetTick: Int?
    }

    public let configuration: Configuration
    private var random: Xoshiro256StarStar
    private var game: Game?
    /// Ticks generated so far, over all games (the simulated clock).
    public private(set) var ticksGenerated = 0
    public private(set) var gamesStarted = 0
    public private(set) var gamesFinished = 0

    public init(configuration: Configuration) {
        self.configuration = configuration
        self.random = Xoshiro256StarStar(seed: configuration.seed)
    }

    public init(seed: UInt64) {
        self.init(configuration: Configuration(seed: seed))
    }

    /// The events of the next tick: a `game_state`, then a `prediction` and maybe a `side_bet` (none on the rug tick).
    /// A new game starts on the tick after a rug.
    public mutating func nextTick() -> [Event] {
        let c = configuration
        var current = game ?? startGame()
        let now = c.startTime.addingTimeInterval(Double(ticksGenerated) * c.tickInterval)
        ticksGenerated += 1

        var logReturn = 0.0
        if current.tick > 0 {
            let sigma = c.volatility
            logReturn = c.drift - sigma * sigma / 2 + sigma * random.nextGaussian()
            current.price = Self.round(current.price * exp(logReturn), places: 6)
            current.peak = max(current.peak, current.price)
        }
        let rugged = current.tick == current.rugTick
        if rugged {
            // The rug: the price collapses to a small fraction of what it was.
            current.price = max(Self.round(current.price * random.nextDouble(in: 0.001...0.02), places: 8), 1e-8)
        }
        var events: [Event] = [.gameState(GameState(
            gameID: current.id, tick: current.tick, price: current.price, active: !rugged, rugged: rugged, timestamp: now,
            logReturn: Self.round(logReturn, places: 6), drawdown: Self.round(1 - current.price / current.peak, places: 6)))]

        if rugged {
            gamesFinished += 1
            game = nil
            return events
        }
        events.append(.prediction(prediction(for: current, at: now)))
        if let sideBet = sideBet(for: &current, at: now) {
            events.append(.sideBet(sideBet))
        }
        current.tick += 1
        game = current
        return events
    }

    /// Events of whole ticks until at least `count` events are collected (a tick is never split).
    public mutating func next(atLeast count: Int) -> [Event] {
        var events: [Event] = []
        while events.count < count { events += nextTick() }
        return events
    }

    /// The hazard at tick `t` of a game: the chance it rugs at `t` given it is still running.
    public func hazard(atTick t: Int) -> Double {
        min(1, configuration.baseHazard + configuration.hazardGrowth * Double(t))
    }

    /// The chance that a game running at tick `t` (and not rugged there) rugs within the side-bet window, that is
    /// at a tick up to `t + window − 1`.
    public func rugProbabilityWithinWindow(afterTick t: Int) -> Double {
        var survival = 1.0
        let last = t + configuration.sideBetWindowTicks - 1
        guard last > t else { return 0 }
        for k in (t + 1)...last {
            if k >= configuration.maxGameTicks { return 1 }
            survival *= 1 - hazard(atTick: k)
        }
        return 1 - survival
    }

    private mutating func startGame() -> Game {
        gamesStarted += 1
        var rugTick = configuration.maxGameTicks
        for t in 1..<configuration.maxGameTicks where random.nextDouble() < hazard(atTick: t) {
            rugTick = t
            break
        }
        return Game(id: "\(configuration.resolvedGameIDPrefix)-\(gamesStarted)", rugTick: rugTick)
    }

    private mutating func prediction(for game: Game, at now: Date) -> PredictionSignal {
        let remaining = Double(game.rugTick - game.tick)
        let sigma = max(3, 0.35 * remaining)
        let estimate = max(game.tick + 1, Int((Double(game.rugTick) + sigma * random.nextGaussian()).rounded()))
        let half = (1.645 * sigma).rounded()
        return PredictionSignal(
            gameID: game.id, predictedAtTick: game.tick, predictedEndTick: estimate,
            confidence: Self.round(min(0.99, max(0.05, 1 / (1 + sigma / 40))), places: 4),
            lower: max(Double(game.tick), Double(estimate) - half), upper: Double(estimate) + half,
            modelVersion: configuration.modelVersion, price: game.price, timestamp: now)
    }

    private mutating func sideBet(for game: inout Game, at now: Date) -> SideBetSignal? {
        let c = configuration
        guard game.tick >= c.firstSideBetTick else { return nil }
        if let last = game.lastSideBetTick, game.tick - last < c.sideBetCooldownTicks { return nil }
        guard random.nextDouble() < c.sideBetChancePerTick else { return nil }
        let truth = rugProbabilityWithinWindow(afterTick: game.tick)
        let probability = Self.round(min(0.999, max(0.001, truth * exp(0.2 * random.nextGaussian()))), places: 4)
        let expectedValue = Self.round(probability * c.sideBetPayoutMultiplier - 1, places: 4)
        game.lastSideBetTick = game.tick
        return SideBetSignal(
            gameID: game.id, placedAtTick: game.tick, probability: probability, expectedValue: expectedValue,
            confidence: Self.round(random.nextDouble(in: 0.5...0.95), places: 4),
            recommendation: expectedValue > 0 ? "BET" : "SKIP", timestamp: now)
    }

    static func millis(_ date: Date) -> JSONValue {
        .int(Int64((date.timeIntervalSince1970 * 1000).rounded()))
    }

    static func round(_ value: Double, places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (value * scale).rounded() / scale
    }
}

/// xoshiro256** seeded through SplitMix64: small, fast and the same on every platform (unlike the system RNG).
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable, Equatable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var splitMix = seed
        func next() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (next(), next(), next(), next())
    }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }

    /// Uniform in [0, 1), 53 bits.
    public mutating func nextDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    public mutating func nextDouble(in range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * nextDouble()
    }

    /// Standard normal (Box–Muller; one value per call, so the stream does not depend on cached state).
    public mutating func nextGaussian() -> Double {
        let u1 = max(nextDouble(), 0x1.0p-53)
        let u2 = nextDouble()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.s.0 == rhs.s.0 && lhs.s.1 == rhs.s.1 && lhs.s.2 == rhs.s.2 && lhs.s.3 == rhs.s.3
    }
}
