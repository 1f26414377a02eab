import Foundation
import Testing
@testable import TEDCore

@Suite("JSONParser.parseLines (NDJSON)")
struct NDJSONParserTests {
    static func lines(_ text: String) throws(NDJSONError) -> [JSONValue] {
        try JSONParser.parseLines(Array(text.utf8))
    }

    static func lineError(_ text: String) -> NDJSONError? {
        do {
            _ = try lines(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func oneValuePerLine() throws {
        let values = try Self.lines("{\"a\":1}\n[2]\n\"x\"\n3")
        #expect(values == [
            .object(JSONObject([(key: "a", value: .int(1))])), .array([.int(2)]), .string("x"), .int(3),
        ])
    }

    @Test func blankLinesAndCRLFAreSkipped() throws {
        let values = try Self.lines("\n{\"a\":1}\r\n\r\n   \n\t\n{\"b\":2}\r\n\n")
        #expect(values.count == 2)
        #expect(values[0].objectValue?["a"] == .int(1))
        #expect(values[1].objectValue?["b"] == .int(2))
    }

    @Test func emptyAndBlankBodiesHaveNoValues() throws {
        #expect(try Self.lines("") == [])
        #expect(try Self.lines("\n\n \r\n") == [])
    }

    @Test func badLineReportsItsLineAndEventIndex() throws {
        // Lines: 0 `{}`, 1 blank, 2 `{}`, 3 blank, 4 bad.
        let error = try #require(Self.lineError("{}\n\n{}\n  \n{\"a\":\n{}\n"))
        #expect(error.line == 4)
        #expect(error.valueIndex == 2)
    }

    @Test func firstLineBad() throws {
        let error = try #require(Self.lineError("NaN\n{}"))
        #expect(error.line == 0)
        #expect(error.valueIndex == 0)
    }

    @Test func aValueCannotSpanLines() throws {
        let error = try #require(Self.lineError("[1,\n2]"))
        #expect(error.line == 0)
        #expect(error.valueIndex == 0)
    }

    @Test func trailingDataOnALine() throws {
        let error = try #require(Self.lineError("{}\n{} {}\n{}"))
        #expect(error.line == 1)
        #expect(error.valueIndex == 1)
        #expect(error.underlying.reason.contains("after"))
    }

    @Test func invalidUTF8OnALine() throws {
        var body = Array("{}\n{}\n".utf8)
        body += [0x22, 0xFF, 0x22, 0x0A]
        var caught: NDJSONError?
        do { _ = try JSONParser.parseLines(body) } catch { caught = error }
        let error = try #require(caught)
        #expect(error.line == 2)
        #expect(error.valueIndex == 2)
    }

    @Test func deepNestingOnALine() throws {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        let error = try #require(Self.lineError("{}\n" + deep))
        #expect(error.line == 1)
        #expect(error.valueIndex == 1)
    }

    @Test func errorOffsetIsRelativeToTheLine() throws {
        let error = try #require(Self.lineError("{}\n[1,]"))
        #expect(error.underlying.offset == 3)
    }
}

@Suite("IngestBody")
struct IngestBodyTests {
    static func events(_ text: String, ndjson: Bool = false, maxEvents: Int = 100) throws(IngestBody.Failure) -> [JSONValue] {
        try IngestBody.events(from: Array(text.utf8), ndjson: ndjson, maxEvents: maxEvents)
    }

    static func failure(_ text: String, ndjson: Bool = false, maxEvents: Int = 100) -> IngestBody.Failure? {
        do {
            _ = try events(text, ndjson: ndjson, maxEvents: maxEvents)
            return nil
        } catch {
            return error
        }
    }

    @Test func singleObjectIsOneEvent() throws {
        let values = try Self.events(#"{"type":"game_state"}"#)
        #expect(values.count == 1)
        #expect(values[0].objectValue?["type"] == .string("game_state"))
    }

    @Test func arrayIsItsElements() throws {
        let values = try Self.events(#"[{"a":1},{"a":2},{"a":3}]"#)
        #expect(values.map { $0.objectValue?["a"] } == [.int(1), .int(2), .int(3)])
        #expect(try Self.events("[]") == [])
    }

    @Test func arrayElementsAreNotCheckedHere() throws {
        // The decoder reports a non-object element with its index.
        #expect(try Self.events(#"[{"a":1}, 5]"#) == [.object(JSONObject([(key: "a", value: .int(1))])), .int(5)])
    }

    @Test func ndjsonBody() throws {
        let values = try Self.events("{\"a\":1}\n\n{\"a\":2}\n", ndjson: true)
        #expect(values.count == 2)
    }

    @Test func ndjsonBadLineNamesTheEvent() throws {
        let failure = try #require(Self.failure("{}\n\n{}\n{bad}\n", ndjson: true))
        guard case .malformed(let index, let reason) = failure else {
            Issue.record("expected .malformed, got \(failure)")
            return
        }
        #expect(index == 2)
        #expect(reason.contains("line 4"))
    }

    @Test func malformedDocumentHasNoIndex() throws {
        let failure = try #require(Self.failure(#"[{"a":1}, {"a":NaN}]"#))
        guard case .malformed(let index, let reason) = failure else {
            Issue.record("expected .malformed, got \(failure)")
            return
        }
        #expect(index == nil)
        #expect(reason.contains("malformed JSON"))
    }

    @Test func ndjsonBodyIsNotOneDocument() {
        // Two objects on two lines are not one JSON document.
        #expect(Self.failure("{}\n{}", ndjson: false) != nil)
    }

    @Test(arguments: [("42", "number"), (#""text""#, "string"), ("null", "null"), ("true", "boolean"), ("1.5", "number")])
    func scalarDocumentIsNotAnEvent(_ body: String, _ typeName: String) {
        #expect(Self.failure(body) == .notAnEvent(typeName: typeName))
    }

    @Test func eventLimit() throws {
        let three = #"[{},{},{}]"#
        #expect(try Self.events(three, maxEvents: 3).count == 3)
        #expect(Self.failure(three, maxEvents: 2) == .tooManyEvents(count: 3, limit: 2))
        #expect(Self.failure("{}\n{}\n{}\n", ndjson: true, maxEvents: 2) == .tooManyEvents(count: 3, limit: 2))
        #expect(try Self.events("{}\n\n\n{}\n", ndjson: true, maxEvents: 2).count == 2)
        #expect(try Self.events("{}", maxEvents: 1).count == 1)
    }
}
