import Foundation
import TEDCore

/// `Document` ↔ MongoDB Extended JSON v2, canonical mode: the text a backup keeps, readable by `mongoimport`
/// and by any EJSON library, and exact for every type `DocumentValue` has.
///
/// - int32 → `{"$numberInt": "1"}`, int64 → `{"$numberLong": "1"}`;
/// - double → `{"$numberDouble": "1.5"}` (the shortest decimal that reads back to the same bits; `"Infinity"`,
///   `"-Infinity"` and `"NaN"` for the non-finite values, `"-0.0"` for negative zero);
/// - date → `{"$date": {"$numberLong": "<milliseconds since 1970>"}}` (BSON's precision: a finer date is rounded);
/// - string, bool, null, arrays and documents are their JSON counterparts.
///
/// Decoding accepts exactly that (canonical) form and throws `StoreError(.corrupt, …)` naming the path of anything
/// else: an Extended JSON type the store has no use for (`$oid`, `$binary`, …), a wrapper with extra keys, a number
/// that does not fit its type, a bare JSON number (canonical mode never has one).
public enum ExtendedJSON {
    /// The wrapper keys this codec writes and reads.
    static let wrapperKeys: Set<String> = ["$numberInt", "$numberLong", "$numberDouble", "$date"]
    /// The other Extended JSON v2 type wrappers: refused with a message that names them.
    static let unsupportedKeys: Set<String> = [
        "$oid", "$symbol", "$numberDecimal", "$binary", "$code", "$scope", "$timestamp", "$regularExpression",
        "$dbPointer", "$minKey", "$maxKey", "$undefined", "$uuid", "$regex", "$options",
    ]

    // MARK: Encoding

    /// The canonical Extended JSON of `document`. Throws `.corrupt` only for a document that canonical EJSON
    /// could not read back as itself: one with a top-level or nested key that is an Extended JSON type wrapper.
    public static func encode(_ document: Document) throws(StoreError) -> JSONValue {
        try encodeDocument(document, path: "")
    }

    /// The canonical Extended JSON of one value.
    public static func encode(_ value: DocumentValue) throws(StoreError) -> JSONValue {
        try encodeValue(value, path: "")
    }

    private static func encodeDocument(_ document: Document, path: String) throws(StoreError) -> JSONValue {
        var entries: [(key: String, value: JSONValue)] = []
        entries.reserveCapacity(document.fields.count)
        for field in document.fields {
            let fieldPath = join(path, field.key)
            if wrapperKeys.contains(field.key) || unsupportedKeys.contains(field.key) {
                throw StoreError(.corrupt, "Extended JSON: field \(fieldPath) has the name of an Extended JSON type "
                    + "wrapper, so it would not read back as a field")
            }
            entries.append((field.key, try encodeValue(field.value, path: fieldPath)))
        }
        return .object(JSONObject(entries))
    }

    private static func encodeValue(_ value: DocumentValue, path: String) throws(StoreError) -> JSONValue {
        switch value {
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .null: return .null
        case .int32(let i): return wrap("$numberInt", .string(String(i)))
        case .int64(let i): return wrap("$numberLong", .string(String(i)))
        case .double(let d): return wrap("$numberDouble", .string(doubleText(d)))
        case .date(let date):
            let ms = (date.timeIntervalSince1970 * 1000).rounded()
            guard let milliseconds = Int64(exactly: ms) else {
                throw StoreError(.corrupt, "Extended JSON: date at \(display(path)) is out of range (\(date.timeIntervalSince1970) s)")
            }
            return wrap("$date", wrap("$numberLong", .string(String(milliseconds))))
        case .document(let document): return try encodeDocument(document, path: path)
        case .array(let values):
            var elements: [JSONValue] = []
            elements.reserveCapacity(values.count)
            for (index, element) in values.enumerated() {
                elements.append(try encodeValue(element, path: join(path, String(index))))
            }
            return .array(elements)
        }
    }

    /// The canonical text of a double: Swift's shortest round-tripping form (`1.0`, `1.5`, `1e+20`, `-0.0`).
    static func doubleText(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d == .infinity { return "Infinity" }
        if d == -.infinity { return "-Infinity" }
        return d.description
    }

    private static func wrap(_ key: String, _ value: JSONValue) -> JSONValue {
        .object(JSONObject([(key: key, value: value)]))
    }

    // MARK: Decoding

    /// The document `value` (a JSON object in canonical Extended JSON) stands for.
    public static func decodeDocument(_ value: JSONValue) throws(StoreError) -> Document {
        guard case .object(let object) = value else {
            throw corrupt("", "expected a document (JSON object), found \(value.typeName)")
        }
        guard case .document(let document) = try decodeValue(.object(object), path: "") else {
            throw corrupt("", "expected a document, found an Extended JSON scalar")
        }
        return document
    }

    /// The value `value` stands for.
    public static func decodeValue(_ value: JSONValue) throws(StoreError) -> DocumentValue {
        try decodeValue(value, path: "")
    }

    /// Parses canonical Extended JSON text into a document.
    public static func decodeDocument(text bytes: some Collection<UInt8>) throws(StoreError) -> Document {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw StoreError(.corrupt, "Extended JSON: \(error)")
        }
        return try decodeDocument(value)
    }

    private static func decodeValue(_ value: JSONValue, path: String) throws(StoreError) -> DocumentValue {
        switch value {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .string(let s): return .string(s)
        case .int, .double:
            throw corrupt(path, "bare JSON number \(value.serializedString): canonical Extended JSON wraps every number "
                + "in $numberInt, $numberLong or $numberDouble")
        case .array(let elements):
            var values: [DocumentValue] = []
            values.reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                values.append(try decodeValue(element, path: join(path, String(index))))
            }
            return .array(values)
        case .object(let object):
            if let wrapper = object.keys.first(where: { wrapperKeys.contains($0) || unsupportedKeys.contains($0) }) {
                return try decodeWrapper(object, key: wrapper, path: path)
            }
            var fields: [(key: String, value: DocumentValue)] = []
            fields.reserveCapacity(object.entries.count)
            for entry in object.entries {
                fields.append((entry.key, try decodeValue(entry.value, path: join(path, entry.key))))
            }
            return .document(Document(fields))
        }
    }

    private static func decodeWrapper(_ object: JSONObject, key: String, path: String) throws(StoreError) -> DocumentValue {
        guard wrapperKeys.contains(key) else {
            throw corrupt(path, "Extended JSON type \(key) is not supported (only $numberInt, $numberLong, $numberDouble, "
                + "$date, strings, booleans, null, documents and arrays)")
        }
        guard object.entries.count == 1, let inner = object[key] else {
            throw corrupt(path, "\(key) must be the only key of its object, found keys \(object.keys.joined(separator: ", "))")
        }
        switch key {
        case "$numberInt":
            guard case .string(let text) = inner, let v = Int32(text), String(v) == text else {
                throw corrupt(path, "$numberInt needs a string holding a 32-bit integer, found \(inner.serializedString)")
            }
            return .int32(v)
        case "$numberLong":
            return .int64(try long(inner, path: path, what: "$numberLong"))
        case "$numberDouble":
            guard case .string(let text) = inner, let d = parseDouble(text) else {
                throw corrupt(path, "$numberDouble needs a string holding a decimal number, \"Infinity\", \"-Infinity\" "
                    + "or \"NaN\", found \(inner.serializedString)")
            }
            return .double(d)
        default:  // $date
            guard case .object(let dateObject) = inner, dateObject.entries.count == 1,
                  let millis = dateObject["$numberLong"] else {
                throw corrupt(path, "$date must be {\"$numberLong\": \"<milliseconds>\"} (canonical form), found \(inner.serializedString)")
            }
            let ms = try long(millis, path: path, what: "$date.$numberLong")
            return .date(Date(timeIntervalSince1970: Double(ms) / 1000))
        }
    }

    private static func long(_ value: JSONValue, path: String, what: String) throws(StoreError) -> Int64 {
        guard case .string(let text) = value, let v = Int64(text), String(v) == text else {
            throw corrupt(path, "\(what) needs a string holding a 64-bit integer, found \(value.serializedString)")
        }
        return v
    }

    /// A decimal number (what `doubleText` writes, or any other decimal) or one of the three special names.
    private static func parseDouble(_ text: String) -> Double? {
        switch text {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default:
            // `Double("inf")`, `Double("nan")` and hexadecimal forms are Swift's, not Extended JSON's.
            guard !text.isEmpty, text.utf8.allSatisfy({ "0123456789+-.eE".utf8.contains($0) }),
                  let d = Double(text), d.isFinite else { return nil }
            return d
        }
    }

    private static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    private static func display(_ path: String) -> String { path.isEmpty ? "the top level" : path }

    private static func corrupt(_ path: String, _ reason: String) -> StoreError {
        StoreError(.corrupt, "Extended JSON at \(display(path)): \(reason)")
    }
}
