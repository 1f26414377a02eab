import Foundation
import Testing
@testable import TEDCore

@Suite("JSONParser: valid documents")
struct JSONParserValidTests {
    @Test func literals() throws {
        #expect(try TestSupport.parse("null") == .null)
        #expect(try TestSupport.parse("true") == .bool(true))
        #expect(try TestSupport.parse("false") == .bool(false))
        #expect(try TestSupport.parse(" \t\r\n true \n") == .bool(true))
    }

    @Test func integersStayIntegers() throws {
        #expect(try TestSupport.parse("0") == .int(0))
        #expect(try TestSupport.parse("-0") == .int(0))
        #expect(try TestSupport.parse("7") == .int(7))
        #expect(try TestSupport.parse("-123") == .int(-123))
        #expect(try TestSupport.parse("1234567890") == .int(1_234_567_890))
    }

    @Test func fractionsAndExponentsAreDoubles() throws {
        #expect(try TestSupport.parse("12.0") == .double(12))
        #expect(try TestSupport.parse("1.5") == .double(1.5))
        #expect(try TestSupport.parse("-0.25") == .double(-0.25))
        #expect(try TestSupport.parse("1e2") == .double(100))
        #expect(try TestSupport.parse("1E2") == .double(100))
        #expect(try TestSupport.parse("1e+2") == .double(100))
        #expect(try TestSupport.parse("-1.5e-3") == .double(-0.0015))
        #expect(try TestSupport.parse("0.1") == .double(0.1))
        #expect(try TestSupport.parse("1e308") == .double(1e308))
        #expect(try TestSupport.parse("5e-324") == .double(Double.leastNonzeroMagnitude))
    }

    @Test func bigIntegers() throws {
        #expect(try TestSupport.parse("9223372036854775807") == .int(Int64.max))
        #expect(try TestSupport.parse("-9223372036854775807") == .int(-Int64.max))
        #expect(try TestSupport.parse("-9223372036854775808") == .int(Int64.min))
        #expect(try TestSupport.parse("-1000000000000000000") == .int(-1_000_000_000_000_000_000))
        // Beyond Int64: a Double, not a wrapped integer.
        #expect(try TestSupport.parse("9223372036854775808") == .double(9_223_372_036_854_775_808))
        #expect(try TestSupport.parse("-9223372036854775809") == .double(-9_223_372_036_854_775_808))
        #expect(try TestSupport.parse("123456789012345678901234567890") == .double(1.2345678901234568e29))
    }

    @Test func numberValueAndTypeName() throws {
        #expect(JSONValue.int(3).numberValue == 3)
        #expect(JSONValue.double(2.5).numberValue == 2.5)
        #expect(JSONValue.string("3").numberValue == nil)
        #expect(JSONValue.bool(true).numberValue == nil)
        #expect(JSONValue.int(1).typeName == "number")
        #expect(JSONValue.double(1).typeName == "number")
        #expect(JSONValue.null.typeName == "null")
        #expect(JSONValue.bool(false).typeName == "boolean")
        #expect(JSONValue.string("").typeName == "string")
        #expect(JSONValue.array([]).typeName == "array")
        #expect(JSONValue.object(JSONObject()).typeName == "object")
    }

    @Test func strings() throws {
        #expect(try TestSupport.parse(#""""#) == .string(""))
        #expect(try TestSupport.parse(#""hello world""#) == .string("hello world"))
        #expect(try TestSupport.parse("\"é日本😀\"") == .string("é日本😀"))
        #expect(try TestSupport.parse("\"tab\u{7F}del\"") == .string("tab\u{7F}del"))
    }

    @Test func simpleEscapes() throws {
        #expect(try TestSupport.parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{08}\u{0C}\n\r\t"))
        #expect(try TestSupport.parse(#""a\nb""#) == .string("a\nb"))
        #expect(try TestSupport.parse(#""\\""#) == .string("\\"))
        #expect(try TestSupport.parse(#""x\"""#) == .string("x\""))
    }

    @Test func unicodeEscapes() throws {
        #expect(try TestSupport.parse(#""\u0041""#) == .string("A"))
        #expect(try TestSupport.parse(#""\u00e9\u00E9""#) == .string("éé"))
        #expect(try TestSupport.parse(#""\u65e5\u672C""#) == .string("日本"))
        #expect(try TestSupport.parse(#""\u0000""#) == .string("\u{0}"))
        #expect(try TestSupport.parse(#""\uFFFF""#) == .string("\u{FFFF}"))
        // Escapes mixed with raw multi-byte text.
        #expect(try TestSupport.parse(#""é\u0041日""#) == .string("éA日"))
    }

    @Test func surrogatePairs() throws {
        #expect(try TestSupport.parse(#""\uD83D\uDE00""#) == .string("😀"))
        #expect(try TestSupport.parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try TestSupport.parse(#""\uD800\uDC00""#) == .string("\u{10000}"))
        #expect(try TestSupport.parse(#""\uDBFF\uDFFF""#) == .string("\u{10FFFF}"))
        #expect(try TestSupport.parse(#""a\uD83D\uDE00b""#) == .string("a😀b"))
    }

    @Test func arrays() throws {
        #expect(try TestSupport.parse("[]") == .array([]))
        #expect(try TestSupport.parse("[ ]") == .array([]))
        #expect(try TestSupport.parse(#"[1, 2.5, "x", true, null, [], {}]"#)
            == .array([.int(1), .double(2.5), .string("x"), .bool(true), .null, .array([]), .object(JSONObject())]))
        #expect(try TestSupport.parse("[\n1\n,\n2\n]") == .array([.int(1), .int(2)]))
    }

    @Test func objectsKeepKeyOrder() throws {
        let value = try TestSupport.parse(#"{"b": 1, "a": {"c": [true]}, "": null}"#)
        let object = try #require(value.objectValue)
        #expect(object.keys == ["b", "a", ""])
        #expect(object["b"] == .int(1))
        #expect(object["a"] == .object(JSONObject([(key: "c", value: .array([.bool(true)]))])))
        #expect(object[""] == .null)
        #expect(object["missing"] == nil)
        #expect(try TestSupport.parse("{}") == .object(JSONObject()))
        #expect(try TestSupport.parse("{ }") == .object(JSONObject()))
    }

    @Test func escapedKeys() throws {
        let object = try #require(try TestSupport.parse(#"{"k\u0065y": 1, "a\"b": 2}"#).objectValue)
        #expect(object.keys == ["key", "a\"b"])
    }

    @Test func objectEqualityIsOrderSensitive() throws {
        let ab = try TestSupport.parse(#"{"a":1,"b":2}"#)
        let ba = try TestSupport.parse(#"{"b":2,"a":1}"#)
        #expect(ab == (try TestSupport.parse(#"{ "a" : 1 , "b" : 2 }"#)))
        #expect(ab != ba)
        #expect(ab != (try TestSupport.parse(#"{"a":1}"#)))
    }

    @Test func acceptsAnyByteCollection() throws {
        let expected = JSONValue.array([.int(1), .int(2)])
        #expect(try JSONParser.parse(Data("[1,2]".utf8)) == expected)
        #expect(try JSONParser.parse("[1,2]".utf8) == expected)
        #expect(try JSONParser.parse(Array("xx[1,2]".utf8)[2...]) == expected)
        // No contiguous storage: the parser copies.
        #expect(try JSONParser.parse(Array("]2,1[".utf8).reversed()) == expected)
    }

    @Test func nestingUpToTheLimit() throws {
        let depth = JSONParser.maxDepth
        #expect(depth == 64)
        let arrays = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(throws: Never.self) { try TestSupport.parse(arrays) }
        let objects = String(repeating: #"{"a":"#, count: depth - 1) + "{}" + String(repeating: "}", count: depth - 1)
        #expect(throws: Never.self) { try TestSupport.parse(objects) }
        // Siblings do not add depth.
        let wide = "[" + Array(repeating: "[[1]]", count: 1000).joined(separator: ",") + "]"
        #expect(throws: Never.self) { try TestSupport.parse(wide) }
    }
}

@Suite("JSONParser: malformed input")
struct JSONParserMalformedTests {
    static let malformed: [String] = [
        "", " ", "\n\t",
        "NaN", "nan", "-NaN", "Infinity", "-Infinity", "+Infinity", "inf", "[NaN]", #"{"a": Infinity}"#,
        "+1", "01", "-01", "00", "0123", "1.", ".5", "-.5", "1e", "1e+", "1E-", "-", "--1", "0x10", "1.2.3", "1e2e3",
        "tru", "trUe", "True", "nul", "NULL", "fals", "t", "undefined",
        "[", "]", "{", "}", "[1", "[1,", "[1,]", "[,1]", "[1 2]", "[1,,2]", "{,}",
        #"{"a"}"#, #"{"a":}"#, #"{"a" 1}"#, #"{"a":1,}"#, #"{"a":1 "b":2}"#, "{a:1}", "{'a':1}", "{1:1}", #"{"a":1]"#, #"[1}"#,
        #""abc"#, #""abc\"#, #""abc\""#, "\"", #""\u12""#, #""\u12G4""#, #""\uZZZZ""#, #""\x41""#, #""\a""#, #""\'""#,
        #""\uD83D""#, #""\uD83Dx""#, #""\uD83D\u0041""#, #""\uD83D\uD83D""#, #""\uDE00""#, #""\uDE00\uD83D""#,
        "\"a\u{01}b\"", "\"line\nbreak\"", "\"tab\there\"", "\"nul\u{0}\"",
        "'single'", "/* comment */ 1", "// c\n1", "[1] // c",
        "[1]x", "{} {}", "1 2", "\"a\" \"b\"", "[1]]", #"{"a":1}}"#, "null,", "true false",
    ]

    @Test(arguments: malformed)
    func refused(_ text: String) {
        #expect(TestSupport.parseError(text) != nil, "accepted \(text.debugDescription)")
    }

    @Test func trailingDataIsReportedAtItsOffset() throws {
        let error = try #require(TestSupport.parseError(#"{"a":1} x"#))
        #expect(error.offset == 8)
        #expect(error.reason.contains("after"))
        #expect(error.description.hasPrefix("malformed JSON at byte 8"))
    }

    @Test func errorOffsets() throws {
        #expect(try #require(TestSupport.parseError("[1,]")).offset == 3)
        #expect(try #require(TestSupport.parseError("NaN")).offset == 0)
        #expect(try #require(TestSupport.parseError("  [01]")).offset == 4)
        #expect(try #require(TestSupport.parseError("")).offset == 0)
    }

    @Test func numbersOutOfDoubleRange() throws {
        for text in ["1e400", "-1e400", "[1e309]", String(repeating: "9", count: 400)] {
            let error = TestSupport.parseError(text)
            #expect(error != nil, "accepted \(text.prefix(20))")
            #expect(error?.reason == "number out of range")
        }
        // Underflow is not an error: it rounds to zero.
        #expect(try TestSupport.parse("1e-400") == .double(0))
    }

    static let invalidUTF8: [[UInt8]] = [
        [0x22, 0xFF, 0x22],                    // never valid
        [0x22, 0xFE, 0x22],
        [0x22, 0xC3, 0x22],                    // truncated 2-byte sequence
        [0x22, 0xE6, 0x97, 0x22],              // truncated 3-byte sequence
        [0x22, 0x80, 0x22],                    // lone continuation byte
        [0x22, 0xC0, 0xAF, 0x22],              // overlong "/"
        [0x22, 0xE0, 0x80, 0xAF, 0x22],        // overlong 3-byte
        [0x22, 0xED, 0xA0, 0x80, 0x22],        // UTF-8 encoded surrogate U+D800
        [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],  // above U+10FFFF
        [0x22, 0x5C, 0x6E, 0xFF, 0x22],        // invalid byte in a string that also has an escape
        [0x22, 0xC3, 0x5C, 0x6E, 0x22],        // truncated sequence before an escape
        [0xFF],                                // outside any string
        [0x5B, 0xC3, 0xA9, 0x5D],              // valid UTF-8 but not a JSON token
        [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D],  // invalid key
    ]

    @Test(arguments: invalidUTF8)
    func invalidUTF8IsRefused(_ bytes: [UInt8]) {
        #expect(TestSupport.parseError(bytes) != nil, "accepted \(bytes)")
    }

    @Test func invalidUTF8InAStringIsNamedAsSuch() throws {
        let error = try #require(TestSupport.parseError([0x5B, 0x22, 0x61, 0xFF, 0x22, 0x5D]))
        #expect(error.reason.contains("UTF-8"))
    }

    @Test func nestingBeyondTheLimit() throws {
        let depth = JSONParser.maxDepth + 1
        let arrays = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let error = try #require(TestSupport.parseError(arrays))
        #expect(error.reason.contains("nesting"))
        let objects = String(repeating: #"{"a":"#, count: depth - 1) + "{}" + String(repeating: "}", count: depth - 1)
        #expect(TestSupport.parseError(objects) != nil)
        let mixed = String(repeating: #"[{"a":"#, count: 33) + "1" + String(repeating: "}]", count: 33)
        #expect(TestSupport.parseError(mixed) != nil)
    }

    @Test func hostileDepthFailsFastWithoutCrashing() {
        let open = String(repeating: "[", count: 1_000_000)
        #expect(TestSupport.parseError(open) != nil)
        let openObjects = String(repeating: #"{"k":"#, count: 200_000)
        #expect(TestSupport.parseError(openObjects) != nil)
    }
}
