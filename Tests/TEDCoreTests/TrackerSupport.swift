import Foundation
import Testing
@testable import TEDCore

/// Builders for the tracker tests.
enum TrackerFixtures {
    static let t0 = Date(timeIntervalSince1970: TestSupport.newYear2026)

    static func at(_ tick: Int) -> Date { t0.addingTimeInterval(Double(tick) * 0.25) }

    static func state(_ gameID: String, _ tick: Int, _ price: Double, rugged: Bool = false) -> GameStateUpdate {
        GameStateUpdate(gameID: gameID, tick: tick, price: price, active: !rugged, rugged: rugged, timestamp: at(tick))
    }

    static func prediction(_ gameID: String, at tick: Int, end: Int, model: String = "m1") -> Prediction {
        Prediction(gameID: gameID, predictedAtTick: tick, predictedEndTick: end, confidence: 0.8,
                   modelVersion: model, timestamp: at(tick), createdAt: at(tick))
    }

    static func sideBet(_ gameID: String, at tick: Int, _ recommendation: Recommendation = .bet) -> SideBet {
        SideBet(gameID: gameID, placedAtTick: tick, probability: 0.25, expectedValue: 0.1, confidence: 0.7,
                recommendation: recommendation, timestamp: at(tick), createdAt: at(tick))
    }

    static func tracker(window: Int = 40, multiplier: Double = 5, sampleEvery: Int = 1) -> GameTracker {
        GameTracker(rules: OutcomeRules(sideBetWindowTicks: window, sideBetPayoutMultiplier: multiplier, sampleEveryTicks: sampleEvery))
    }
}

extension GameTracker {
    /// Applies the updates `ticks` of one game (price = 1 + tick/100) and returns the combined output.
    mutating func run(_ gameID: String, ticks: some Sequence<Int>, ruggedAt rugTick: Int? = nil) -> TrackerOutput {
        var output = TrackerOutput()
        for tick in ticks {
            apply(TrackerFixtures.state(gameID, tick, 1 + Double(tick) / 100, rugged: tick == rugTick),
                  now: TrackerFixtures.at(tick), into: &output)
        }
        return output
    }

    mutating func applying(_ event: IngestEvent, now: Date = TrackerFixtures.t0) -> TrackerOutput {
        var output = TrackerOutput()
        apply(event, now: now, into: &output)
        return output
    }
}
