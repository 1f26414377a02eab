import Foundation

/// Reads spool rows straight from the table-leaf pages of a damaged SQLite file, without its b-tree.
///
/// SQLite finds a row by descending the table's b-tree from its root; when a truncation cuts away the interior
/// pages, every leaf page after them is out of reach although intact. This scanner reads the file page by page
/// (the SQLite file format, https://sqlite.org/fileformat2.html), decodes every cell of every table-leaf page whose
/// record has the shape of a `spool` row (`seq` as the rowid, three TEXT columns, one INTEGER) and hands it on.
/// Cells come out in file order, not `seq` order, and may be garbage that happens to have that shape: callers
/// trust a row only once its checksum holds.
///
/// Only cells listed in a page's cell pointer array are read, and the spool runs with `secure_delete`, which zeroes
/// deleted cells and freed pages: a deleted (already replayed) row is not found again.
struct SpoolPageScanner: ~Copyable {
    private let descriptor: Int32
    private let pageSize: Int
    /// Page size minus the bytes reserved at the end of each page.
    private let usableSize: Int
    private let pageCount: Int

    /// `nil` when the file cannot be opened or is shorter than one page.
    init?(path: String) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        var header = [UInt8](repeating: 0, count: 100)
        var info = stat()
        guard fstat(descriptor, &info) == 0, pread(descriptor, &header, 100, 0) == 100 else {
            close(descriptor)
            return nil
        }
        // A damaged header gets SQLite's default page size rather than no scan at all.
        let raw = Int(header[16]) << 8 | Int(header[17])
        let size = raw == 1 ? 65536 : raw
        let pageSize = (512...65536).contains(size) && size & (size - 1) == 0 ? size : 4096
        let reserved = Int(header[20])
        self.descriptor = descriptor
        self.pageSize = pageSize
        usableSize = pageSize - reserved >= 480 ? pageSize - reserved : pageSize
        // A trailing partial page is read too: cells that still fit in it are as good as any.
        pageCount = (Int(info.st_size) + pageSize - 1) / pageSize
    }

    deinit { close(descriptor) }

    /// Calls `body` with every cell shaped like a `spool` row, in file order.
    func forEachRow(_ body: (SpoolRawRow) throws(StoreError) -> Void) throws(StoreError) {
        var page = [UInt8](repeating: 0, count: pageSize)
        for number in 1...max(1, pageCount) {
            guard read(page: number, into: &page) else { continue }
            let header = number == 1 ? 100 : 0
            // 0x0D: a leaf page of a table b-tree.
            guard page[header] == 0x0D else { continue }
            let cells = Int(page[header + 3]) << 8 | Int(page[header + 4])
            let pointers = header + 8
            guard pointers + 2 * cells <= usableSize else { continue }
            for index in 0..<cells {
                let offset = Int(page[pointers + 2 * index]) << 8 | Int(page[pointers + 2 * index + 1])
                guard offset >= pointers + 2 * cells, offset < usableSize,
                    let row = cell(at: offset, of: page)
                else { continue }
                try body(row)
            }
        }
    }

    /// Reads page `number` (1-based); the part past the end of the file reads as zeros.
    private func read(page number: Int, into buffer: inout [UInt8]) -> Bool {
        let count = buffer.withUnsafeMutableBytes { bytes in
            pread(descriptor, bytes.baseAddress, pageSize, off_t((number - 1) * pageSize))
        }
        guard count > 0 else { return false }
        if count < pageSize { buffer.replaceSubrange(count..<pageSize, with: repeatElement(0, count: pageSize - count)) }
        return true
    }

    /// Decodes the table-leaf cell at `offset`: payload size, rowid, payload (and its overflow pages, if any).
    private func cell(at offset: Int, of page: [UInt8]) -> SpoolRawRow? {
        var cursor = offset
        guard let payloadSize = Self.varint(page, &cursor, limit: usableSize),
            let rowid = Self.varint(page, &cursor, limit: usableSize),
            payloadSize > 0, payloadSize <= Int64(pageSize) * Int64(pageCount)
        else { return nil }
        let total = Int(payloadSize)
        let local = localPayload(total)
        guard cursor + local <= usableSize else { return nil }
        var payload = Array(page[cursor..<cursor + local])
        if local < total {
            guard cursor + local + 4 <= usableSize,
                let rest = overflow(from: Self.uint32(page, cursor + local), bytes: total - local)
            else { return nil }
            payload += rest
        }
        return Self.spoolRow(rowid: rowid, record: payload)
    }

    /// How much of a payload of `total` bytes a table-leaf cell keeps on its own page (the file format's rule).
    private func localPayload(_ total: Int) -> Int {
        let maxLocal = usableSize - 35
        guard total > maxLocal else { return total }
        let minLocal = (usableSize - 12) * 32 / 255 - 23
        let candidate = minLocal + (total - minLocal) % (usableSize - 4)
        return candidate <= maxLocal ? candidate : minLocal
    }

    /// The rest of a payload, from its chain of overflow pages; `nil` if the chain leaves the file or loops.
    private func overflow(from first: Int, bytes: Int) -> [UInt8]? {
        var collected: [UInt8] = []
        collected.reserveCapacity(bytes)
        var next = first
        var page = [UInt8](repeating: 0, count: pageSize)
        var hops = 0
        while collected.count < bytes {
            hops += 1
            guard next >= 2, next <= pageCount, hops <= pageCount, read(page: next, into: &page) else { return nil }
            let take = min(bytes - collected.count, usableSize - 4)
            collected += page[4..<4 + take]
            next = Self.uint32(page, 0)
        }
        return collected
    }

    /// The record of a `spool` row: `seq` (the rowid, so NULL in the record), collection, record_id, doc, checksum.
    private static func spoolRow(rowid: Int64, record: [UInt8]) -> SpoolRawRow? {
        var cursor = 0
        guard let headerSize = varint(record, &cursor, limit: record.count), headerSize <= Int64(record.count) else {
            return nil
        }
        var types: [Int64] = []
        while cursor < Int(headerSize) {
            guard types.count < 5, let type = varint(record, &cursor, limit: Int(headerSize)) else { return nil }
            types.append(type)
        }
        guard types.count == 5, types[0] == 0 else { return nil }
        var body = Int(headerSize)
        var texts: [[UInt8]] = []
        for type in types[1...3] {
            // Odd serial types from 13 on are TEXT of (type - 13) / 2 bytes.
            guard type >= 13, type % 2 == 1 else { return nil }
            let length = Int((type - 13) / 2)
            guard body + length <= record.count else { return nil }
            texts.append(Array(record[body..<body + length]))
            body += length
        }
        guard let checksum = integer(types[4], record, at: body) else { return nil }
        return SpoolRawRow(
            seq: rowid, collection: String(decoding: texts[0], as: UTF8.self),
            recordID: String(decoding: texts[1], as: UTF8.self), doc: texts[2], checksum: checksum)
    }

    /// An INTEGER column of serial type `type` (1–6: big-endian two's complement; 8 and 9: the constants 0 and 1).
    private static func integer(_ type: Int64, _ bytes: [UInt8], at offset: Int) -> Int64? {
        let width: Int
        switch type {
        case 8: return 0
        case 9: return 1
        case 1...4: width = Int(type)
        case 5: width = 6
        case 6: width = 8
        default: return nil
        }
        guard offset + width <= bytes.count else { return nil }
        var value: Int64 = bytes[offset] & 0x80 == 0 ? 0 : -1
        for byte in bytes[offset..<offset + width] { value = value << 8 | Int64(byte) }
        return value
    }

    /// A SQLite varint: 1 to 9 bytes, big-endian, 7 bits a byte with the high bit as "more", all 8 bits in the 9th.
    private static func varint(_ bytes: [UInt8], _ cursor: inout Int, limit: Int) -> Int64? {
        var value: UInt64 = 0
        for index in 0..<9 {
            guard cursor < limit, cursor < bytes.count else { return nil }
            let byte = bytes[cursor]
            cursor += 1
            if index == 8 { return Int64(bitPattern: value << 8 | UInt64(byte)) }
            value = value << 7 | UInt64(byte & 0x7F)
            if byte & 0x80 == 0 { return Int64(bitPattern: value) }
        }
        return nil
    }

    private static func uint32(_ bytes: [UInt8], _ offset: Int) -> Int {
        Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
    }
}
