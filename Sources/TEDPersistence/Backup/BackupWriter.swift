import Foundation
import TEDCore
import TEDStore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Exports every data collection and the migration ledger through the store protocol to
/// `<directory>/ted-<backend>-<UTC yyyyMMdd-HHmmss>.ndjson.gz` (format: `BackupHeader`), then keeps the newest
/// `keep` backups and points `latest` at the newest.
///
/// Collections are read in pages of `batchSize` by `_id`, so memory stays bounded whatever their size. The export
/// is not a snapshot: a document written while it runs may or may not be in it, but every document stored before
/// the backup started and not deleted during it is, and the header counts exactly the lines of the file.
/// The file appears under its final name only when complete (written under a temporary name, then renamed).
public struct BackupWriter: Sendable {
    public struct Result: Sendable, Equatable {
        public let path: String
        public let header: BackupHeader
        /// Size of the compressed file.
        public let bytes: Int64
        /// Older backups deleted by the rotation.
        public let removed: [String]
    }

    public let store: any DocumentStore
    public let directory: String
    public let keep: Int
    public let database: String?
    public let batchSize: Int

    /// `database` goes into the header (MongoDB); the store's `location` always does.
    public init(store: any DocumentStore, directory: String, keep: Int, database: String? = nil, batchSize: Int = 2000) {
        self.store = store
        self.directory = directory
        self.keep = max(1, keep)
        self.database = database
        self.batchSize = max(1, batchSize)
    }

    /// The collections a backup holds, in file order: the data, the flag history (operator audit data a restore
    /// must not lose) and the migration ledger.
    public static let collections: [CollectionName] = CollectionName.data + [.flagHistory, .schemaMigrations]

    public func write(now: Date = Date()) async throws(BackupError) -> Result {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw BackupError("cannot create the backup directory \(directory): \(error.localizedDescription)")
        }
        let name = BackupFiles.fileName(backend: store.backend, at: now)
        let path = (directory as NSString).appendingPathComponent(name)
        guard !FileManager.default.fileExists(atPath: path) else {
            throw BackupError("\(path) already exists: a backup was taken this second; retry in a second")
        }
        let token = UUID().uuidString.prefix(8)
        let bodyPath = (directory as NSString).appendingPathComponent(".\(name).\(token).body")
        let ndjsonPath = (directory as NSString).appendingPathComponent(".\(name).\(token).ndjson")
        let gzipPath = (directory as NSString).appendingPathComponent(".\(name).\(token).gz")
        defer {
            for temporary in [bodyPath, ndjsonPath, gzipPath] { try? FileManager.default.removeItem(atPath: temporary) }
        }

        // The documents first, counting them, then the header with the counts in front of them.
        let counts = try await writeBody(to: bodyPath)
        let header = BackupHeader(backend: store.backend.rawValue, database: database, location: store.location,
                                  createdAt: now, collections: counts)
        try assemble(header: header, body: bodyPath, into: ndjsonPath)
        try? FileManager.default.removeItem(atPath: bodyPath)

        let output = try Self.create(gzipPath)
        let complaint: String?
        do {
            complaint = try await Gzip.run(["-9", "-c", ndjsonPath], output: output)
            try output.synchronize()
            try output.close()
        } catch let error as BackupError {
            try? output.close()
            throw error
        } catch {
            try? output.close()
            throw BackupError("cannot write \(gzipPath): \(error.localizedDescription)")
        }
        if let complaint { throw BackupError("gzip failed on \(ndjsonPath): \(complaint)") }

        guard rename(gzipPath, path) == 0 else {
            throw BackupError("cannot rename \(gzipPath) to \(path): \(String(cString: strerror(errno)))")
        }
        BackupFiles.syncDirectory(directory)
        let bytes = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
        let removed = try BackupFiles.rotate(directory: directory, keep: keep)
        return Result(path: path, header: header, bytes: bytes, removed: removed)
    }

    /// Writes one line per document, collection after collection, paging by `_id` (`CollectionPages`).
    private func writeBody(to path: String) async throws(BackupError) -> [CollectionCount] {
        let existing: Set<String>
        do {
            existing = Set(try await store.schema.collectionNames())
        } catch {
            throw BackupError("cannot list the collections of \(store.location): \(error.message)")
        }
        let output = try Self.create(path)
        defer { try? output.close() }
        var counts: [CollectionCount] = []
        for collection in Self.collections {
            guard existing.contains(collection.rawValue) else {
                counts.append(CollectionCount(collection, 0))
                continue
            }
            var written = 0
            var pages = CollectionPages(store: store, collection: collection, pageSize: batchSize)
            while true {
                if Task.isCancelled { throw BackupError("backup cancelled") }
                let page: [Document]
                do {
                    guard let next = try await pages.next() else { break }
                    page = next
                } catch {
                    throw BackupError("cannot read \(collection) after _id \(pages.lastID ?? "(start)"): \(error.message)")
                }
                var bytes: [UInt8] = []
                bytes.reserveCapacity(page.count * 256)
                for document in page {
                    let line: JSONValue
                    do {
                        line = .object(JSONObject([("c", .string(collection.rawValue)), ("d", try ExtendedJSON.encode(document))]))
                    } catch {
                        throw BackupError("\(collection) document \(document["_id"]?.stringValue ?? "?"): \(error.message)")
                    }
                    line.write(into: &bytes)
                    bytes.append(UInt8(ascii: "\n"))
                }
                try Self.write(bytes, to: output, path: path)
                written += page.count
            }
            counts.append(CollectionCount(collection, written))
        }
        do {
            try output.synchronize()
        } catch {
            throw BackupError("cannot write \(path): \(error.localizedDescription)")
        }
        return counts
    }

    /// The header line, then the body copied in chunks.
    private func assemble(header: BackupHeader, body: String, into path: String) throws(BackupError) {
        let output = try Self.create(path)
        defer { try? output.close() }
        var line = header.json.serialized
        line.append(UInt8(ascii: "\n"))
        try Self.write(line, to: output, path: path)
        guard let input = FileHandle(forReadingAtPath: body) else { throw BackupError("cannot read \(body)") }
        defer { try? input.close() }
        while true {
            let chunk: Data?
            do {
                chunk = try input.read(upToCount: LineReader.chunkSize)
            } catch {
                throw BackupError("cannot read \(body): \(error.localizedDescription)")
            }
            guard let chunk, !chunk.isEmpty else { break }
            do {
                try output.write(contentsOf: chunk)
            } catch {
                throw BackupError("cannot write \(path): \(error.localizedDescription)")
            }
        }
    }

    static func create(_ path: String) throws(BackupError) -> FileHandle {
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw BackupError("cannot create \(path): check that the directory exists and is writable")
        }
        return handle
    }

    private static func write(_ bytes: [UInt8], to handle: FileHandle, path: String) throws(BackupError) {
        do {
            try handle.write(contentsOf: bytes)
        } catch {
            throw BackupError("cannot write \(path): \(error.localizedDescription) (is the disk full?)")
        }
    }
}
