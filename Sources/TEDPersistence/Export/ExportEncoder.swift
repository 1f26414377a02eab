import TEDCore
import TEDStore

/// The formats of `ted export`.
public enum ExportFormat: String, Sendable, CaseIterable {
    /// One JSON object per line, fields in schema order, nested objects nested.
    case ndjson
    /// RFC 4180: a header line, then one line per record; nested fields flattened, free-form objects as JSON text.
    case csv

    public var fileExtension: String { rawValue }
}

/// Why an export failed; `option` names the command-line option at fault, when one is.
public struct ExportError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public let option: String?

    public init(_ message: String, option: String? = nil) {
        self.message = message
        self.option = option
    }

    public var description: String { message }
}

/// Turns stored documents into export lines. Every value goes through one canonical form first (`value(_:as:)`):
/// numbers by their schema kind (an int64 price is written as the double it means), dates as ISO-8601 with
/// milliseconds, free-form objects with their keys sorted; numbers are then written by `JSONValue`'s writer in both
/// formats. So the same records give the same bytes from either store, whatever types and field orders it kept.
struct ExportEncoder {
    let schema: ExportSchema
    let format: ExportFormat

    /// The CSV header line; nothing for NDJSON.
    var header: [UInt8] {
        guard format == .csv else { return [] }
        var out: [UInt8] = []
        for (index, column) in schema.columns.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            Self.writeCSVField(column, into: &out)
        }
        out.append(contentsOf: Self.csvLineEnd)
        return out
    }

    static let csvLineEnd: [UInt8] = [0x0D, 0x0A]

    /// Appends the line of `document`.
    func write(_ document: Document, into out: inout [UInt8]) throws(ExportError) {
        let record = try Self.object(document, schema.fields, context: Context(schema: schema, document: document))
        switch format {
        case .ndjson:
            record.write(into: &out)
            out.append(UInt8(ascii: "\n"))
        case .csv:
            var first = true
            Self.writeCSVRow(record, schema.fields, first: &first, into: &out)
            out.append(contentsOf: Self.csvLineEnd)
        }
    }

    /// Names the document and field of a value that does not fit its kind.
    struct Context {
        let schema: ExportSchema
        let document: Document

        func mismatch(_ field: String, _ kind: ExportKind) -> ExportError {
            let id = document["_id"]?.stringValue ?? "?"
            return ExportError("\(schema.collection) document \(id): field \(field) is not \(kind.noun) as the export schema says")
        }
    }

    private static func object(_ document: Document, _ fields: [ExportField], context: Context, path: String = "") throws(ExportError) -> JSONValue {
        var entries: [(key: String, value: JSONValue)] = []
        entries.reserveCapacity(fields.count)
        for field in fields {
            entries.append((field.name, try value(document[field.name], as: field.kind, context: context, path: path + field.name)))
        }
        return .object(JSONObject(entries))
    }

    /// The canonical form of one stored value; a missing or null value is null.
    static func value(_ stored: DocumentValue?, as kind: ExportKind, context: Context, path: String) throws(ExportError) -> JSONValue {
        guard let stored, stored != .null else { return .null }
        switch kind {
        case .string:
            guard let text = stored.stringValue else { throw context.mismatch(path, kind) }
            return .string(text)
        case .integer:
            guard let number = stored.intValue else { throw context.mismatch(path, kind) }
            return JSONValue(number)
        case .number:
            guard let number = stored.doubleValue else { throw context.mismatch(path, kind) }
            return .double(number)
        case .boolean:
            guard let flag = stored.boolValue else { throw context.mismatch(path, kind) }
            return .bool(flag)
        case .date:
            guard let date = stored.dateValue else { throw context.mismatch(path, kind) }
            return .string(Timestamp.formatISO8601(date))
        case .json:
            return canonical(stored)
        case .object(let fields):
            guard let nested = stored.documentValue else { throw context.mismatch(path, kind) }
            return try object(nested, fields, context: context, path: path + ".")
        }
    }

    /// Any stored value as JSON with object keys sorted (by their UTF-8 bytes) at every level.
    static func canonical(_ value: DocumentValue) -> JSONValue {
        switch value {
        case .document(let document):
            let sorted = document.fields.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
            return .object(JSONObject(sorted.map { ($0.key, canonical($0.value)) }))
        case .array(let values):
            return .array(values.map(canonical))
        default:
            return value.jsonValue
        }
    }

    private static func writeCSVRow(_ record: JSONValue, _ fields: [ExportField], first: inout Bool, into out: inout [UInt8]) {
        let entries = record.objectValue?.entries ?? []
        for (index, field) in fields.enumerated() {
            let value = index < entries.count ? entries[index].value : .null
            if case .object(let children) = field.kind {
                // A null object still has its columns, all empty.
                writeCSVRow(value, children, first: &first, into: &out)
                continue
            }
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            if case .json = field.kind, value != .null {
                writeCSVField(value.serializedString, into: &out)  // JSON text whatever the value, a bare string too
            } else {
                writeCSVCell(value, into: &out)
            }
        }
    }

    /// Null (and a non-finite number, which JSON cannot hold either) is an empty cell; text is quoted when it must
    /// be; numbers and booleans are written as in JSON.
    private static func writeCSVCell(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: return
        case .double(let number) where !number.isFinite: return
        case .string(let text): writeCSVField(text, into: &out)
        case .int, .double, .bool, .array, .object: writeCSVField(value.serializedString, into: &out)
        }
    }

    /// A field quoted (its quotes doubled) when it holds a comma, a quote, a line break, or starts or ends with a
    /// space (which some readers trim).
    static func writeCSVField(_ text: String, into out: inout [UInt8]) {
        let bytes = Array(text.utf8)
        let needsQuotes = bytes.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
            || bytes.first == UInt8(ascii: " ") || bytes.last == UInt8(ascii: " ")
        guard needsQuotes else {
            out.append(contentsOf: bytes)
            return
        }
        out.append(UInt8(ascii: "\""))
        for byte in bytes {
            if byte == UInt8(ascii: "\"") { out.append(byte) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension ExportKind {
    /// For messages: "a string", "a date", ...
    var noun: String {
        switch self {
        case .string: "a string"
        case .integer: "a whole number"
        case .number: "a number"
        case .boolean: "a boolean"
        case .date: "a date"
        case .json: "JSON"
        case .object: "an object"
        }
    }
}
