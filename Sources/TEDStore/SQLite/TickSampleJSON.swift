import Foundation
import TEDCore

/// The stored text of a tick sample written straight from the record, without a `Document` tree in between: tick
/// samples are nearly every row the flush writes, and building then walking a tree for each one was a large part
/// of the SQLite flush's CPU (`perf record` of `scripts/bench --only flush_sqlite`'s drain). The text is exactly
/// `encode(sample.document)`'s, which `TickSampleJSONTests` checks, so every reader of the table reads the same
/// rows whichever path wrote them.
extension DocumentJSONWriter {
    /// Replaces `bytes` with the text of `sample`, whose `_id` is `id` (the caller binds it too, so it is built
    /// once); returns its `created_at` in milliseconds (the column's value).
    mutating func encode(_ sample: TickSample, id: String) throws(StoreError) -> Int64 {
        beginDocument()
        append(#"{"_id":"#)
        writeString(id)
        append(#","game_id":"#)
        writeString(sample.gameID)
        append(#","tick":"#)
        writeInt64(Int64(sample.tick), at: .key("tick"))
        append(#","price":"#)
        writeNumber(sample.price, at: .key("price"))
        if let features = sample.features {
            append(#","features":"#)
            path.append(.key("features"))
            try writeObject(features, depth: 2)
            path.removeLast()
        }
        append(#","timestamp":"#)
        _ = try writeDate(sample.timestamp, at: .key("timestamp"))
        append(#","created_at":"#)
        let createdAt = try writeDate(sample.createdAt, at: .key("created_at"))
        output.append(UInt8(ascii: "}"))
        endDocument()
        return createdAt
    }

    /// A JSON object as `writeDocument` writes `object.document` (integers as int64) at nesting `depth`.
    private mutating func writeObject(_ object: JSONObject, depth: Int) throws(StoreError) {
        try checkDepth(depth)
        output.append(UInt8(ascii: "{"))
        for (offset, entry) in object.entries.enumerated() {
            writeMemberName(entry.key, at: offset)
            try writeJSON(entry.value, at: .key(entry.key), depth: depth)
        }
        output.append(UInt8(ascii: "}"))
    }

    /// `value` as `writeValue` writes `value.documentValue`.
    private mutating func writeJSON(_ value: JSONValue, at component: PathComponent, depth: Int) throws(StoreError) {
        switch value {
        case .null: append("null")
        case .bool(let b): b ? append("true") : append("false")
        case .int(let i): writeInt64(i, at: component)
        case .double(let d): writeNumber(d, at: component)
        case .string(let s): writeString(s)
        case .object(let object):
            path.append(component)
            try writeObject(object, depth: depth + 1)
            path.removeLast()
        case .array(let elements):
            try beginArray(at: component, depth: depth)
            for (index, element) in elements.enumerated() {
                writeSeparator(before: index)
                try writeJSON(element, at: .index(index), depth: depth + 1)
            }
            endArray()
        }
    }
}
