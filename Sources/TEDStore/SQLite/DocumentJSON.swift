import Foundation
import TEDCore

/// `Document` ↔ JSON text, as the SQLite store keeps documents.
///
/// The text is plain JSON so SQLite's `json_extract` can filter, sort and index on the stored values:
/// - string, bool, null, array and document map to their JSON counterparts;
/// - int64 is a JSON integer; double is a JSON number always written with a `.` or an exponent, so it reads
///   back as a double (`5.0` stays a double, `5` stays an int64);
/// - a date is an integer of milliseconds since 1970 (BSON's precision, so both stores return the same dates;
///   a finer date is rounded to the millisecond), which `created_at >= ?` compares directly.
///
/// What JSON cannot tell apart is listed in one trailing top-level member, `"$types"`: an array of
/// `[kind, key or array index, ...]` entries, e.g. `{"created_at":1700000000000,"$types":[["date","created_at"]]}`.
/// Kinds: `date`; `int32` (an integer is an int64 otherwise); `int64` for integers below -10^18, written as a
/// decimal string because `JSONParser` reads 20-character integers as doubles; `nan`, `inf`, `-inf`, written as
/// null because JSON has no such numbers. A top-level field named `$types` is therefore reserved.
enum DocumentJSON {
    static let typesKey = "$types"

    /// The text of `document` with its `$types` annotations.
    static func encode(_ document: Document) throws(StoreError) -> [UInt8] {
        var writer = DocumentJSONWriter()
        try writer.encode(document)
        return Array(writer.bytes)
    }

    /// A bare value as it appears inside a stored document (no annotations): what SQL compares a filter value with.
    static func encodeValue(_ value: DocumentValue) throws(StoreError) -> [UInt8] {
        var writer = DocumentJSONWriter()
        try writer.encodeValue(value)
        return Array(writer.bytes)
    }

    /// Reads text written by `encode`; anything else throws `.corrupt`, never traps.
    static func decode(_ bytes: some Collection<UInt8>) throws(StoreError) -> Document {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw corrupt("not JSON: \(error)")
        }
        guard case .object(let object) = value else { throw corrupt("not a JSON object") }
        var entries = object.entries
        var annotations: TypeAnnotations?
        var expected = 0
        if let index = entries.firstIndex(where: { $0.key == typesKey }) {
            let list = entries.remove(at: index).value
            (annotations, expected) = try TypeAnnotations.parse(list)
        }
        var applied = 0
        let document = try convert(entries, annotations, &applied)
        // An annotation whose path names no scalar value would otherwise be ignored silently.
        guard applied == expected else { throw corrupt("\(typesKey) names a path the document does not have") }
        return document
    }

    /// Milliseconds since 1970, rounded: the stored form of a date (also the `created_at` column).
    static func milliseconds(_ date: Date) throws(StoreError) -> Int64 {
        guard let ms = Int64(exactly: (date.timeIntervalSince1970 * 1000).rounded()) else {
            throw StoreError(.operationFailed, "date \(date.timeIntervalSince1970) is out of range for storage")
        }
        return ms
    }

    static func date(milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    static func corrupt(_ reason: String) -> StoreError { StoreError(.corrupt, "stored document: \(reason)") }

    private static func convert(
        _ entries: [(key: String, value: JSONValue)], _ annotations: TypeAnnotations?, _ applied: inout Int
    ) throws(StoreError) -> Document {
        var fields: [(key: String, value: DocumentValue)] = []
        fields.reserveCapacity(entries.count)
        for entry in entries {
            fields.append((entry.key, try convert(entry.value, annotations?.keys[entry.key], &applied)))
        }
        return Document(fields)
    }

    private static func convert(
        _ value: JSONValue, _ annotations: TypeAnnotations?, _ applied: inout Int
    ) throws(StoreError) -> DocumentValue {
        if let kind = annotations?.kind {
            applied += 1
            return try kind.decode(value)
        }
        switch value {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int64(i)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .object(let object): return .document(try convert(object.entries, annotations, &applied))
        case .array(let elements):
            var values: [DocumentValue] = []
            values.reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                values.append(try convert(element, annotations?.indices[index], &applied))
            }
            return .array(values)
        }
    }
}

/// A value type JSON cannot express by itself.
enum SpecialKind: String {
    case date
    case int32
    case int64
    case nan
    case infinity = "inf"
    case negativeInfinity = "-inf"

    func decode(_ value: JSONValue) throws(StoreError) -> DocumentValue {
        switch (self, value) {
        case (.date, .int(let ms)): return .date(DocumentJSON.date(milliseconds: ms))
        case (.int32, .int(let i)):
            if let v = Int32(exactly: i) { return .int32(v) }
        case (.int64, .string(let s)):
            if let v = Int64(s) { return .int64(v) }
        case (.nan, .null): return .double(.nan)
        case (.infinity, .null): return .double(.infinity)
        case (.negativeInfinity, .null): return .double(-.infinity)
        default: break
        }
        throw DocumentJSON.corrupt("\(value.typeName) value annotated as \(rawValue)")
    }
}

/// The `$types` list as a tree over the document, so decoding looks annotations up as it walks.
private struct TypeAnnotations {
    var kind: SpecialKind?
    var keys: [String: TypeAnnotations] = [:]
    var indices: [Int: TypeAnnotations] = [:]

    /// The tree and the number of annotations it holds.
    static func parse(_ list: JSONValue) throws(StoreError) -> (TypeAnnotations, Int) {
        guard case .array(let entries) = list else { throw DocumentJSON.corrupt("\(DocumentJSON.typesKey) is not an array") }
        var root = TypeAnnotations()
        for entry in entries {
            // A real path is no deeper than the document's nesting; a longer one would only deepen the recursion.
            guard case .array(let parts) = entry, parts.count >= 2, parts.count <= JSONParser.maxDepth + 1,
                case .string(let name) = parts[0], let kind = SpecialKind(rawValue: name)
            else { throw DocumentJSON.corrupt("malformed \(DocumentJSON.typesKey) entry") }
            try root.insert(kind, at: parts.dropFirst())
        }
        return (root, entries.count)
    }

    private mutating func insert(_ kind: SpecialKind, at path: ArraySlice<JSONValue>) throws(StoreError) {
        guard let first = path.first else {
            guard self.kind == nil else { throw DocumentJSON.corrupt("\(DocumentJSON.typesKey) names a path twice") }
            self.kind = kind
            return
        }
        switch first {
        case .string(let key): try keys[key, default: TypeAnnotations()].insert(kind, at: path.dropFirst())
        case .int(let index) where index >= 0 && index <= Int64(Int32.max):
            try indices[Int(index), default: TypeAnnotations()].insert(kind, at: path.dropFirst())
        default: throw DocumentJSON.corrupt("malformed \(DocumentJSON.typesKey) path")
        }
    }
}

/// Writes compact JSON by hand into reusable raw memory: it is on the flush path, where Foundation's encoders
/// (and even `[UInt8].append`, with its per-call uniqueness checks) cost more than SQLite's own insert.
/// Noncopyable because it owns that memory (a class would pay dynamic exclusivity checks on every byte).
/// The pieces below that are not private are for the writers of single record types (`TickSampleFeaturesJSON.swift`),
/// which write the same text without a `Document`.
struct DocumentJSONWriter: ~Copyable {
    var output = RawBytes(capacity: 1024)
    /// The `$types` entries written so far, without the enclosing brackets.
    private var annotations = RawBytes(capacity: 128)
    /// The containers (below the root) holding the value being written, for its annotation.
    var path: [PathComponent] = []
    private var annotating = true

    enum PathComponent {
        case key(String)
        case index(Int)
    }

    init() {}

    deinit {
        output.free()
        annotations.free()
    }

    /// The text written by the last `encode` or `encodeValue`, valid until the writer next changes.
    var bytes: UnsafeBufferPointer<UInt8> { output.buffer }

    /// Replaces `bytes` with the text of `document`.
    mutating func encode(_ document: Document) throws(StoreError) {
        beginDocument()
        try writeDocument(document, depth: 1)
        endDocument()
    }

    /// Starts the text of a stored document; what follows writes its members, then `endDocument`.
    mutating func beginDocument() {
        output.count = 0
        annotations.count = 0
        path.removeAll(keepingCapacity: true)
        annotating = true
    }

    /// Adds the `$types` annotations collected since `beginDocument`, after its closing brace.
    mutating func endDocument() {
        guard annotations.count > 0 else { return }
        output.count -= 1  // the closing brace: the annotations become the last member
        append(#","$types":["#)
        output.append(annotations.buffer)
        append("]}")
    }

    /// Replaces `bytes` with `value` as it appears inside a stored document, without annotations.
    mutating func encodeValue(_ value: DocumentValue) throws(StoreError) {
        output.count = 0
        annotating = false
        try writeValue(value, at: .index(0), depth: 0)
    }

    private mutating func writeDocument(_ document: Document, depth: Int) throws(StoreError) {
        try checkDepth(depth)
        output.append(UInt8(ascii: "{"))
        for (offset, field) in document.fields.enumerated() {
            if annotating && depth == 1 && field.key == DocumentJSON.typesKey {
                throw StoreError(.operationFailed, "the top-level field name \(DocumentJSON.typesKey) is reserved by the SQLite store")
            }
            writeMemberName(field.key, at: offset)
            try writeValue(field.value, at: .key(field.key), depth: depth)
        }
        output.append(UInt8(ascii: "}"))
    }

    /// `component` is where `value` sits in its container (pushed on `path` only for containers, so scalars
    /// cost nothing); `depth` is the nesting of that container, as `JSONParser` counts it.
    private mutating func writeValue(_ value: DocumentValue, at component: PathComponent, depth: Int) throws(StoreError) {
        switch value {
        case .string(let s): writeString(s)
        case .bool(let b): b ? append("true") : append("false")
        case .null: append("null")
        case .int64(let i): writeInt64(i, at: component)
        case .int32(let i):
            writeInteger(Int64(i))
            annotate(.int32, component)
        case .double(let d): writeNumber(d, at: component)
        case .date(let date): _ = try writeDate(date, at: component)
        case .document(let document):
            path.append(component)
            try writeDocument(document, depth: depth + 1)
            path.removeLast()
        case .array(let elements):
            try beginArray(at: component, depth: depth)
            for (index, element) in elements.enumerated() {
                writeSeparator(before: index)
                try writeValue(element, at: .index(index), depth: depth + 1)
            }
            endArray()
        }
    }

    /// The comma before every member or element but the first.
    mutating func writeSeparator(before offset: Int) {
        if offset > 0 { output.append(UInt8(ascii: ",")) }
    }

    /// `"name":` of the member at `offset` of an object.
    mutating func writeMemberName(_ name: String, at offset: Int) {
        writeSeparator(before: offset)
        writeString(name)
        output.append(UInt8(ascii: ":"))
    }

    /// Opens an array held at `component` of a container at `depth`; elements follow, then `endArray`.
    mutating func beginArray(at component: PathComponent, depth: Int) throws(StoreError) {
        try checkDepth(depth + 1)
        path.append(component)
        output.append(UInt8(ascii: "["))
    }

    mutating func endArray() {
        path.removeLast()
        output.append(UInt8(ascii: "]"))
    }

    mutating func writeInt64(_ value: Int64, at component: PathComponent) {
        // JSONParser reads integers longer than 19 characters as doubles, losing precision.
        if value <= -1_000_000_000_000_000_000 {
            writeString(String(value))
            annotate(.int64, component)
        } else {
            writeInteger(value)
        }
    }

    mutating func writeNumber(_ value: Double, at component: PathComponent) {
        if value.isFinite {
            writeDouble(value)
        } else {
            append("null")
            annotate(value.isNaN ? .nan : value > 0 ? .infinity : .negativeInfinity, component)
        }
    }

    /// Returns the milliseconds written (the `created_at` column's value for that field).
    mutating func writeDate(_ date: Date, at component: PathComponent) throws(StoreError) -> Int64 {
        let milliseconds = try DocumentJSON.milliseconds(date)
        writeInteger(milliseconds)
        annotate(.date, component)
        return milliseconds
    }

    func checkDepth(_ depth: Int) throws(StoreError) {
        guard depth <= JSONParser.maxDepth else {
            throw StoreError(.operationFailed, "document nested deeper than \(JSONParser.maxDepth) levels")
        }
    }

    mutating func annotate(_ kind: SpecialKind, _ last: PathComponent) {
        guard annotating else { return }
        swap(&output, &annotations)  // write the entry with the same string/number writers
        if output.count > 0 { output.append(UInt8(ascii: ",")) }
        output.append(UInt8(ascii: "["))
        writeString(kind.rawValue)
        for component in path { writeComponent(component) }
        writeComponent(last)
        output.append(UInt8(ascii: "]"))
        swap(&output, &annotations)
    }

    private mutating func writeComponent(_ component: PathComponent) {
        output.append(UInt8(ascii: ","))
        switch component {
        case .key(let key): writeString(key)
        case .index(let index): writeInteger(Int64(index))
        }
    }

    mutating func append(_ literal: StaticString) {
        output.append(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// Decimal digits, written backwards into place.
    mutating func writeInteger(_ value: Int64) {
        var magnitude = value.magnitude
        var digits = 1
        var rest = magnitude / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        let length = digits + (value < 0 ? 1 : 0)
        output.reserve(length)
        var cursor = output.end + length
        repeat {
            cursor -= 1
            cursor.pointee = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
        if value < 0 { output.end.pointee = UInt8(ascii: "-") }
        output.count += length
    }

    /// Always with a "." or an exponent, so it reads back as a double: the text `description` gives. Whole numbers
    /// (common: ticks, prices) and decimals of up to 6 places (features: 0.013, -0.25) skip `description`, whose
    /// general shortest-digits algorithm was an eighth of the SQLite flush's thread; -0.0 keeps its sign through it.
    private mutating func writeDouble(_ value: Double) {
        if value.rounded(.towardZero) == value && value.magnitude < 1e15 && !(value == 0 && value.sign == .minus) {
            writeInteger(Int64(value))
            append(".0")
        } else if !writeShortDecimal(value) {
            // Swift's shortest round-trip form always has a "." or an exponent ("0.1", "1e+16").
            var text = value.description
            text.withUTF8 { output.append($0) }
        }
    }

    private static let decimalScales: [Double] = [1e1, 1e2, 1e3, 1e4, 1e5, 1e6]

    /// Writes `value` as `m` with `k` decimals when `m / 10^k == value` for some `k` ≤ 6, the smallest first. In
    /// [1e-4, 1e9) `description` writes plain decimals, and 10^-6 is over twice the spacing of doubles there, so at
    /// most one `k`-decimal number reads back as `value` and the smallest `k` gives the shortest text, as
    /// `description` chooses it (`DocumentJSONDoubleTests` compares the two).
    private mutating func writeShortDecimal(_ value: Double) -> Bool {
        let magnitude = value.magnitude
        guard magnitude >= 1e-4 && magnitude < 1e9 else { return false }
        for (index, scale) in Self.decimalScales.enumerated() {
            let scaled = (magnitude * scale).rounded()
            guard scaled / scale == magnitude else { continue }
            let places = index + 1
            var digits = Int64(scaled)
            // Integer part, then `places` decimals with their leading zeros.
            if value < 0 { output.append(UInt8(ascii: "-")) }
            var divisor: Int64 = 1
            for _ in 0..<places { divisor *= 10 }
            writeInteger(digits / divisor)
            output.append(UInt8(ascii: "."))
            digits %= divisor
            for _ in 0..<places {
                divisor /= 10
                output.append(UInt8(ascii: "0") + UInt8(digits / divisor))
                digits %= divisor
            }
            return true
        }
        return false
    }

    /// Escapes only what RFC 8259 requires; runs of plain UTF-8 are found 8 bytes at a time and copied at once.
    mutating func writeString(_ string: String) {
        if let done: Void = string.utf8.withContiguousStorageIfAvailable({ writeString(utf8: $0) }) { return done }
        var copy = string
        copy.withUTF8 { writeString(utf8: $0) }
    }

    private mutating func writeString(utf8: UnsafeBufferPointer<UInt8>) {
        output.reserve(utf8.count * 6 + 2)  // the worst case: every byte as \u00XX
        output.appendUnchecked(UInt8(ascii: "\""))
        guard let base = utf8.baseAddress else {
            output.appendUnchecked(UInt8(ascii: "\""))
            return
        }
        var runStart = 0
        var index = 0
        while index < utf8.count {
            if index + 8 <= utf8.count {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                if !Self.mayNeedEscape(word) {
                    index += 8
                    continue
                }
            }
            let byte = base[index]
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                output.appendUnchecked(UnsafeBufferPointer(start: base + runStart, count: index - runStart))
                writeEscape(byte)
                runStart = index + 1
            }
            index += 1
        }
        output.appendUnchecked(UnsafeBufferPointer(start: base + runStart, count: utf8.count - runStart))
        output.appendUnchecked(UInt8(ascii: "\""))
    }

    /// Whether any of the 8 bytes is below 0x20, a quote or a backslash (exact, no false negatives).
    private static func mayNeedEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasZeroByte(_ v: UInt64) -> Bool { (v &- ones) & ~v & highs != 0 }
        let below0x20 = (word &- ones &* 0x20) & ~word & highs != 0
        return below0x20 || hasZeroByte(word ^ (ones &* 0x22)) || hasZeroByte(word ^ (ones &* 0x5C))
    }

    private mutating func writeEscape(_ byte: UInt8) {
        output.appendUnchecked(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): output.appendUnchecked(byte)
        case 0x0A: output.appendUnchecked(UInt8(ascii: "n"))
        case 0x0D: output.appendUnchecked(UInt8(ascii: "r"))
        case 0x09: output.appendUnchecked(UInt8(ascii: "t"))
        default:
            output.appendUnchecked(UInt8(ascii: "u"))
            output.appendUnchecked(UInt8(ascii: "0"))
            output.appendUnchecked(UInt8(ascii: "0"))
            output.appendUnchecked(Self.hexDigits[Int(byte >> 4)])
            output.appendUnchecked(Self.hexDigits[Int(byte & 0x0F)])
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}

/// Growable bytes in raw memory, freed by their owner.
struct RawBytes {
    private(set) var start: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    var count = 0

    init(capacity: Int) {
        start = .allocate(capacity: capacity)
        self.capacity = capacity
    }

    var end: UnsafeMutablePointer<UInt8> { start + count }
    var buffer: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: start, count: count) }

    /// Makes room for `extra` more bytes after `count`.
    mutating func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: max(count + extra, capacity * 2))
        grown.update(from: start, count: count)
        start.deallocate()
        start = grown
        capacity = max(count + extra, capacity * 2)
    }

    mutating func append(_ byte: UInt8) {
        reserve(1)
        appendUnchecked(byte)
    }

    /// After `reserve`.
    mutating func appendUnchecked(_ byte: UInt8) {
        start[count] = byte
        count += 1
    }

    /// After `reserve`.
    mutating func appendUnchecked(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress else { return }
        (start + count).update(from: base, count: bytes.count)
        count += bytes.count
    }

    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress else { return }
        reserve(bytes.count)
        (start + count).update(from: base, count: bytes.count)
        count += bytes.count
    }

    func free() { start.deallocate() }
}
