import Foundation
import TEDCore
import Testing
@testable import TEDStore

/// `Document` ↔ canonical Extended JSON v2: every type round-trips exactly, the text is the canonical one, and bad
/// input is a `.corrupt` error naming where it is.
@Suite struct ExtendedJSONTests {
    static let sample: Document = [
        "_id": "g-1",
        "name": "tick \"42\"\n\u{1}é",
        "empty": "",
        "flag": true,
        "off": false,
        "nothing": .null,
        "i32": .int32(-2_147_483_648),
        "i32max": .int32(2_147_483_647),
        "i64": .int64(9_223_372_036_854_775_807),
        "i64min": .int64(-9_223_372_036_854_775_808),
        "d": .double(1.5),
        "whole": .double(5.0),
        "tiny": .double(.leastNonzeroMagnitude),
        "huge": .double(1.7976931348623157e308),
        "third": .double(1.0 / 3.0),
        "negzero": .double(-0.0),
        "inf": .double(.infinity),
        "ninf": .double(-.infinity),
        "at": .date(Date(timeIntervalSince1970: 1_700_000_000.123)),
        "before1970": .date(Date(timeIntervalSince1970: -86_400.5)),
        "nested": .document(["a": .array([.int32(1), .string("x"), .document(["deep": .array([.array([.null])])])]), "b": .document([:])]),
        "list": .array([]),
        "$types": "a field named like the SQLite annotation is an ordinary field here",
    ]

    @Test func everyTypeRoundTripsExactlyThroughText() throws {
        let json = try ExtendedJSON.encode(Self.sample)
        let text = json.serialized
        let back = try ExtendedJSON.decodeDocument(text: text)
        #expect(back == Self.sample)
        #expect(back.keys == Self.sample.keys)
        // -0.0 == 0.0 for ==: check the sign survived.
        #expect(back["negzero"]?.doubleValue?.sign == .minus)
        // Dates come back to the millisecond, as both stores keep them.
        #expect(back["at"]?.dateValue == Date(timeIntervalSince1970: 1_700_000_000.123))
    }

    @Test func nanRoundTrips() throws {
        let back = try ExtendedJSON.decodeDocument(text: try ExtendedJSON.encode(["x": .double(.nan)] as Document).serialized)
        #expect(back["x"]?.doubleValue?.isNaN == true)
    }

    @Test(arguments: [
        (DocumentValue.int32(1), #"{"$numberInt":"1"}"#),
        (.int32(-7), #"{"$numberInt":"-7"}"#),
        (.int64(1), #"{"$numberLong":"1"}"#),
        (.int64(-9_223_372_036_854_775_808), #"{"$numberLong":"-9223372036854775808"}"#),
        (.double(1.5), #"{"$numberDouble":"1.5"}"#),
        (.double(1.0), #"{"$numberDouble":"1.0"}"#),
        (.double(1e20), #"{"$numberDouble":"1e+20"}"#),
        (.double(-0.0), #"{"$numberDouble":"-0.0"}"#),
        (.double(.infinity), #"{"$numberDouble":"Infinity"}"#),
        (.double(-.infinity), #"{"$numberDouble":"-Infinity"}"#),
        (.double(.nan), #"{"$numberDouble":"NaN"}"#),
        (.date(Date(timeIntervalSince1970: 1_700_000_000.5)), #"{"$date":{"$numberLong":"1700000000500"}}"#),
        (.date(Date(timeIntervalSince1970: -1.5)), #"{"$date":{"$numberLong":"-1500"}}"#),
        (.string("a\"b"), #""a\"b""#),
        (.bool(true), "true"),
        (.null, "null"),
        (.array([.int32(1), .bool(false)]), #"[{"$numberInt":"1"},false]"#),
        (.document(["k": .int64(2)]), #"{"k":{"$numberLong":"2"}}"#),
    ])
    func canonicalForms(value: DocumentValue, text: String) throws {
        #expect(try ExtendedJSON.encode(value).serializedString == text)
        let decoded = try ExtendedJSON.decodeValue(JSONParser.parse(Array(text.utf8)))
        if case .double(let d) = value, d.isNaN {
            #expect(decoded.doubleValue?.isNaN == true)
        } else {
            #expect(decoded == value)
        }
    }

    @Test func documentFieldOrderIsKept() throws {
        let document: Document = ["z": 1, "a": 2, "m": 3]
        #expect(try ExtendedJSON.encode(document).serializedString
                == #"{"z":{"$numberLong":"1"},"a":{"$numberLong":"2"},"m":{"$numberLong":"3"}}"#)
    }

    @Test(arguments: [
        (#"{"n": 1}"#, "Extended JSON at n: bare JSON number 1"),
        (#"{"n": 1.5}"#, "Extended JSON at n: bare JSON number"),
        (#"{"a": [true, 2]}"#, "Extended JSON at a.1: bare JSON number"),
        (#"{"n": {"$numberInt": "2147483648"}}"#, "$numberInt needs a string holding a 32-bit integer"),
        (#"{"n": {"$numberInt": 1}}"#, "$numberInt needs a string holding a 32-bit integer, found 1"),
        (#"{"n": {"$numberInt": "01"}}"#, "$numberInt needs a string"),
        (#"{"n": {"$numberInt": " 1"}}"#, "$numberInt needs a string"),
        (#"{"n": {"$numberLong": "9223372036854775808"}}"#, "$numberLong needs a string holding a 64-bit integer"),
        (#"{"n": {"$numberLong": "1.0"}}"#, "$numberLong needs a string"),
        (#"{"n": {"$numberDouble": "inf"}}"#, "$numberDouble needs a string"),
        (#"{"n": {"$numberDouble": "nan"}}"#, "$numberDouble needs a string"),
        (#"{"n": {"$numberDouble": "0x1p3"}}"#, "$numberDouble needs a string"),
        (#"{"n": {"$numberDouble": "1e999"}}"#, "$numberDouble needs a string"),
        (#"{"n": {"$numberDouble": 1.5}}"#, "$numberDouble needs a string"),
        (#"{"n": {"$numberDouble": ""}}"#, "$numberDouble needs a string"),
        (#"{"n": {"$numberInt": "1", "x": 2}}"#, "$numberInt must be the only key of its object"),
        (#"{"n": {"x": 2, "$date": {"$numberLong": "1"}}}"#, "$date must be the only key of its object"),
        (#"{"t": {"$date": "2024-01-01T00:00:00Z"}}"#, "$date must be {\"$numberLong\": \"<milliseconds>\"}"),
        (#"{"t": {"$date": {"$numberLong": 5}}}"#, "$date.$numberLong needs a string"),
        (#"{"t": {"$date": {"$numberInt": "5"}}}"#, "$date must be"),
        (#"{"_id": {"$oid": "5f0c0e0e0e0e0e0e0e0e0e0e"}}"#, "Extended JSON at _id: Extended JSON type $oid is not supported"),
        (#"{"x": {"$numberDecimal": "1.0"}}"#, "$numberDecimal is not supported"),
        (#"[1]"#, "expected a document (JSON object), found array"),
        (#"{"n": {"$numberInt": "1"}"#, "malformed JSON"),
    ])
    func badInputIsCorrupt(text: String, message: String) {
        #expect {
            _ = try ExtendedJSON.decodeDocument(text: Array(text.utf8))
        } throws: { error in
            guard let error = error as? StoreError else { return false }
            return error.kind == .corrupt && error.message.contains(message)
        }
    }

    @Test func aTopLevelWrapperIsNotADocument() {
        #expect(throws: StoreError.self) { try ExtendedJSON.decodeDocument(text: Array(#"{"$numberInt": "1"}"#.utf8)) }
    }

    @Test func aFieldNamedLikeAWrapperCannotBeEncoded() {
        #expect {
            _ = try ExtendedJSON.encode(["a": .document(["$date": 1])] as Document)
        } throws: { error in
            (error as? StoreError)?.kind == .corrupt && "\(error)".contains("a.$date")
        }
    }

    @Test func recordsOfTheServiceRoundTrip() throws {
        // The shapes RecordCoding writes: ints as int64, prices as doubles, dates.
        let document: Document = [
            "_id": "t-1-5", "game_id": "1", "tick": .int64(5), "price": .double(1.0234), "created_at": .date(Date(timeIntervalSince1970: 1_700_000_123.456)),
            "error_metrics": .document(["e40": .double(0.25), "n": .int64(3)]),
        ]
        #expect(try ExtendedJSON.decodeDocument(ExtendedJSON.encode(document)) == document)
    }
}
