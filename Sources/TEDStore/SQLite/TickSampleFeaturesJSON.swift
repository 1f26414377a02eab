import Foundation
import TEDCore

/// The `_id` and `features` columns of `tick_samples` written straight from the sample, without a `String` or a
/// `Document` tree in between: tick samples are nearly every row the flush writes. The text is exactly
/// `encode(features.document)`'s (with its own `$types` annotations), which `TickSampleColumnsTests` checks, so
/// `DocumentJSON.decode` reads it back and `json_extract(features, …)` filters on it.
extension DocumentJSONWriter {
    /// Replaces `bytes` with `sample.id` (`game_id:tick`), written without building a `String`.
    mutating func encode(idOf sample: TickSample) {
        output.count = 0
        var gameID = sample.gameID
        gameID.withUTF8 { output.append($0) }
        output.append(UInt8(ascii: ":"))
        writeInteger(Int64(sample.tick))
    }

    /// Replaces `bytes` with the text of `features` as a stored document.
    mutating func encode(features: JSONObject) throws(StoreError) {
        beginDocument()
        try writeObject(features, depth: 1)
        endDocument()
    }

    /// A JSON object as `writeDocument` writes `object.document` (integers as int64) at nesting `depth`.
    private mutating func writeObject(_ object: JSONObject, depth: Int) throws(StoreError) {
        try checkDepth(depth)
        output.append(UInt8(ascii: "{"))
        for (offset, entry) in object.entries.enumerated() {
            if depth == 1 && entry.key == DocumentJSON.typesKey {
                throw StoreError(.operationFailed, "the features field name \(DocumentJSON.typesKey) is reserved by the SQLite store")
            }
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
