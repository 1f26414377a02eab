import Foundation
import Testing
@testable import TEDCore

/// The merges every store implements: whatever order versions arrive in, the result is the same.
@Suite("Record merges commute")
struct RecordMergeTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// Versions of one game as a tracker emits them, plus partial ones (a restart in mid-game sees only a part).
    static func gameVersions() -> [GameRecord] {
        var versions: [GameRecord] = []
        let prices = [1.0, 1.4, 2.2, 1.9, 2.2, 3.1, 0.4]
        var game = GameRecord(first: GameStateUpdate(gameID: "g", tick: 0, price: prices[0], timestamp: t0), now: t0)
        for (tick, price) in prices.enumerated().dropFirst() {
            game.apply(GameStateUpdate(gameID: "g", tick: tick, price: price, timestamp: t0), now: t0.addingTimeInterval(Double(tick)))
            versions.append(game)
        }
        var secondHalf = GameRecord(first: GameStateUpdate(gameID: "g", tick: 4, price: 2.2, timestamp: t0), now: t0.addingTimeInterval(4))
        secondHalf.apply(GameStateUpdate(gameID: "g", tick: 6, price: 0.4, timestamp: t0), now: t0.addingTimeInterval(6))
        secondHalf.ended = true
        secondHalf.rugged = true
        secondHalf.ticksSeen = 2
        secondHalf.predictionCount = 2
        secondHalf.predictionAccuracy = 0.5
        versions.append(secondHalf)
        return versions
    }

    @Test func gameMergeIsOrderIndependentAndIdempotent() {
        let versions = Self.gameVersions()
        let reference = versions.dropFirst().reduce(versions[0]) { $0.merged(with: $1) }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let shuffled = versions.shuffled(using: &generator)
            let merged = shuffled.dropFirst().reduce(shuffled[0]) { $0.merged(with: $1) }
            #expect(merged == reference)
            #expect(merged.merged(with: shuffled[0]) == merged)
        }
        #expect(reference.startTick == 0)
        #expect(reference.endTick == 6)
        #expect(reference.finalPrice == 0.4)
        #expect(reference.peakPrice == 3.1)
        #expect(reference.peakTick == 5)
        #expect(reference.ended && reference.rugged)
        #expect(reference.predictionCount == 2)
        #expect(reference.predictionAccuracy == 0.5)
        #expect(reference.ticksSeen == 2)  // the larger count: a lower bound across processes
        #expect(reference.createdAt == Self.t0)
        #expect(reference.updatedAt == Self.t0.addingTimeInterval(6))
    }

    @Test func peakTieKeepsTheEarlierTickWhateverTheOrder() {
        var early = GameRecord(first: GameStateUpdate(gameID: "g", tick: 2, price: 5, timestamp: Self.t0), now: Self.t0)
        early.endTick = 2
        var late = GameRecord(first: GameStateUpdate(gameID: "g", tick: 9, price: 5, timestamp: Self.t0), now: Self.t0)
        late.endTick = 9
        #expect(early.merged(with: late).peakTick == 2)
        #expect(late.merged(with: early).peakTick == 2)
    }

    @Test func aSeenRugWinsOverAnInferredEndWhateverTheOrder() {
        var inferred = GameRecord(first: GameStateUpdate(gameID: "g", tick: 0, price: 1, timestamp: Self.t0), now: Self.t0)
        inferred.endTick = 50
        inferred.ended = true
        var rugged = inferred
        rugged.endTick = 52
        rugged.rugged = true
        var open = inferred
        open.ended = false
        #expect(inferred.endInferred && !rugged.endInferred && !open.endInferred)
        #expect(!inferred.merged(with: rugged).endInferred)
        #expect(!rugged.merged(with: inferred).endInferred)
        #expect(open.merged(with: inferred).endInferred)
        #expect(inferred.merged(with: open).endInferred)
    }

    @Test func anInferredOutcomeMergesWithItsFlag() {
        let placed = Prediction(gameID: "g", predictedAtTick: 3, predictedEndTick: 100, confidence: 0.5, timestamp: Self.t0, createdAt: Self.t0)
        let resolved = placed.resolved(actualEndTick: 60, endInferred: true)
        #expect(placed.merged(with: resolved).endInferred)
        #expect(resolved.merged(with: placed).endInferred)
        let bet = SideBet(gameID: "g", placedAtTick: 5, probability: 0.3, expectedValue: 0.1, confidence: 0.5,
                          recommendation: .bet, timestamp: Self.t0, createdAt: Self.t0)
        let settled = bet.resolved(actualEndTick: 30, windowTicks: 40, payoutMultiplier: 5, endInferred: true)
        #expect(bet.merged(with: settled) == settled)
        #expect(settled.merged(with: bet) == settled)
    }

    @Test func aResolvedPredictionNeverBecomesUnresolved() {
        let placed = Prediction(gameID: "g", predictedAtTick: 3, predictedEndTick: 100, confidence: 0.5, timestamp: Self.t0, createdAt: Self.t0)
        let resolved = placed.resolved(actualEndTick: 60)
        #expect(placed.merged(with: resolved) == resolved)
        #expect(resolved.merged(with: placed) == resolved)
        #expect(resolved.merged(with: resolved) == resolved)
    }

    @Test func aResolvedSideBetNeverBecomesUnresolved() {
        let placed = SideBet(gameID: "g", placedAtTick: 5, probability: 0.3, expectedValue: 0.1, confidence: 0.5,
                             recommendation: .bet, timestamp: Self.t0, createdAt: Self.t0)
        let resolved = placed.resolved(actualEndTick: 30, windowTicks: 40, payoutMultiplier: 5)
        #expect(placed.merged(with: resolved) == resolved)
        #expect(resolved.merged(with: placed) == resolved)
    }

    @Test func predictionIDsReadBackOneWayOnly() {
        let a = Prediction(gameID: "g", predictedAtTick: 1, predictedEndTick: 9, confidence: 0.5, modelVersion: "2:m",
                           timestamp: Self.t0, createdAt: Self.t0)
        let b = Prediction(gameID: "g:1", predictedAtTick: 2, predictedEndTick: 9, confidence: 0.5, modelVersion: "m",
                           timestamp: Self.t0, createdAt: Self.t0)
        let c = Prediction(gameID: "g", predictedAtTick: 1, predictedEndTick: 9, confidence: 0.5, modelVersion: "2%3Am",
                           timestamp: Self.t0, createdAt: Self.t0)
        #expect(a.id != b.id)
        #expect(a.id != c.id)
        #expect(b.id == "g:1:2:m")  // ids without `:` or `%` in the model are unchanged
    }
}

@Suite("EventDecoder: what no store can hold is refused at the door")
struct StorableFieldNameTests {
    static func prediction(_ featuresUsed: String) -> String {
        #"{"type":"prediction","game_id":"g","predicted_at_tick":1,"predicted_end_tick":9,"confidence":0.5,"features_used":"# + featuresUsed + "}"
    }

    static func gameState(_ features: String) -> String {
        #"{"type":"game_state","game_id":"g","tick":1,"price":1.5,"features":"# + features + "}"
    }

    @Test(arguments: [#"{"":1}"#, #"{"a\u0000b":1}"#, #"{"$gt":1}"#, #"{"a.b":1}"#, #"{"ok":{"$where":1}}"#,
                      #"{"ok":[{"x.y":1}]}"#, #"{"ok":"a\u0000"}"#,
                      // A `.` or `$` byte that a combining mark joins to the next character: MongoDB still refuses it.
                      #"{"a.\u0301b":1}"#, #"{"$\u0301x":1}"#])
    func refusedInFeaturesUsed(_ object: String) throws {
        let error = try #require(TestSupport.validationError(Self.prediction(object)))
        #expect(error.field.hasPrefix("features_used"))
    }

    @Test(arguments: [#"{"":1}"#, #"{"$x":1}"#, #"{"a.b":true}"#])
    func refusedInFeatures(_ object: String) throws {
        let error = try #require(TestSupport.validationError(Self.gameState(object)))
        #expect(error.field.hasPrefix("features"))
    }

    /// The error names the path down to the field at fault (built only when there is one).
    @Test(arguments: [(#"{"ok":{"$where":1}}"#, "features_used.ok.$where"), (#"{"ok":[{"x.y":1}]}"#, "features_used.ok"),
                      (#"{"a":{"b":{"c":"x\u0000"}}}"#, "features_used.a.b.c")])
    func theErrorNamesTheNestedField(_ object: String, field: String) throws {
        let error = try #require(TestSupport.validationError(Self.prediction(object)))
        #expect(error.field == field)
    }

    @Test func ordinaryNamesAreAccepted() {
        #expect(TestSupport.validationError(Self.prediction(#"{"price_slope":1.5,"nested":{"a_b":[1,2]},"x$":1}"#)) == nil)
        #expect(TestSupport.validationError(Self.gameState(#"{"velocity":1.5,"is_hot":true}"#)) == nil)
    }

    @Test func modelVersionWithNULIsRefused() throws {
        let json = #"{"type":"prediction","game_id":"g","predicted_at_tick":1,"predicted_end_tick":9,"confidence":0.5,"model_version":"a\u0000"}"#
        let error = try #require(TestSupport.validationError(json))
        #expect(error.field == "model_version")
    }
}
