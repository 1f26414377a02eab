import Foundation
import TEDCore

/// BSON written straight from a tick sample, without a `Document` tree in between: tick samples are nearly every
/// record the flush writes, and building then walking a tree for each one cost about a third of the flush's CPU
/// (`perf record` of `scripts/bench`'s drain). The bytes are exactly `BSONCodec.encode(sample.document)`'s, which
/// `RecordBSONTests` checks, so both paths store the same documents.
enum RecordBSON {
    /// Appends the sample's document to `writer`: a bulk write encodes all its documents into one buffer
    /// (`MongoStore.encode`).
    static func tickSample(_ sample: TickSample, into writer: inout BSONWriter) throws(StoreError) {
        let start = writer.beginDocument()
        writer.header(BSONType.string, "_id")
        try writer.appendTickSampleID(gameID: sample.gameID, tick: sample.tick)
        try writer.field("game_id", string: sample.gameID)
        writer.field("tick", int64: Int64(sample.tick))
        writer.field("price", double: sample.price)
        if let features = sample.features {
            writer.header(BSONType.document, "features")
            try writer.writeObject(features, depth: 1)
        }
        try writer.field("timestamp", date: sample.timestamp)
        try writer.field("created_at", date: sample.createdAt)
        try writer.endDocument(start)
    }
}

extension BSONWriter {
    /// `TickSample.id` (`game_id:tick`) as a string value, written without building the `String`.
    mutating func appendTickSampleID(gameID: String, tick: Int) throws(StoreError) {
        let lengthAt = count
        append(Int32(0))
        let utf8Start = count
        appendUTF8(gameID)
        append(UInt8(ascii: ":"))
        appendDecimal(tick)
        append(UInt8(0))
        guard let length = Int32(exactly: count - utf8Start) else { throw StoreError(.operationFailed, "string too large for BSON") }
        patch(length, at: lengthAt)
    }

    mutating func field(_ key: StaticString, string value: String) throws(StoreError) {
        header(BSONType.string, key)
        try appendString(value)
    }

    mutating func field(_ key: StaticString, int64 value: Int64) {
        header(BSONType.int64, key)
        append(value)
    }

    mutating func field(_ key: StaticString, double value: Double) {
        header(BSONType.double, key)
        append(value.bitPattern)
    }

    mutating func field(_ key: StaticString, date value: Date) throws(StoreError) {
        header(BSONType.dateTime, key)
        try appendDate(value)
    }

    /// A JSON object as an embedded document, numbers kept as `JSONValue.documentValue` keeps them (integers as
    /// int64). Its keys come from clients, so they go through `writeHeader`'s NUL check.
    mutating func writeObject(_ object: JSONObject, depth: Int) throws(StoreError) {
        guard depth <= BSONCodec.maxDepth else { throw StoreError(.operationFailed, "document nested too deeply") }
        let start = beginDocument()
        // Read in place through the buffer: iterating the array copied (retained and released) every key and value.
        try object.entries.withUnsafeBufferPointer { entries throws(StoreError) in
            for index in entries.indices { try writeJSON(entries[index].key, entries[index].value, depth: depth) }
        }
        try endDocument(start)
    }

    private mutating func writeJSON(_ key: String, _ value: JSONValue, depth: Int) throws(StoreError) {
        switch value {
        case .null:
            try writeHeader(BSONType.null, key: key)
        case .bool(let b):
            try writeHeader(BSONType.bool, key: key)
            append(UInt8(b ? 1 : 0))
        case .int(let i):
            try writeHeader(BSONType.int64, key: key)
            append(i)
        case .double(let d):
            try writeHeader(BSONType.double, key: key)
            append(d.bitPattern)
        case .string(let s):
            try writeHeader(BSONType.string, key: key)
            try appendString(s)
        case .array(let values):
            try writeHeader(BSONType.array, key: key)
            guard depth + 1 <= BSONCodec.maxDepth else { throw StoreError(.operationFailed, "document nested too deeply") }
            let start = beginDocument()
            for (index, element) in values.enumerated() { try writeJSON(String(index), element, depth: depth + 1) }
            try endDocument(start)
        case .object(let object):
            try writeHeader(BSONType.document, key: key)
            try writeObject(object, depth: depth + 1)
        }
    }
}
