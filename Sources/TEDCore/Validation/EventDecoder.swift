import Foundation

/// One accepted input event.
public enum IngestEvent: Sendable, Equatable {
    case gameState(GameStateUpdate)
    case prediction(Prediction)
    case sideBet(SideBet)

    public var kind: EventKind {
        switch self {
        case .gameState: .gameState
        case .prediction: .prediction
        case .sideBet: .sideBet
        }
    }
}

public enum EventKind: String, Sendable, CaseIterable {
    case gameState = "game_state"
    case prediction
    case sideBet = "side_bet"
}

/// Why an event was refused: which event of the request and which field.
public struct ValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var field: String
    public var message: String

    public init(index: Int, field: String, message: String) {
        self.index = index
        self.field = field
        self.message = message
    }

    public var description: String { "event \(index): \(field) \(message)" }
}

/// Turns parsed JSON into validated events. Unknown keys are ignored (relays add their own).
public struct EventDecoder: Sendable {
    public static let maxGameIDLength = 128
    public static let maxModelVersionLength = 128
    public static let maxFeatureCount = 256
    /// Epoch milliseconds accepted as a timestamp: 2000-01-01 up to 2100-01-01.
    static let epochMillisRange: ClosedRange<Double> = 946_684_800_000...4_102_444_800_000

    public init() {}

    /// Decodes the events of `/api/ingest`.
    public func decodeEvents(_ values: [JSONValue], receivedAt: Date) throws(ValidationError) -> [IngestEvent] {
        var events: [IngestEvent] = []
        events.reserveCapacity(values.count)
        for (index, value) in values.enumerated() {
            events.append(try decodeEvent(value, index: index, receivedAt: receivedAt))
        }
        return events
    }

    public func decodeEvent(_ value: JSONValue, index: Int, receivedAt: Date) throws(ValidationError) -> IngestEvent {
        let fields = try Fields(value, index: index)
        let type = try fields.requiredString("type")
        switch type {
        case EventKind.gameState.rawValue:
            return .gameState(try decodeGameState(fields, receivedAt: receivedAt))
        case EventKind.prediction.rawValue:
            return .prediction(try decodePrediction(fields, receivedAt: receivedAt))
        case EventKind.sideBet.rawValue:
            return .sideBet(try decodeSideBet(fields, receivedAt: receivedAt))
        default:
            throw fields.error("type", "must be one of game_state, prediction, side_bet (got \"\(type.prefix(64))\")")
        }
    }

    /// Decodes a raw rugs.fun `gameStateUpdate` payload (`gameId`, `tickCount`, `price`, `active`, `rugged`).
    public func decodeRugsGameState(_ value: JSONValue, index: Int, receivedAt: Date) throws(ValidationError) -> GameStateUpdate {
        let fields = try Fields(value, index: index)
        return GameStateUpdate(
            gameID: try fields.gameID("gameId"),
            tick: try fields.tick("tickCount"),
            price: try fields.price("price"),
            active: try fields.optionalBool("active") ?? true,
            rugged: try fields.optionalBool("rugged") ?? false,
            timestamp: try fields.timestamp("timestamp") ?? receivedAt)
    }

    func decodeGameState(_ fields: Fields, receivedAt: Date) throws(ValidationError) -> GameStateUpdate {
        GameStateUpdate(
            gameID: try fields.gameID("game_id"),
            tick: try fields.tick("tick"),
            price: try fields.price("price"),
            active: try fields.optionalBool("active") ?? true,
            rugged: try fields.optionalBool("rugged") ?? false,
            timestamp: try fields.timestamp("timestamp") ?? receivedAt,
            features: try fields.features("features"))
    }

    func decodePrediction(_ fields: Fields, receivedAt: Date) throws(ValidationError) -> Prediction {
        let gameID = try fields.gameID("game_id")
        let predictedAt = try fields.tick("predicted_at_tick")
        let predictedEnd = try fields.tick("predicted_end_tick")
        let confidence = try fields.unitInterval("confidence")
        var bounds: UncertaintyBounds?
        if let object = try fields.optionalObject("uncertainty_bounds") {
            let boundFields = Fields(object: object, index: fields.index, prefix: "uncertainty_bounds.")
            let lower = try boundFields.finite("lower")
            let upper = try boundFields.finite("upper")
            guard lower <= upper else { throw boundFields.error("lower", "must not exceed upper") }
            bounds = UncertaintyBounds(lower: lower, upper: upper)
        }
        let featuresUsed = try fields.optionalObject("features_used")
        let modelVersion = try fields.optionalString("model_version", maxLength: Self.maxModelVersionLength) ?? "unknown"
        guard !modelVersion.isEmpty else { throw fields.error("model_version", "must not be empty") }
        return Prediction(
            gameID: gameID, predictedAtTick: predictedAt, predictedEndTick: predictedEnd, confidence: confidence,
            uncertaintyBounds: bounds, featuresUsed: featuresUsed, modelVersion: modelVersion,
            timestamp: try fields.timestamp("timestamp") ?? receivedAt, createdAt: receivedAt)
    }

    func decodeSideBet(_ fields: Fields, receivedAt: Date) throws(ValidationError) -> SideBet {
        let gameID = try fields.gameID("game_id")
        let placedAt = try fields.tick("placed_at_tick")
        let probability = try fields.unitInterval("probability")
        let expectedValue = try fields.finite("expected_value")
        let confidence = try fields.unitInterval("confidence")
        let raw = try fields.requiredString("recommendation")
        let recommendation: Recommendation
        switch raw {
        case "BET", "PLACE_SIDE_BET": recommendation = .bet
        case "SKIP": recommendation = .skip
        case "WAIT": recommendation = .wait
        default: throw fields.error("recommendation", "must be one of BET, SKIP, WAIT (or PLACE_SIDE_BET)")
        }
        return SideBet(
            gameID: gameID, placedAtTick: placedAt, probability: probability, expectedValue: expectedValue,
            confidence: confidence, recommendation: recommendation,
            timestamp: try fields.timestamp("timestamp") ?? receivedAt, createdAt: receivedAt)
    }
}

/// Typed access to the fields of one event, producing errors that name the field.
struct Fields {
    let object: JSONObject
    let index: Int
    let prefix: String

    init(_ value: JSONValue, index: Int) throws(ValidationError) {
        guard case .object(let object) = value else {
            throw ValidationError(index: index, field: "", message: "each event must be a JSON object, got \(value.typeName)")
        }
        self.init(object: object, index: index, prefix: "")
    }

    init(object: JSONObject, index: Int, prefix: String) {
        self.object = object
        self.index = index
        self.prefix = prefix
    }

    func error(_ field: String, _ message: String) -> ValidationError {
        ValidationError(index: index, field: prefix + field, message: message)
    }

    func present(_ key: String) -> JSONValue? {
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    func required(_ key: String) throws(ValidationError) -> JSONValue {
        guard let value = present(key) else { throw error(key, "is required") }
        return value
    }

    func requiredString(_ key: String) throws(ValidationError) -> String {
        guard case .string(let string) = try required(key) else { throw error(key, "must be a string") }
        return string
    }

    func optionalString(_ key: String, maxLength: Int) throws(ValidationError) -> String? {
        guard let value = present(key) else { return nil }
        guard case .string(let string) = value else { throw error(key, "must be a string") }
        guard string.utf8.count <= maxLength else { throw error(key, "must be at most \(maxLength) characters") }
        guard !string.utf8.contains(0) else { throw error(key, "must not contain NUL") }
        return string
    }

    func gameID(_ key: String) throws(ValidationError) -> String {
        let id = try requiredString(key)
        guard !id.isEmpty, id.utf8.count <= EventDecoder.maxGameIDLength else {
            throw error(key, "must be 1 to \(EventDecoder.maxGameIDLength) characters")
        }
        for byte in id.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"):
                continue
            default:
                throw error(key, "may contain only letters, digits and - _ . :")
            }
        }
        return id
    }

    /// A tick: a whole number ≥ 0 (a JSON number with no fraction, like 12 or 12.0).
    func tick(_ key: String) throws(ValidationError) -> Int {
        switch try required(key) {
        case .int(let value):
            guard value >= 0 else { throw error(key, "must be ≥ 0") }
            guard value <= Int64(Int32.max) else { throw error(key, "is too large") }
            return Int(value)
        case .double(let value):
            guard value.rounded() == value else { throw error(key, "must be a whole number") }
            guard value >= 0 else { throw error(key, "must be ≥ 0") }
            guard value <= Double(Int32.max) else { throw error(key, "is too large") }
            return Int(value)
        default:
            throw error(key, "must be an integer")
        }
    }

    func finite(_ key: String) throws(ValidationError) -> Double {
        guard let number = try required(key).numberValue else { throw error(key, "must be a number") }
        return number  // the parser refuses NaN and Infinity
    }

    func price(_ key: String) throws(ValidationError) -> Double {
        let value = try finite(key)
        guard value >= 0 else { throw error(key, "must be ≥ 0") }
        return value
    }

    func unitInterval(_ key: String) throws(ValidationError) -> Double {
        let value = try finite(key)
        guard (0...1).contains(value) else { throw error(key, "must be between 0 and 1") }
        return value
    }

    func optionalBool(_ key: String) throws(ValidationError) -> Bool? {
        guard let value = present(key) else { return nil }
        guard case .bool(let bool) = value else { throw error(key, "must be true or false") }
        return bool
    }

    func optionalObject(_ key: String) throws(ValidationError) -> JSONObject? {
        guard let value = present(key) else { return nil }
        guard case .object(let object) = value else { throw error(key, "must be an object") }
        try storableKeys(object) { key }
        return object
    }

    /// Field names both stores can hold as they are: not empty, no NUL, not starting with `$` (MongoDB operators),
    /// no `.` (MongoDB paths). Checked at every depth, so no record the service accepts is refused by a store. Runs
    /// on every event with features: bytes are compared (a `$` or `.` byte is what MongoDB refuses, whatever
    /// follows it), and a field's path is built only for an error message (building it for every field was 2% of a
    /// single-event ingest). One pass over each name's contiguous bytes: two `utf8.contains` passes were 5 % of
    /// batched ingest's CPU (90 updates of ~10 features a body).
    private func storableKeys(_ object: JSONObject, path: () -> String) throws(ValidationError) {
        for entry in object.entries {
            var key = entry.key
            var first: UInt8?
            var hasNUL = false, hasDot = false
            key.withUTF8 { bytes in
                first = bytes.first
                for byte in bytes {
                    if byte == 0 { hasNUL = true } else if byte == UInt8(ascii: ".") { hasDot = true }
                }
            }
            guard let first else { throw error(path(), "field names must not be empty") }
            if hasNUL { throw error(path(), "field names must not contain NUL") }
            if first == UInt8(ascii: "$") { throw error("\(path()).\(key)", "field names must not start with $") }
            if hasDot { throw error(path(), "field name '\(key)' must not contain '.'") }
            try storableKeys(in: entry.value) { "\(path()).\(key)" }
        }
    }

    private func storableKeys(in value: JSONValue, path: () -> String) throws(ValidationError) {
        switch value {
        case .object(let object): try storableKeys(object, path: path)
        case .array(let items): for item in items { try storableKeys(in: item, path: path) }
        case .string(let text) where text.utf8.contains(0): throw error(path(), "text must not contain NUL")
        default: return
        }
    }

    /// An object whose values are numbers or booleans.
    func features(_ key: String) throws(ValidationError) -> JSONObject? {
        guard let object = try optionalObject(key) else { return nil }
        guard object.entries.count <= EventDecoder.maxFeatureCount else {
            throw error(key, "must have at most \(EventDecoder.maxFeatureCount) entries")
        }
        for entry in object.entries {
            switch entry.value {
            case .int, .double, .bool: continue
            default: throw error("\(key).\(entry.key)", "must be a number or a boolean")
            }
        }
        return object
    }

    /// ISO-8601 text or epoch milliseconds.
    func timestamp(_ key: String) throws(ValidationError) -> Date? {
        guard let value = present(key) else { return nil }
        switch value {
        case .string(let text):
            guard let date = Timestamp.parseISO8601(text) else { throw error(key, "must be ISO-8601 (e.g. 2026-01-02T03:04:05Z) or epoch milliseconds") }
            return date
        case .int, .double:
            let millis = value.numberValue!
            guard EventDecoder.epochMillisRange.contains(millis) else {
                throw error(key, "epoch milliseconds must be between years 2000 and 2100")
            }
            return Date(timeIntervalSince1970: millis / 1000)
        default:
            throw error(key, "must be ISO-8601 text or epoch milliseconds")
        }
    }
}
