import Foundation
import Testing
@testable import TEDCore

@Suite("EventDecoder: prediction")
struct EventDecoderPredictionTests {
    static func decodePrediction(_ template: EventTemplate) throws -> Prediction {
        guard case .prediction(let prediction) = try TestSupport.decode(template.json) else {
            throw EventDecoderGameStateTests.DecodedOtherKind()
        }
        return prediction
    }

    @Test func minimalEventTakesDefaults() throws {
        let prediction = try Self.decodePrediction(.prediction)
        #expect(prediction.gameID == "g-1")
        #expect(prediction.predictedAtTick == 100)
        #expect(prediction.predictedEndTick == 250)
        #expect(prediction.confidence == 0.7)
        #expect(prediction.uncertaintyBounds == nil)
        #expect(prediction.featuresUsed == nil)
        #expect(prediction.modelVersion == "unknown")
        #expect(prediction.timestamp == TestSupport.receivedAt)
        #expect(prediction.createdAt == TestSupport.receivedAt)
        #expect(prediction.actualEndTick == nil)
        #expect(prediction.errorMetrics == nil)
        #expect(!prediction.isResolved)
        #expect(prediction.id == "g-1:100:unknown")
    }

    @Test func fullEvent() throws {
        let prediction = try Self.decodePrediction(EventTemplate.prediction
            .with("uncertainty_bounds", #"{"lower": 200, "upper": 310.5}"#)
            .with("features_used", #"{"volatility": 0.2, "notes": "free form", "nested": {"a": [1]}}"#)
            .with("model_version", #""xgb-2026.01""#)
            .with("timestamp", "1767323045000"))
        #expect(prediction.uncertaintyBounds == UncertaintyBounds(lower: 200, upper: 310.5))
        #expect(prediction.featuresUsed?.keys == ["volatility", "notes", "nested"])
        #expect(prediction.modelVersion == "xgb-2026.01")
        #expect(prediction.timestamp == Date(timeIntervalSince1970: 1_767_323_045))
        #expect(prediction.createdAt == TestSupport.receivedAt)
        #expect(prediction.id == "g-1:100:xgb-2026.01")
    }

    @Test func boundaryValuesAccepted() throws {
        #expect(try Self.decodePrediction(EventTemplate.prediction.with("confidence", "0")).confidence == 0)
        #expect(try Self.decodePrediction(EventTemplate.prediction.with("confidence", "1")).confidence == 1)
        #expect(try Self.decodePrediction(EventTemplate.prediction.with("confidence", "1.0")).confidence == 1)
        #expect(try Self.decodePrediction(EventTemplate.prediction.with("predicted_at_tick", "0")).predictedAtTick == 0)
        #expect(try Self.decodePrediction(EventTemplate.prediction.with("predicted_end_tick", "0")).predictedEndTick == 0)
        // An end before the tick of the prediction is the model's business, not a validation error.
        #expect(try Self.decodePrediction(EventTemplate.prediction.with("predicted_end_tick", "50")).predictedEndTick == 50)
        let equalBounds = try Self.decodePrediction(EventTemplate.prediction.with("uncertainty_bounds", #"{"lower": 5, "upper": 5}"#))
        #expect(equalBounds.uncertaintyBounds == UncertaintyBounds(lower: 5, upper: 5))
        let negativeBounds = try Self.decodePrediction(EventTemplate.prediction.with("uncertainty_bounds", #"{"lower": -3.5, "upper": 0}"#))
        #expect(negativeBounds.uncertaintyBounds == UncertaintyBounds(lower: -3.5, upper: 0))
        let version128 = String(repeating: "v", count: 128)
        #expect(try Self.decodePrediction(EventTemplate.prediction.with("model_version", "\"\(version128)\"")).modelVersion == version128)
        #expect(try Self.decodePrediction(EventTemplate.prediction.with("model_version", "null")).modelVersion == "unknown")
        #expect(try Self.decodePrediction(EventTemplate.prediction.with("features_used", "{}")).featuresUsed == JSONObject())
        let id128 = String(repeating: "p", count: 128)
        #expect(try Self.decodePrediction(EventTemplate.prediction.with("game_id", "\"\(id128)\"")).gameID == id128)
    }

    static let badFields: [BadField] = [
        BadField("game_id", nil), BadField("game_id", #""""#), BadField("game_id", "\"\(String(repeating: "a", count: 129))\""),
        BadField("game_id", #""a,b""#), BadField("game_id", "1"),
        BadField("predicted_at_tick", nil), BadField("predicted_at_tick", "-1"), BadField("predicted_at_tick", "0.5"),
        BadField("predicted_at_tick", #""100""#),
        BadField("predicted_end_tick", nil), BadField("predicted_end_tick", "-1"), BadField("predicted_end_tick", "250.25"),
        BadField("predicted_end_tick", "false"),
        BadField("confidence", nil), BadField("confidence", "-0.0001"), BadField("confidence", "1.0001"),
        BadField("confidence", "2"), BadField("confidence", "-1"), BadField("confidence", #""0.5""#), BadField("confidence", "true"),
        BadField("uncertainty_bounds", "[1, 2]"), BadField("uncertainty_bounds", "5"), BadField("uncertainty_bounds", #""1-2""#),
        BadField("uncertainty_bounds", #"{"upper": 2}"#, field: "uncertainty_bounds.lower"),
        BadField("uncertainty_bounds", #"{"lower": 1}"#, field: "uncertainty_bounds.upper"),
        BadField("uncertainty_bounds", #"{"lower": "1", "upper": 2}"#, field: "uncertainty_bounds.lower"),
        BadField("uncertainty_bounds", #"{"lower": 1, "upper": true}"#, field: "uncertainty_bounds.upper"),
        BadField("uncertainty_bounds", #"{"lower": 3, "upper": 2}"#, field: "uncertainty_bounds.lower"),
        BadField("features_used", "[]"), BadField("features_used", "1"), BadField("features_used", #""x""#),
        BadField("model_version", "1"), BadField("model_version", #""""#), BadField("model_version", "{}"),
        BadField("model_version", "\"\(String(repeating: "v", count: 129))\""),
        BadField("timestamp", #""2026-13-01T00:00:00Z""#), BadField("timestamp", #""now""#), BadField("timestamp", "12"),
        BadField("timestamp", "[]"),
    ]

    @Test(arguments: badFields)
    func refusedFieldIsNamed(_ bad: BadField) throws {
        let json = bad.apply(to: .prediction).json
        let error = try #require(TestSupport.validationError(json, index: 1), "accepted \(json)")
        #expect(error.field == bad.expectedField)
        #expect(error.index == 1)
    }
}

@Suite("EventDecoder: side_bet")
struct EventDecoderSideBetTests {
    static func decodeSideBet(_ template: EventTemplate) throws -> SideBet {
        guard case .sideBet(let sideBet) = try TestSupport.decode(template.json) else {
            throw EventDecoderGameStateTests.DecodedOtherKind()
        }
        return sideBet
    }

    @Test func decodes() throws {
        let sideBet = try Self.decodeSideBet(.sideBet)
        #expect(sideBet.gameID == "g-1")
        #expect(sideBet.placedAtTick == 100)
        #expect(sideBet.probability == 0.3)
        #expect(sideBet.expectedValue == 0.5)
        #expect(sideBet.confidence == 0.6)
        #expect(sideBet.recommendation == .bet)
        #expect(sideBet.timestamp == TestSupport.receivedAt)
        #expect(sideBet.createdAt == TestSupport.receivedAt)
        #expect(sideBet.actualOutcome == nil)
        #expect(sideBet.actualEndTick == nil)
        #expect(sideBet.payout == nil)
        #expect(!sideBet.isResolved)
        #expect(sideBet.id == "g-1:100")
    }

    @Test(arguments: [("BET", Recommendation.bet), ("PLACE_SIDE_BET", .bet), ("SKIP", .skip), ("WAIT", .wait)])
    func recommendations(_ raw: String, _ expected: Recommendation) throws {
        #expect(try Self.decodeSideBet(EventTemplate.sideBet.with("recommendation", "\"\(raw)\"")).recommendation == expected)
    }

    @Test func boundaryValuesAccepted() throws {
        #expect(try Self.decodeSideBet(EventTemplate.sideBet.with("placed_at_tick", "0")).placedAtTick == 0)
        #expect(try Self.decodeSideBet(EventTemplate.sideBet.with("probability", "0")).probability == 0)
        #expect(try Self.decodeSideBet(EventTemplate.sideBet.with("probability", "1")).probability == 1)
        #expect(try Self.decodeSideBet(EventTemplate.sideBet.with("confidence", "0")).confidence == 0)
        #expect(try Self.decodeSideBet(EventTemplate.sideBet.with("confidence", "1")).confidence == 1)
        #expect(try Self.decodeSideBet(EventTemplate.sideBet.with("expected_value", "-0.95")).expectedValue == -0.95)
        #expect(try Self.decodeSideBet(EventTemplate.sideBet.with("expected_value", "0")).expectedValue == 0)
        #expect(try Self.decodeSideBet(EventTemplate.sideBet.with("expected_value", "12.5")).expectedValue == 12.5)
        #expect(try Self.decodeSideBet(EventTemplate.sideBet.with("expected_value", "-3")).expectedValue == -3)
        let stamped = try Self.decodeSideBet(EventTemplate.sideBet.with("timestamp", #""2026-01-02T03:04:05.000Z""#))
        #expect(stamped.timestamp == Date(timeIntervalSince1970: 1_767_323_045))
    }

    static let badFields: [BadField] = [
        BadField("game_id", nil), BadField("game_id", #""g 1""#), BadField("game_id", "\"\(String(repeating: "b", count: 129))\""),
        BadField("placed_at_tick", nil), BadField("placed_at_tick", "-1"), BadField("placed_at_tick", "3.5"),
        BadField("placed_at_tick", #""3""#),
        BadField("probability", nil), BadField("probability", "-0.01"), BadField("probability", "1.01"),
        BadField("probability", #""0.3""#),
        BadField("expected_value", nil), BadField("expected_value", #""1""#), BadField("expected_value", "false"),
        BadField("expected_value", "null"),
        BadField("confidence", nil), BadField("confidence", "1.5"), BadField("confidence", "-0.5"), BadField("confidence", "[]"),
        BadField("recommendation", nil), BadField("recommendation", #""HOLD""#), BadField("recommendation", #""""#),
        BadField("recommendation", "1"), BadField("recommendation", "true"), BadField("recommendation", #""BET ""#),
        BadField("timestamp", #""2026-02-29T00:00:00Z""#), BadField("timestamp", "false"),
    ]

    @Test(arguments: badFields)
    func refusedFieldIsNamed(_ bad: BadField) throws {
        let json = bad.apply(to: .sideBet).json
        let error = try #require(TestSupport.validationError(json, index: 5), "accepted \(json)")
        #expect(error.field == bad.expectedField)
        #expect(error.index == 5)
    }

    @Test func unknownTypeIsRefused() throws {
        let error = try #require(TestSupport.validationError(EventTemplate.sideBet.with("type", #""sidebet""#).json))
        #expect(error.field == "type")
        #expect(error.message.contains("sidebet"))
    }
}
