import Foundation
import Testing
@testable import TEDCore

@Suite("EventDecoder: game_state")
struct EventDecoderGameStateTests {
    static func decodeGameState(_ template: EventTemplate) throws -> GameStateUpdate {
        guard case .gameState(let update) = try TestSupport.decode(template.json) else {
            throw DecodedOtherKind()
        }
        return update
    }

    struct DecodedOtherKind: Error {}

    @Test func minimalEventTakesDefaults() throws {
        let update = try Self.decodeGameState(.gameState)
        #expect(update.gameID == "g-1")
        #expect(update.tick == 10)
        #expect(update.price == 1.5)
        #expect(update.active == true)
        #expect(update.rugged == false)
        #expect(update.timestamp == TestSupport.receivedAt)
        #expect(update.features == nil)
        #expect(try TestSupport.decode(EventTemplate.gameState.json).kind == .gameState)
    }

    @Test func fullEvent() throws {
        let update = try Self.decodeGameState(EventTemplate.gameState
            .with("active", "false").with("rugged", "true")
            .with("timestamp", #""2026-01-02T03:04:05Z""#)
            .with("features", #"{"volatility": 0.25, "ticks_since_peak": 3, "is_late": true}"#)
            .with("relay_extra", #"{"anything": ["goes"]}"#))
        #expect(update.active == false)
        #expect(update.rugged == true)
        #expect(update.timestamp == Date(timeIntervalSince1970: 1_767_323_045))
        let features = try #require(update.features)
        #expect(features.keys == ["volatility", "ticks_since_peak", "is_late"])
        #expect(features["volatility"] == .double(0.25))
        #expect(features["ticks_since_peak"] == .int(3))
        #expect(features["is_late"] == .bool(true))
    }

    @Test func nullOptionalsTakeDefaults() throws {
        let update = try Self.decodeGameState(EventTemplate.gameState
            .with("active", "null").with("rugged", "null").with("timestamp", "null").with("features", "null"))
        #expect(update.active == true)
        #expect(update.rugged == false)
        #expect(update.timestamp == TestSupport.receivedAt)
        #expect(update.features == nil)
    }

    @Test func boundaryValuesAccepted() throws {
        #expect(try Self.decodeGameState(EventTemplate.gameState.with("tick", "0")).tick == 0)
        #expect(try Self.decodeGameState(EventTemplate.gameState.with("tick", "12.0")).tick == 12)
        #expect(try Self.decodeGameState(EventTemplate.gameState.with("tick", "2147483647")).tick == 2_147_483_647)
        #expect(try Self.decodeGameState(EventTemplate.gameState.with("price", "0")).price == 0)
        #expect(try Self.decodeGameState(EventTemplate.gameState.with("price", "0.0")).price == 0)
        #expect(try Self.decodeGameState(EventTemplate.gameState.with("price", "7")).price == 7)
        #expect(try Self.decodeGameState(EventTemplate.gameState.with("price", "1e300")).price == 1e300)
        #expect(try Self.decodeGameState(EventTemplate.gameState.with("features", "{}")).features == JSONObject())
    }

    @Test func gameIDLengthAndCharacters() throws {
        let id128 = String(repeating: "a", count: 128)
        #expect(try Self.decodeGameState(EventTemplate.gameState.with("game_id", "\"\(id128)\"")).gameID == id128)
        let allowed = "azAZ09-_.:"
        #expect(try Self.decodeGameState(EventTemplate.gameState.with("game_id", "\"\(allowed)\"")).gameID == allowed)
        #expect(try Self.decodeGameState(EventTemplate.gameState.with("game_id", "\"x\"")).gameID == "x")

        let id129 = String(repeating: "a", count: 129)
        let error = try #require(TestSupport.validationError(EventTemplate.gameState.with("game_id", "\"\(id129)\"").json))
        #expect(error.field == "game_id")
    }

    static let badFields: [BadField] = [
        BadField("type", nil), BadField("type", "5"), BadField("type", #""gamestate""#), BadField("type", #""GAME_STATE""#),
        BadField("type", #""""#),
        BadField("game_id", nil), BadField("game_id", "null"), BadField("game_id", "42"), BadField("game_id", #""""#),
        BadField("game_id", #""a b""#), BadField("game_id", #""a/b""#), BadField("game_id", #""gé""#),
        BadField("game_id", #""a\nb""#), BadField("game_id", #"["g"]"#), BadField("game_id", #""g;drop""#),
        BadField("tick", nil), BadField("tick", "null"), BadField("tick", #""10""#), BadField("tick", "-1"),
        BadField("tick", "1.5"), BadField("tick", "-1.0"), BadField("tick", "true"), BadField("tick", "2147483648"),
        BadField("tick", "1e10"), BadField("tick", "9223372036854775808"), BadField("tick", "{}"),
        BadField("price", nil), BadField("price", #""1.5""#), BadField("price", "-0.01"), BadField("price", "-1"),
        BadField("price", "true"), BadField("price", "[]"),
        BadField("active", #""yes""#), BadField("active", "1"), BadField("active", #""true""#),
        BadField("rugged", "0"), BadField("rugged", #""false""#), BadField("rugged", "{}"),
        BadField("timestamp", #""yesterday""#), BadField("timestamp", #""2026-02-30T00:00:00Z""#),
        BadField("timestamp", #""2026-01-02""#), BadField("timestamp", "true"), BadField("timestamp", "{}"),
        BadField("timestamp", "1767323045"), BadField("timestamp", "-1"), BadField("timestamp", "4102444800001"),
        BadField("features", "[]"), BadField("features", #""a=1""#), BadField("features", "5"),
        BadField("features", #"{"a": "x"}"#, field: "features.a"), BadField("features", #"{"ok": 1, "b": null}"#, field: "features.b"),
        BadField("features", #"{"c": [1]}"#, field: "features.c"), BadField("features", #"{"d": {"e": 1}}"#, field: "features.d"),
    ]

    @Test(arguments: badFields)
    func refusedFieldIsNamed(_ bad: BadField) throws {
        let json = bad.apply(to: .gameState).json
        let error = try #require(TestSupport.validationError(json, index: 7), "accepted \(json)")
        #expect(error.field == bad.expectedField)
        #expect(error.index == 7)
        #expect(error.description.hasPrefix("event 7: \(bad.expectedField) "))
        #expect(!error.message.isEmpty)
    }

    @Test func tooManyFeatures() throws {
        let entries = (0...EventDecoder.maxFeatureCount).map { "\"f\($0)\": \($0)" }.joined(separator: ",")
        let error = try #require(TestSupport.validationError(EventTemplate.gameState.with("features", "{\(entries)}").json))
        #expect(error.field == "features")
        let allowed = (0..<EventDecoder.maxFeatureCount).map { "\"f\($0)\": \($0)" }.joined(separator: ",")
        #expect(try Self.decodeGameState(EventTemplate.gameState.with("features", "{\(allowed)}")).features?.entries.count == 256)
    }

    @Test func eventThatIsNotAnObject() throws {
        for body in ["5", "[]", #""game_state""#, "null"] {
            let error = try #require(TestSupport.validationError(body, index: 3))
            #expect(error.index == 3)
            #expect(error.field == "")
        }
    }

    @Test func decodeEventsNamesTheFailingIndex() throws {
        let values = try [
            TestSupport.parse(EventTemplate.gameState.json),
            TestSupport.parse(EventTemplate.prediction.json),
            TestSupport.parse(EventTemplate.gameState.with("price", "-1").json),
            TestSupport.parse(EventTemplate.sideBet.json),
        ]
        do {
            _ = try EventDecoder().decodeEvents(values, receivedAt: TestSupport.receivedAt)
            Issue.record("accepted a negative price")
        } catch {
            #expect(error.index == 2)
            #expect(error.field == "price")
        }
        let good = try EventDecoder().decodeEvents(Array(values[0...1]) + [values[3]], receivedAt: TestSupport.receivedAt)
        #expect(good.map(\.kind) == [.gameState, .prediction, .sideBet])
        #expect(try EventDecoder().decodeEvents([], receivedAt: TestSupport.receivedAt).isEmpty)
    }
}

@Suite("EventDecoder: timestamps")
struct EventDecoderTimestampTests {
    static func timestamp(_ raw: String) throws -> Date {
        guard case .gameState(let update) = try TestSupport.decode(EventTemplate.gameState.with("timestamp", raw).json) else {
            throw EventDecoderGameStateTests.DecodedOtherKind()
        }
        return update.timestamp
    }

    @Test func isoText() throws {
        #expect(try Self.timestamp(#""2026-01-02T03:04:05Z""#) == Date(timeIntervalSince1970: 1_767_323_045))
        #expect(try Self.timestamp(#""2026-01-02T05:04:05+02:00""#) == Date(timeIntervalSince1970: 1_767_323_045))
        let millis = try Self.timestamp(#""2026-01-02T03:04:05.250Z""#)
        #expect(abs(millis.timeIntervalSince1970 - 1_767_323_045.25) < 1e-6)
    }

    @Test func epochMilliseconds() throws {
        let date = try Self.timestamp("1767323045123")
        #expect(abs(date.timeIntervalSince1970 - 1_767_323_045.123) < 1e-6)
        #expect(try Self.timestamp("1767323045000.0") == Date(timeIntervalSince1970: 1_767_323_045))
        // The accepted range: 2000-01-01 to 2100-01-01.
        #expect(try Self.timestamp("946684800000") == Date(timeIntervalSince1970: 946_684_800))
        #expect(try Self.timestamp("4102444800000") == Date(timeIntervalSince1970: 4_102_444_800))
    }

    @Test(arguments: ["946684799999", "4102444800001", "1767323045", "0", "-5", "1.7e20"])
    func epochOutOfRange(_ raw: String) throws {
        let error = try #require(TestSupport.validationError(EventTemplate.gameState.with("timestamp", raw).json))
        #expect(error.field == "timestamp")
    }
}

@Suite("EventDecoder: raw rugs gameStateUpdate")
struct RugsGameStateDecodingTests {
    static let payload = #"""
    {"gameId": "20260102-7f3a9c", "tickCount": 42, "price": 1.2345, "active": true, "rugged": false,
     "cooldownTimer": 0, "leaderboard": [{"id": "p1", "pnl": 0.5}], "gameHistory": [], "provablyFair": {"serverSeedHash": "ab"}}
    """#

    static func decode(_ json: String) throws -> GameStateUpdate {
        try EventDecoder().decodeRugsGameState(TestSupport.parse(json), index: 0, receivedAt: TestSupport.receivedAt)
    }

    static func error(_ json: String, index: Int = 0) throws -> ValidationError? {
        do {
            _ = try EventDecoder().decodeRugsGameState(TestSupport.parse(json), index: index, receivedAt: TestSupport.receivedAt)
            return nil
        } catch let error as ValidationError {
            return error
        }
    }

    @Test func decodesAndIgnoresOtherKeys() throws {
        let update = try Self.decode(Self.payload)
        #expect(update.gameID == "20260102-7f3a9c")
        #expect(update.tick == 42)
        #expect(update.price == 1.2345)
        #expect(update.active)
        #expect(!update.rugged)
        #expect(update.timestamp == TestSupport.receivedAt)
        #expect(update.features == nil)
    }

    @Test func ruggedAndDefaults() throws {
        let rugged = try Self.decode(#"{"gameId": "g", "tickCount": 0, "price": 0, "active": false, "rugged": true}"#)
        #expect(rugged.tick == 0)
        #expect(!rugged.active)
        #expect(rugged.rugged)
        let defaults = try Self.decode(#"{"gameId": "g", "tickCount": 5, "price": 1}"#)
        #expect(defaults.active)
        #expect(!defaults.rugged)
        let stamped = try Self.decode(#"{"gameId": "g", "tickCount": 5, "price": 1, "timestamp": 1767323045000}"#)
        #expect(stamped.timestamp == Date(timeIntervalSince1970: 1_767_323_045))
    }

    @Test func errorsNameTheRugsFields() throws {
        #expect(try Self.error(#"{"tickCount": 1, "price": 1}"#)?.field == "gameId")
        #expect(try Self.error(#"{"game_id": "g", "tickCount": 1, "price": 1}"#)?.field == "gameId")
        #expect(try Self.error(#"{"gameId": "g", "price": 1}"#)?.field == "tickCount")
        #expect(try Self.error(#"{"gameId": "g", "tickCount": -1, "price": 1}"#)?.field == "tickCount")
        #expect(try Self.error(#"{"gameId": "g", "tickCount": 1}"#)?.field == "price")
        #expect(try Self.error(#"{"gameId": "g", "tickCount": 1, "price": -2}"#)?.field == "price")
        #expect(try Self.error(#"{"gameId": "g", "tickCount": 1, "price": 1, "rugged": "yes"}"#)?.field == "rugged")
        #expect(try Self.error(#"{"gameId": "g", "tickCount": 1, "price": 1, "active": 0}"#)?.field == "active")
        #expect(try Self.error("[]", index: 4)?.index == 4)
    }
}
