import Foundation

/// Writes BSON into one growing block of raw memory. A flush encodes a whole batch into one writer
/// (`MongoStore.encode`), about a dozen fields per tick sample: appended one byte or one integer at a time to a
/// `[UInt8]`, each write paid the array's uniqueness and capacity checks, and the encoding was a quarter of the
/// MongoDB flush's CPU (`perf record` of `scripts/bench`'s drain). Here each field is one capacity check and plain
/// stores. Non-copyable, so the memory has exactly one owner and is freed once.
struct BSONWriter: ~Copyable {
    private var storage: UnsafeMutableRawPointer
    private var capacity: Int
    /// How many bytes are written.
    private(set) var count = 0

    init(capacity: Int = 256) {
        self.capacity = max(capacity, 16)
        storage = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 8)
    }

    deinit { storage.deallocate() }

    /// A copy of what is written.
    var bytes: [UInt8] { Array(UnsafeRawBufferPointer(start: storage, count: count)) }

    /// Forgets everything written from `offset` on (a record that could not be encoded).
    mutating func truncate(to offset: Int) {
        precondition(offset >= 0 && offset <= count, "truncating outside the written bytes")
        count = offset
    }

    /// Reserves the length prefix; returns where it is, for `endDocument`.
    mutating func beginDocument() -> Int {
        let start = count
        append(Int32(0))
        return start
    }

    mutating func endDocument(_ start: Int) throws(StoreError) {
        append(UInt8(0))
        guard let length = Int32(exactly: count - start) else {
            throw StoreError(.operationFailed, "document too large for BSON")
        }
        patch(length, at: start)
    }

    /// Overwrites the four bytes at `offset`: a length prefix, written before what it measures.
    mutating func patch(_ value: Int32, at offset: Int) {
        precondition(offset >= 0 && offset + 4 <= count, "patching outside the written bytes")
        (storage + offset).storeBytes(of: value.littleEndian, as: Int32.self)
    }

    /// A field's type and key. A key is a C string: an embedded NUL would silently cut it, so it is refused.
    mutating func writeHeader(_ type: UInt8, key: String) throws(StoreError) {
        try Self.withUTF8(key) { key throws(StoreError) in
            guard !key.contains(0) else {
                throw StoreError(.operationFailed, "field name contains a NUL byte")
            }
            let tail = reserve(key.count + 2)
            tail.storeBytes(of: type, as: UInt8.self)
            if let base = key.baseAddress { (tail + 1).copyMemory(from: base, byteCount: key.count) }
            (tail + 1 + key.count).storeBytes(of: 0, as: UInt8.self)
            count += key.count + 2
        }
    }

    /// A constant key: known to hold no NUL, so unlike `writeHeader` it is not scanned.
    mutating func header(_ type: UInt8, _ key: StaticString) {
        let length = key.utf8CodeUnitCount
        let tail = reserve(length + 2)
        tail.storeBytes(of: type, as: UInt8.self)
        (tail + 1).copyMemory(from: key.utf8Start, byteCount: length)
        (tail + 1 + length).storeBytes(of: 0, as: UInt8.self)
        count += length + 2
    }

    /// A string value: its length with the terminator, its UTF-8 bytes, the terminator.
    mutating func appendString(_ value: String) throws(StoreError) {
        try Self.withUTF8(value) { utf8 throws(StoreError) in
            guard let length = Int32(exactly: utf8.count + 1) else { throw StoreError(.operationFailed, "string too large for BSON") }
            let tail = reserve(utf8.count + 5)
            tail.storeBytes(of: length.littleEndian, as: Int32.self)
            if let base = utf8.baseAddress { (tail + 4).copyMemory(from: base, byteCount: utf8.count) }
            (tail + 4 + utf8.count).storeBytes(of: 0, as: UInt8.self)
            count += utf8.count + 5
        }
    }

    /// A UTC datetime: milliseconds since the epoch.
    mutating func appendDate(_ date: Date) throws(StoreError) {
        guard let milliseconds = Int64(exactly: (date.timeIntervalSince1970 * 1000).rounded()) else {
            throw StoreError(.operationFailed, "date out of the BSON range")
        }
        append(milliseconds)
    }

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        reserve(MemoryLayout<T>.size).storeBytes(of: value.littleEndian, as: T.self)
        count += MemoryLayout<T>.size
    }

    /// `string`'s UTF-8 bytes, with no length and no terminator.
    mutating func appendUTF8(_ string: String) {
        Self.withUTF8(string) { append(UnsafeRawBufferPointer($0)) }
    }

    mutating func append(_ raw: UnsafeRawBufferPointer) {
        guard let base = raw.baseAddress else { return }
        reserve(raw.count).copyMemory(from: base, byteCount: raw.count)
        count += raw.count
    }

    /// `value` in decimal ASCII, as `String(value)` spells it, without building the string.
    mutating func appendDecimal(_ value: Int) {
        var magnitude = value.magnitude
        var digits = 1
        var rest = magnitude / 10
        while rest > 0 { digits += 1; rest /= 10 }
        let sign = value < 0 ? 1 : 0
        let tail = reserve(sign + digits)
        if sign == 1 { tail.storeBytes(of: UInt8(ascii: "-"), as: UInt8.self) }
        for position in stride(from: sign + digits - 1, through: sign, by: -1) {
            (tail + position).storeBytes(of: UInt8(ascii: "0") + UInt8(magnitude % 10), as: UInt8.self)
            magnitude /= 10
        }
        count += sign + digits
    }

    mutating func writeDocument(_ document: Document, depth: Int) throws(StoreError) {
        guard depth <= BSONCodec.maxDepth else { throw StoreError(.operationFailed, "document nested too deeply") }
        let start = beginDocument()
        for field in document.fields {
            try writeElement(field.key, field.value, depth: depth)
        }
        try endDocument(start)
    }

    private mutating func writeElement(_ key: String, _ value: DocumentValue, depth: Int) throws(StoreError) {
        switch value {
        case .double(let v):
            try writeHeader(BSONType.double, key: key)
            append(v.bitPattern)
        case .string(let s):
            try writeHeader(BSONType.string, key: key)
            try appendString(s)
        case .document(let d):
            try writeHeader(BSONType.document, key: key)
            try writeDocument(d, depth: depth + 1)
        case .array(let values):
            try writeHeader(BSONType.array, key: key)
            guard depth + 1 <= BSONCodec.maxDepth else { throw StoreError(.operationFailed, "document nested too deeply") }
            let start = beginDocument()
            for (index, element) in values.enumerated() {
                try writeElement(String(index), element, depth: depth + 1)
            }
            try endDocument(start)
        case .bool(let b):
            try writeHeader(BSONType.bool, key: key)
            append(UInt8(b ? 1 : 0))
        case .date(let date):
            try writeHeader(BSONType.dateTime, key: key)
            try appendDate(date)
        case .null:
            try writeHeader(BSONType.null, key: key)
        case .int32(let v):
            try writeHeader(BSONType.int32, key: key)
            append(v)
        case .int64(let v):
            try writeHeader(BSONType.int64, key: key)
            append(v)
        }
    }

    /// Where the next `byteCount` bytes go, growing the block if they do not fit; the caller advances `count`.
    @inline(__always)
    private mutating func reserve(_ byteCount: Int) -> UnsafeMutableRawPointer {
        if count + byteCount > capacity { grow(toHold: count + byteCount) }
        return storage + count
    }

    @inline(never)
    private mutating func grow(toHold needed: Int) {
        var newCapacity = capacity
        while newCapacity < needed { newCapacity *= 2 }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 8)
        grown.copyMemory(from: storage, byteCount: count)
        storage.deallocate()
        storage = grown
        capacity = newCapacity
    }

    /// `string`'s UTF-8 bytes in place: native strings are contiguous, so this copies nothing.
    private static func withUTF8<R, E: Error>(_ string: String, _ body: (UnsafeBufferPointer<UInt8>) throws(E) -> R) throws(E) -> R {
        let result: Result<R, E>? = string.utf8.withContiguousStorageIfAvailable { utf8 in
            Result { () throws(E) -> R in try body(utf8) }
        }
        if let result { return try result.get() }
        var copy = string
        return try copy.withUTF8 { utf8 in Result { () throws(E) -> R in try body(utf8) } }.get()
    }
}
