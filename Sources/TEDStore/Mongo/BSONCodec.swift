import Foundation

/// `Document` ⇄ BSON bytes in pure Swift, so documents cross threads as plain `[UInt8]` and libbson only ever
/// sees read-only views of them (see the `bson_t` alignment note in FIELD-NOTES.md).
enum BSONCodec {
    /// How deep documents may nest. MongoDB stores at most 100 levels; replies wrap a few more. The bound keeps
    /// hostile input from exhausting the stack of a thread-pool thread.
    static let maxDepth = 128

    static func encode(_ document: Document) throws(StoreError) -> [UInt8] {
        var writer = BSONWriter()
        try writer.writeDocument(document, depth: 0)
        return writer.bytes
    }

    /// Decodes a stored document: every type outside `DocumentValue` (except ObjectId) is `.corrupt`.
    static func decode(_ bytes: [UInt8]) throws(StoreError) -> Document {
        try decode(bytes, skippingUnsupported: false)
    }

    /// Decodes a server reply, leaving out well-formed fields of types `DocumentValue` cannot hold
    /// (`$clusterTime` timestamps, collection UUIDs): commands answer with those and they are never needed.
    static func decodeReply(_ bytes: [UInt8]) throws(StoreError) -> Document {
        try decode(bytes, skippingUnsupported: true)
    }

    /// The raw value of a top-level field, type and bytes untouched: `_id`s read back this way can be sent
    /// again even when their type does not survive decoding (an ObjectId decodes as a string).
    static func rawField(_ key: String, in bytes: [UInt8]) throws(StoreError) -> RawBSONValue? {
        try bytes.withUnsafeBufferPointer { typed throws(StoreError) -> RawBSONValue? in
            let buffer = UnsafeRawBufferPointer(typed)
            var reader = BSONReader(buffer)
            let value = try reader.readRawField(key)
            guard reader.offset == buffer.count else { throw BSONReader.corrupt("trailing bytes after the document") }
            return value
        }
    }

    /// `{field: {$in: [values…]}}` with each value copied verbatim.
    static func encodeIn(field: String, values: [RawBSONValue]) throws(StoreError) -> [UInt8] {
        var writer = BSONWriter()
        let outer = writer.beginDocument()
        try writer.writeHeader(BSONType.document, key: field)
        let condition = writer.beginDocument()
        try writer.writeHeader(BSONType.array, key: "$in")
        let array = writer.beginDocument()
        for (index, value) in values.enumerated() {
            try writer.writeHeader(value.type, key: String(index))
            value.bytes.withUnsafeBytes { writer.append($0) }
        }
        try writer.endDocument(array)
        try writer.endDocument(condition)
        try writer.endDocument(outer)
        return writer.bytes
    }

    private static func decode(_ bytes: [UInt8], skippingUnsupported: Bool) throws(StoreError) -> Document {
        try bytes.withUnsafeBufferPointer { typed throws(StoreError) -> Document in
            let buffer = UnsafeRawBufferPointer(typed)
            var reader = BSONReader(buffer)
            let document = try reader.readDocument(depth: 0, skippingUnsupported: skippingUnsupported)
            guard reader.offset == buffer.count else { throw BSONReader.corrupt("trailing bytes after the document") }
            return document
        }
    }
}

/// A BSON value kept as its type byte and encoded bytes.
struct RawBSONValue: Sendable, Equatable {
    let type: UInt8
    let bytes: [UInt8]
}

enum BSONType {
    static let double: UInt8 = 0x01
    static let string: UInt8 = 0x02
    static let document: UInt8 = 0x03
    static let array: UInt8 = 0x04
    static let binary: UInt8 = 0x05
    static let undefined: UInt8 = 0x06
    static let objectID: UInt8 = 0x07
    static let bool: UInt8 = 0x08
    static let dateTime: UInt8 = 0x09
    static let null: UInt8 = 0x0A
    static let regex: UInt8 = 0x0B
    static let dbPointer: UInt8 = 0x0C
    static let javaScript: UInt8 = 0x0D
    static let symbol: UInt8 = 0x0E
    static let javaScriptWithScope: UInt8 = 0x0F
    static let int32: UInt8 = 0x10
    static let timestamp: UInt8 = 0x11
    static let int64: UInt8 = 0x12
    static let decimal128: UInt8 = 0x13
    static let minKey: UInt8 = 0xFF
    static let maxKey: UInt8 = 0x7F
}

/// Reads BSON from untrusted bytes: every length is checked against what remains, so truncated or hostile
/// input throws `.corrupt` instead of reading out of bounds.
struct BSONReader {
    private let buffer: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    static func corrupt(_ why: String) -> StoreError { StoreError(.corrupt, "invalid BSON: \(why)") }

    private var remaining: Int { buffer.count - offset }

    /// Reads one document starting at `offset`; its body is read through a reader bounded to its own length.
    mutating func readDocument(depth: Int, skippingUnsupported: Bool) throws(StoreError) -> Document {
        guard depth <= BSONCodec.maxDepth else { throw Self.corrupt("nested too deeply") }
        var body = try enterDocument()
        var document = Document()
        while let (type, key) = try body.readElementHeader() {
            if let value = try body.readValue(type, depth: depth, skippingUnsupported: skippingUnsupported) {
                document.append(key, value)
            }
        }
        return document
    }

    /// The raw value of `key` among this document's top-level fields.
    mutating func readRawField(_ key: String) throws(StoreError) -> RawBSONValue? {
        var body = try enterDocument()
        while let (type, name) = try body.readElementHeader() {
            let start = body.offset
            try body.skipValue(type)
            if name == key {
                return RawBSONValue(type: type, bytes: Array(body.buffer[start..<body.offset]))
            }
        }
        return nil
    }

    /// Validates the length prefix and terminator of the document at `offset`, moves past it, and returns a
    /// reader over its elements (without the prefix and the terminating zero).
    private mutating func enterDocument() throws(StoreError) -> BSONReader {
        let start = offset
        let length = Int(try readInt32())
        guard length >= 5, length - 4 <= remaining else { throw Self.corrupt("document length \(length) out of bounds") }
        let end = start + length
        guard buffer[end - 1] == 0 else { throw Self.corrupt("document not terminated") }
        offset = end
        return BSONReader(UnsafeRawBufferPointer(rebasing: buffer[(start + 4)..<(end - 1)]))
    }

    /// The next element's type and key, or nil at the end of the document body.
    private mutating func readElementHeader() throws(StoreError) -> (UInt8, String)? {
        guard remaining > 0 else { return nil }
        let type = try readByte()
        guard type != 0 else { throw Self.corrupt("zero type byte inside a document") }
        return (type, try readCString())
    }

    /// Nil for an unsupported type when skipping is allowed.
    private mutating func readValue(_ type: UInt8, depth: Int, skippingUnsupported: Bool) throws(StoreError) -> DocumentValue? {
        switch type {
        case BSONType.double:
            return .double(Double(bitPattern: UInt64(bitPattern: try readInt64())))
        case BSONType.string:
            return .string(try readString())
        case BSONType.document:
            return .document(try readDocument(depth: depth + 1, skippingUnsupported: skippingUnsupported))
        case BSONType.array:
            let elements = try readDocument(depth: depth + 1, skippingUnsupported: skippingUnsupported)
            return .array(elements.fields.map(\.value))
        case BSONType.objectID:
            return .string(Self.hex(try readBytes(12)))
        case BSONType.bool:
            switch try readByte() {
            case 0: return .bool(false)
            case 1: return .bool(true)
            case let other: throw Self.corrupt("boolean byte \(other)")
            }
        case BSONType.dateTime:
            return .date(Date(timeIntervalSince1970: Double(try readInt64()) / 1000))
        case BSONType.null:
            return .null
        case BSONType.int32:
            return .int32(try readInt32())
        case BSONType.int64:
            return .int64(try readInt64())
        default:
            guard skippingUnsupported else {
                throw StoreError(.corrupt, "unsupported BSON type 0x\(String(type, radix: 16)) in a stored document")
            }
            try skipValue(type)
            return nil
        }
    }

    /// Moves past a value of any BSON type, validating its framing.
    private mutating func skipValue(_ type: UInt8) throws(StoreError) {
        switch type {
        case BSONType.null, BSONType.undefined, BSONType.minKey, BSONType.maxKey:
            return
        case BSONType.bool:
            try skip(1)
        case BSONType.int32:
            try skip(4)
        case BSONType.double, BSONType.dateTime, BSONType.timestamp, BSONType.int64:
            try skip(8)
        case BSONType.objectID:
            try skip(12)
        case BSONType.decimal128:
            try skip(16)
        case BSONType.string, BSONType.javaScript, BSONType.symbol:
            _ = try readString()
        case BSONType.document, BSONType.array:
            _ = try enterDocument()
        case BSONType.binary:
            let length = Int(try readInt32())
            guard length >= 0 else { throw Self.corrupt("negative binary length") }
            try skip(1 + length)
        case BSONType.regex:
            _ = try readCString()
            _ = try readCString()
        case BSONType.dbPointer:
            _ = try readString()
            try skip(12)
        case BSONType.javaScriptWithScope:
            let start = offset
            let length = Int(try readInt32())
            guard length >= 14 else { throw Self.corrupt("code with scope length \(length)") }
            offset = start
            try skip(length)
        default:
            throw Self.corrupt("unknown type 0x\(String(type, radix: 16))")
        }
    }

    private mutating func skip(_ count: Int) throws(StoreError) {
        guard count >= 0, count <= remaining else { throw Self.corrupt("truncated value") }
        offset += count
    }

    private mutating func readBytes(_ count: Int) throws(StoreError) -> UnsafeRawBufferPointer.SubSequence {
        let start = offset
        try skip(count)
        return buffer[start..<offset]
    }

    private mutating func readByte() throws(StoreError) -> UInt8 {
        try readBytes(1).first!
    }

    private mutating func readInt32() throws(StoreError) -> Int32 {
        let bytes = try readBytes(4)
        return Int32(littleEndian: UnsafeRawBufferPointer(rebasing: bytes).loadUnaligned(as: Int32.self))
    }

    private mutating func readInt64() throws(StoreError) -> Int64 {
        let bytes = try readBytes(8)
        return Int64(littleEndian: UnsafeRawBufferPointer(rebasing: bytes).loadUnaligned(as: Int64.self))
    }

    private mutating func readCString() throws(StoreError) -> String {
        guard let end = buffer[offset...].firstIndex(of: 0) else { throw Self.corrupt("unterminated key") }
        let text = try Self.utf8(buffer[offset..<end])
        offset = end + 1
        return text
    }

    private mutating func readString() throws(StoreError) -> String {
        let length = Int(try readInt32())
        guard length >= 1 else { throw Self.corrupt("string length \(length)") }
        let bytes = try readBytes(length)
        guard bytes.last == 0 else { throw Self.corrupt("string not terminated") }
        return try Self.utf8(bytes.dropLast())
    }

    private static func hex(_ bytes: UnsafeRawBufferPointer.SubSequence) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static func utf8(_ bytes: UnsafeRawBufferPointer.SubSequence) throws(StoreError) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw corrupt("invalid UTF-8") }
        return text
    }
}
