import Foundation
import TEDCore
import TEDStore

/// Reads a backup written by `BackupWriter`: decompressed once with zlib (`GzipInflater`, within
/// `ExpansionLimits`) to a temporary file, then read line by line with bounded memory. `validate()` checks the whole file (header, every line, the counts per
/// collection) before anything trusts it; `forEachBatch` streams the documents. Call `close()` when done.
public struct BackupReader: Sendable {
    public let file: String
    let decompressed: String
    /// The complaint, worded as gzip's, when not everything could be decompressed (a cut or damaged file): what
    /// was decompressed is still read, so the error can say what is missing.
    let gzipComplaint: String?

    /// Decompresses `file` into `scratchDirectory` (default: the system's temporary directory), refusing it as soon
    /// as it expands past `limits`.
    public static func open(_ file: String, scratchDirectory: String? = nil,
                            limits: ExpansionLimits = .backups) async throws(BackupError) -> BackupReader {
        guard FileManager.default.isReadableFile(atPath: file) else { throw BackupError("cannot read the backup \(file)") }
        let scratch = scratchDirectory ?? FileManager.default.temporaryDirectory.path
        let decompressed = (scratch as NSString).appendingPathComponent("ted-restore-\(UUID().uuidString).ndjson")
        let output = try BackupWriter.create(decompressed)
        var complaint: String?
        var writeError: String?
        do throws(GzipError) {
            var inflater = try GzipInflater()
            complaint = try inflater.inflate(file, limits: limits) { bytes in
                do {
                    try output.write(contentsOf: Data(bytes))
                    return true
                } catch {
                    writeError = error.localizedDescription
                    return false
                }
            }
        } catch {
            try? output.close()
            try? FileManager.default.removeItem(atPath: decompressed)
            throw BackupError(error.message)
        }
        try? output.close()
        if let writeError {
            try? FileManager.default.removeItem(atPath: decompressed)
            throw BackupError("cannot write \(decompressed): \(writeError)")
        }
        return BackupReader(file: file, decompressed: decompressed, gzipComplaint: complaint)
    }

    /// Deletes the decompressed copy.
    public func close() {
        try? FileManager.default.removeItem(atPath: decompressed)
    }

    /// Only the header, without decompressing the rest (zlib stops after the first line).
    public static func readHeader(_ file: String) async throws(BackupError) -> BackupHeader {
        guard FileManager.default.isReadableFile(atPath: file) else { throw BackupError("cannot read the backup \(file)") }
        var line: [UInt8] = []
        do throws(GzipError) {
            var inflater = try GzipInflater()
            _ = try inflater.inflate(file, limits: .backups) { bytes in
                if let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) {
                    line.append(contentsOf: bytes[..<newline])
                    return false
                }
                line.append(contentsOf: bytes)
                // A header is a few hundred bytes; no header reaches 1 MiB.
                return line.count < 1 << 20
            }
        } catch {
            throw BackupError(error.message)
        }
        // Without a newline the file ends inside its first line: a cut header, or no backup at all.
        guard !line.isEmpty else { throw BackupError("\(file) is empty or not a gzip file") }
        return try BackupHeader.parse(line, file: file)
    }

    /// Reads the whole file: the header, every line (JSON, known collection, valid Extended JSON, a document the
    /// store and the service accept: `BackupDocumentCheck`) and the number of documents of each collection against
    /// the header. A cut file is refused naming what is missing.
    @discardableResult
    public func validate() throws(BackupError) -> BackupHeader {
        var header: BackupHeader?
        var seen: [CollectionName: Int] = [:]
        var truncatedLine = false
        try scan { (number, line, terminated) throws(BackupError) in
            guard terminated else {
                truncatedLine = true
                return false
            }
            guard let current = header else {
                header = try BackupHeader.parse(line, file: file)
                return true
            }
            let (collection, document) = try parseLine(line, number: number, header: current)
            if let problem = BackupDocumentCheck.problem(with: document, in: collection) {
                throw BackupError("\(file) line \(number): \(problem); refusing the backup (nothing was changed)")
            }
            seen[collection, default: 0] += 1
            return true
        }
        guard let header else {
            throw BackupError("\(file) is empty" + (gzipComplaint.map { " (gzip: \($0))" } ?? ""))
        }
        var missing: [String] = []
        var extra: [String] = []
        for expected in header.collections {
            let found = seen[expected.name] ?? 0
            if found < expected.count { missing.append("\(expected.name) has \(found) of \(expected.count) documents") }
            if found > expected.count { extra.append("\(expected.name) has \(found) documents, its header says \(expected.count)") }
        }
        if !missing.isEmpty || truncatedLine || gzipComplaint != nil {
            var reasons: [String] = []
            if !missing.isEmpty { reasons.append("missing: " + missing.joined(separator: ", ")) }
            if truncatedLine { reasons.append("its last line is cut") }
            if let gzipComplaint { reasons.append("gzip: \(gzipComplaint)") }
            throw BackupError("\(file) is truncated or damaged; refusing it (\(reasons.joined(separator: "; ")))")
        }
        guard extra.isEmpty else {
            throw BackupError("\(file) does not match its header: " + extra.joined(separator: ", "))
        }
        return header
    }

    /// Calls `body` with consecutive documents of one collection, up to `size` at a time, in file order.
    /// Run `validate()` first: this reads without counting.
    public func forEachBatch(
        size: Int, _ body: (CollectionName, [Document]) async throws(BackupError) -> Void
    ) async throws(BackupError) {
        guard let handle = FileHandle(forReadingAtPath: decompressed) else { throw BackupError("cannot read \(decompressed)") }
        defer { try? handle.close() }
        var reader = LineReader(handle: handle)
        var header: BackupHeader?
        var number = 0
        var batch: [Document] = []
        var batchCollection: CollectionName?
        while let next = try reader.next() {
            let (line, terminated) = next
            number += 1
            guard terminated else { throw BackupError("\(file) line \(number) is cut") }
            guard let current = header else {
                header = try BackupHeader.parse(line, file: file)
                continue
            }
            let (collection, document) = try parseLine(line, number: number, header: current)
            if let batchCollection, batchCollection != collection || batch.count >= size {
                try await body(batchCollection, batch)
                batch.removeAll(keepingCapacity: true)
            }
            batchCollection = collection
            batch.append(document)
        }
        if let batchCollection, !batch.isEmpty { try await body(batchCollection, batch) }
    }

    /// Calls `body(line number, line, ended with a newline)` for every line until it returns false.
    private func scan(_ body: (Int, [UInt8], Bool) throws(BackupError) -> Bool) throws(BackupError) {
        guard let handle = FileHandle(forReadingAtPath: decompressed) else { throw BackupError("cannot read \(decompressed)") }
        defer { try? handle.close() }
        var reader = LineReader(handle: handle)
        var number = 0
        while let next = try reader.next() {
            number += 1
            guard try body(number, next.line, next.terminated) else { return }
        }
    }

    private func parseLine(_ line: [UInt8], number: Int, header: BackupHeader) throws(BackupError) -> (CollectionName, Document) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(line)
        } catch {
            throw BackupError("\(file) line \(number): \(error)")
        }
        guard case .object(let object) = value, object.entries.count == 2,
              case .string(let name)? = object["c"], let data = object["d"] else {
            throw BackupError("\(file) line \(number): expected {\"c\": collection, \"d\": document}")
        }
        let collection = CollectionName(name)
        guard header.count(of: collection) != nil else {
            throw BackupError("\(file) line \(number): collection \(name) is not in the header")
        }
        do {
            return (collection, try ExtendedJSON.decodeDocument(data))
        } catch {
            throw BackupError("\(file) line \(number): \(error.message)")
        }
    }
}
