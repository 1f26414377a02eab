import Foundation
import Testing
@testable import TEDCore

/// Shared helpers for the TEDCore tests.
enum TestSupport {
    /// 2026-01-01T00:00:00Z.
    static let newYear2026: TimeInterval = 1_767_225_600
    static let receivedAt = Date(timeIntervalSince1970: newYear2026 + 12_345)
    static let now = Date(timeIntervalSince1970: newYear2026 + 99_999)

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func parse(_ text: String) throws -> JSONValue {
        try JSONParser.parse(bytes(text))
    }

    /// The error of parsing `bytes`, or nil when it parsed.
    static func parseError(_ bytes: [UInt8]) -> JSONParseError? {
        do {
            _ = try JSONParser.parse(bytes)
            return nil
        } catch {
            return error
        }
    }

    static func parseError(_ text: String) -> JSONParseError? { parseError(bytes(text)) }

    static func decode(_ json: String, index: Int = 0) throws -> IngestEvent {
        let value = try parse(json)
        return try EventDecoder().decodeEvent(value, index: index, receivedAt: receivedAt)
    }

    /// The validation error of decoding `json`, or nil when it decoded. A JSON error fails the test.
    static func validationError(_ json: String, index: Int = 0, sourceLocation: SourceLocation = #_sourceLocation) -> ValidationError? {
        let value: JSONValue
        do {
            value = try parse(json)
        } catch {
            Issue.record("test input is not JSON: \(error)", sourceLocation: sourceLocation)
            return nil
        }
        do {
            _ = try EventDecoder().decodeEvent(value, index: index, receivedAt: receivedAt)
            return nil
        } catch {
            return error
        }
    }
}

/// An event as ordered key/raw-JSON pairs, to vary one field at a time.
struct EventTemplate: Sendable {
    var fields: [(key: String, raw: String)]

    init(_ fields: [(String, String)]) {
        self.fields = fields.map { (key: $0.0, raw: $0.1) }
    }

    func with(_ key: String, _ raw: String) -> EventTemplate {
        var copy = self
        if let index = copy.fields.firstIndex(where: { $0.key == key }) {
            copy.fields[index].raw = raw
        } else {
            copy.fields.append((key: key, raw: raw))
        }
        return copy
    }

    func without(_ key: String) -> EventTemplate {
        var copy = self
        copy.fields.removeAll { $0.key == key }
        return copy
    }

    var json: String {
        "{" + fields.map { "\"\($0.key)\":\($0.raw)" }.joined(separator: ",") + "}"
    }

    static let gameState = EventTemplate([
        ("type", "\"game_state\""), ("game_id", "\"g-1\""), ("tick", "10"), ("price", "1.5"),
    ])

    static let prediction = EventTemplate([
        ("type", "\"prediction\""), ("game_id", "\"g-1\""), ("predicted_at_tick", "100"),
        ("predicted_end_tick", "250"), ("confidence", "0.7"),
    ])

    static let sideBet = EventTemplate([
        ("type", "\"side_bet\""), ("game_id", "\"g-1\""), ("placed_at_tick", "100"), ("probability", "0.3"),
        ("expected_value", "0.5"), ("confidence", "0.6"), ("recommendation", "\"BET\""),
    ])
}

/// One refused field value: the field set to `raw` (nil: removed) must be reported as `expectedField`.
struct BadField: Sendable, CustomTestStringConvertible {
    var key: String
    var raw: String?
    var expectedField: String

    init(_ key: String, _ raw: String?, field: String? = nil) {
        self.key = key
        self.raw = raw
        self.expectedField = field ?? key
    }

    func apply(to template: EventTemplate) -> EventTemplate {
        if let raw { template.with(key, raw) } else { template.without(key) }
    }

    var testDescription: String { "\(key)=\(raw ?? "<missing>")" }
}
