import Foundation

/// Why a body is not JSON, with the byte offset where parsing stopped.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let offset: Int
    public let reason: String

    public var description: String { "malformed JSON at byte \(offset): \(reason)" }
}

/// A strict RFC 8259 parser over UTF-8 bytes: rejects NaN/Infinity, invalid UTF-8, trailing data and
/// nesting deeper than `maxDepth`, so hostile input is answered with an error, never a crash or a stall.
public struct JSONParser {
    public static let maxDepth = 64

    /// Parses exactly one JSON value (surrounded by optional white space).
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError> = withContiguousBytes(bytes) { buffer in
            var reader = Reader(buffer: buffer)
            do throws(JSONParseError) {
                reader.skipWhitespace()
                let value = try reader.parseValue(depth: 0)
                reader.skipWhitespace()
                guard reader.atEnd else { throw reader.error("unexpected data after the JSON value") }
                return .success(value)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Parses newline-delimited JSON: one value per non-blank line. `line` in the error is 0-based.
    public static func parseLines(_ bytes: some Collection<UInt8>) throws(NDJSONError) -> [JSONValue] {
        let result: Result<[JSONValue], NDJSONError> = withContiguousBytes(bytes) { buffer in
            var values: [JSONValue] = []
            var lineStart = 0
            var lineIndex = 0
            let count = buffer.count
            while lineStart < count {
                var lineEnd = lineStart
                while lineEnd < count && buffer[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
                let line = UnsafeBufferPointer(rebasing: buffer[lineStart..<lineEnd])
                var reader = Reader(buffer: line)
                reader.skipWhitespace()
                if !reader.atEnd {
                    do throws(JSONParseError) {
                        let value = try reader.parseValue(depth: 0)
                        reader.skipWhitespace()
                        guard reader.atEnd else { throw reader.error("unexpected data after the JSON value") }
                        values.append(value)
                    } catch {
                        return .failure(NDJSONError(line: lineIndex, valueIndex: values.count, underlying: error))
                    }
                }
                lineStart = lineEnd + 1
                lineIndex += 1
            }
            return .success(values)
        }
        return try result.get()
    }

    private static func withContiguousBytes<R>(
        _ bytes: some Collection<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> R
    ) -> R {
        if let result = bytes.withContiguousStorageIfAvailable(body) { return result }
        return Array(bytes).withUnsafeBufferPointer(body)
    }
}

public struct NDJSONError: Error, Sendable, Equatable {
    public let line: Int
    /// Index of the event that failed among the events of the body (blank lines do not count).
    public let valueIndex: Int
    public let underlying: JSONParseError
}

private struct Reader {
    let buffer: UnsafeBufferPointer<UInt8>
    var index = 0

    init(buffer: UnsafeBufferPointer<UInt8>) { self.buffer = buffer }

    var atEnd: Bool { index >= buffer.count }

    func error(_ reason: String) -> JSONParseError { JSONParseError(offset: index, reason: reason) }

    mutating func skipWhitespace() {
        while index < buffer.count {
            switch buffer[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard index < buffer.count else { throw error("unexpected end of input") }
        switch buffer[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected character")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= buffer.count else { throw error("unexpected end of input") }
        let base = literal.utf8Start
        for offset in 0..<count where buffer[index + offset] != base[offset] {
            throw error("invalid literal")
        }
        index += count
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= JSONParser.maxDepth else { throw error("nesting deeper than \(JSONParser.maxDepth)") }
        index += 1
        var entries: [(key: String, value: JSONValue)] = []
        skipWhitespace()
        if index < buffer.count && buffer[index] == UInt8(ascii: "}") {
            index += 1
            return .object(JSONObject(entries))
        }
        while true {
            skipWhitespace()
            guard index < buffer.count, buffer[index] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try parseString()
            skipWhitespace()
            guard index < buffer.count, buffer[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            entries.append((key, value))
            skipWhitespace()
            guard index < buffer.count else { throw error("unexpected end of input") }
            if buffer[index] == UInt8(ascii: ",") { index += 1; continue }
            if buffer[index] == UInt8(ascii: "}") { index += 1; return .object(JSONObject(entries)) }
            throw error("expected ',' or '}'")
        }
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= JSONParser.maxDepth else { throw error("nesting deeper than \(JSONParser.maxDepth)") }
        index += 1
        var values: [JSONValue] = []
        skipWhitespace()
        if index < buffer.count && buffer[index] == UInt8(ascii: "]") {
            index += 1
            return .array(values)
        }
        while true {
            skipWhitespace()
            values.append(try parseValue(depth: depth))
            skipWhitespace()
            guard index < buffer.count else { throw error("unexpected end of input") }
            if buffer[index] == UInt8(ascii: ",") { index += 1; continue }
            if buffer[index] == UInt8(ascii: "]") { index += 1; return .array(values) }
            throw error("expected ',' or ']'")
        }
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = index
        var isInteger = true
        if buffer[index] == UInt8(ascii: "-") { index += 1 }
        guard index < buffer.count, isDigit(buffer[index]) else { throw error("invalid number") }
        if buffer[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < buffer.count && isDigit(buffer[index]) { index += 1 }
        }
        if index < buffer.count && buffer[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < buffer.count, isDigit(buffer[index]) else { throw error("invalid number") }
            while index < buffer.count && isDigit(buffer[index]) { index += 1 }
        }
        if index < buffer.count && (buffer[index] == UInt8(ascii: "e") || buffer[index] == UInt8(ascii: "E")) {
            isInteger = false
            index += 1
            if index < buffer.count && (buffer[index] == UInt8(ascii: "+") || buffer[index] == UInt8(ascii: "-")) {
                index += 1
            }
            guard index < buffer.count, isDigit(buffer[index]) else { throw error("invalid number") }
            while index < buffer.count && isDigit(buffer[index]) { index += 1 }
        }
        let text = UnsafeBufferPointer(rebasing: buffer[start..<index])
        // 19 digits, plus a sign: Int64.min and every other negative 19-digit integer stay exact.
        if isInteger, text.count <= 20, let value = Self.parseInt(text) {
            return .int(value)
        }
        let string = String(decoding: text, as: UTF8.self)
        guard let value = Double(string), value.isFinite else { throw JSONParseError(offset: start, reason: "number out of range") }
        return .double(value)
    }

    static func parseInt(_ text: UnsafeBufferPointer<UInt8>) -> Int64? {
        var negative = false
        var position = 0
        if text[0] == UInt8(ascii: "-") { negative = true; position = 1 }
        var value: Int64 = 0
        while position < text.count {
            let digit = Int64(text[position] &- UInt8(ascii: "0"))
            let (multiplied, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (added, overflow2) = negative
                ? multiplied.subtractingReportingOverflow(digit) : multiplied.addingReportingOverflow(digit)
            if overflow1 || overflow2 { return nil }
            value = added
            position += 1
        }
        return value
    }

    func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    mutating func parseString() throws(JSONParseError) -> String {
        index += 1  // opening quote
        let start = index
        var hasEscape = false
        var isASCII = true
        while index < buffer.count {
            let byte = buffer[index]
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") {
                hasEscape = true
                index += 2
                continue
            }
            if byte < 0x20 { throw error("control character in string") }
            if byte >= 0x80 { isASCII = false }
            index += 1
        }
        guard index < buffer.count else { throw error("unterminated string") }
        let end = index
        index += 1  // closing quote
        let raw = UnsafeBufferPointer(rebasing: buffer[start..<end])
        // ASCII needs no validation (the common case: ids, keys, enums); other text is validated as UTF-8.
        if !hasEscape && isASCII { return String(decoding: raw, as: UTF8.self) }
        if !hasEscape {
            guard let string = String(validating: raw, as: UTF8.self) else {
                throw JSONParseError(offset: start, reason: "invalid UTF-8 in string")
            }
            return string
        }
        return try unescape(raw, offset: start)
    }

    func unescape(_ raw: UnsafeBufferPointer<UInt8>, offset: Int) throws(JSONParseError) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.count)
        var position = 0
        func fail(_ reason: String) -> JSONParseError { JSONParseError(offset: offset + position, reason: reason) }
        func hex4(at p: Int) throws(JSONParseError) -> UInt32 {
            guard p + 4 <= raw.count else { throw fail("truncated \\u escape") }
            var value: UInt32 = 0
            for i in p..<(p + 4) {
                let c = raw[i]
                let digit: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
                default: throw fail("invalid \\u escape")
                }
                value = value << 4 | digit
            }
            return value
        }
        while position < raw.count {
            let byte = raw[position]
            guard byte == UInt8(ascii: "\\") else {
                bytes.append(byte)
                position += 1
                continue
            }
            guard position + 1 < raw.count else { throw fail("truncated escape") }
            let escaped = raw[position + 1]
            position += 2
            switch escaped {
            case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "/"): bytes.append(UInt8(ascii: "/"))
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(at: position)
                position += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    guard position + 6 <= raw.count, raw[position] == UInt8(ascii: "\\"), raw[position + 1] == UInt8(ascii: "u")
                    else { throw fail("unpaired surrogate") }
                    let low = try hex4(at: position + 2)
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail("unpaired surrogate") }
                    position += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw fail("unpaired surrogate")
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw fail("invalid code point") }
                bytes.append(contentsOf: Array(String(Character(unicode)).utf8))
            default:
                throw fail("invalid escape")
            }
        }
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw JSONParseError(offset: offset, reason: "invalid UTF-8 in string")
        }
        return string
    }
}
