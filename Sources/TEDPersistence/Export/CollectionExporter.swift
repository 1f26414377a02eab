import Foundation
import TEDCore
import TEDStore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which records of a collection to export.
public struct ExportQuery: Sendable, Equatable {
    /// The schema's `timeField` in [since, until); either bound optional.
    public var since: Date?
    public var until: Date?
    /// Only the records of this game (`game_id`).
    public var gameID: String?

    public init(since: Date? = nil, until: Date? = nil, gameID: String? = nil) {
        self.since = since
        self.until = until
        self.gameID = gameID
    }

    /// The documents of `schema`'s collection this query selects.
    func selection(for schema: ExportSchema) throws(ExportError) -> DocumentSelection {
        if gameID != nil, !schema.hasGameID {
            throw ExportError("--game does not apply to \(schema.collection): its records have no game_id", option: "--game")
        }
        let window = since != nil || until != nil
            ? DocumentSelection.DateWindow(field: schema.timeField, from: since, to: until) : nil
        return DocumentSelection(window: window, gameID: gameID)
    }
}

/// Where an export stands, after each page written.
public struct ExportProgress: Sendable, Equatable {
    public let collection: CollectionName
    /// Records written so far, and the bytes they took (header included).
    public let records: Int
    public let bytes: Int64
}

/// Streams the records of one collection that match a query into a file, page by page (`CollectionPages`): each
/// page is encoded and written before the next is read, so memory holds one page of `pageSize` documents whatever
/// the size of the collection. The file appears under its name only when complete (written under a temporary name
/// in the same directory, then renamed); a failed export leaves no file behind.
public struct CollectionExporter: Sendable {
    public static let defaultPageSize = 1000

    public let store: any DocumentStore
    public let pageSize: Int

    public init(store: any DocumentStore, pageSize: Int = Self.defaultPageSize) {
        self.store = store
        self.pageSize = max(1, pageSize)
    }

    /// How many records `export` would write now (for a progress line).
    public func count(_ schema: ExportSchema, query: ExportQuery) async throws(ExportError) -> Int {
        let selection = try query.selection(for: schema)
        do {
            return try await store.documentCount(of: schema.collection, matching: selection)
        } catch {
            throw ExportError("cannot count \(schema.collection): \(error.message)")
        }
    }

    /// Writes the records of `schema`'s collection matching `query` to `path`; returns the last progress.
    @discardableResult
    public func export(_ schema: ExportSchema, query: ExportQuery, format: ExportFormat, to path: String,
                       progress: (ExportProgress) -> Void = { _ in }) async throws(ExportError) -> ExportProgress {
        let encoder = ExportEncoder(schema: schema, format: format)
        var pages = CollectionPages(store: store, collection: schema.collection, selection: try query.selection(for: schema),
                                    pageSize: pageSize)
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).partial-\(UUID().uuidString.prefix(8))").path
        let output = try ExportFile(creating: temporary)
        var finished = false
        defer {
            output.close()
            if !finished { unlink(temporary) }
        }
        var records = 0
        var bytes: [UInt8] = encoder.header
        var written = Int64(0)
        while true {
            if Task.isCancelled { throw ExportError("export cancelled") }
            let page: [Document]
            do {
                guard let next = try await pages.next() else { break }
                page = next
            } catch {
                throw ExportError("cannot read \(schema.collection) after _id \(pages.lastID ?? "(start)"): \(error.message)")
            }
            bytes.reserveCapacity(bytes.count + page.count * 256)
            for document in page { try encoder.write(document, into: &bytes) }
            try output.write(bytes)
            written += Int64(bytes.count)
            records += page.count
            bytes.removeAll(keepingCapacity: true)
            progress(ExportProgress(collection: schema.collection, records: records, bytes: written))
        }
        if !bytes.isEmpty {  // the header of an empty export
            try output.write(bytes)
            written += Int64(bytes.count)
        }
        try output.synchronize()
        guard rename(temporary, path) == 0 else {
            throw ExportError("cannot rename \(temporary) to \(path): \(String(cString: strerror(errno)))", option: "--out")
        }
        finished = true
        return ExportProgress(collection: schema.collection, records: records, bytes: written)
    }
}

/// The file an export writes, with errors that name it.
private struct ExportFile {
    let path: String
    let handle: FileHandle

    init(creating path: String) throws(ExportError) {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw ExportError("cannot create \(path): check that its directory exists and is writable", option: "--out")
        }
        self.path = path
        self.handle = handle
    }

    func write(_ bytes: [UInt8]) throws(ExportError) {
        do {
            try handle.write(contentsOf: bytes)
        } catch {
            throw ExportError("cannot write \(path): \(error.localizedDescription) (is the disk full?)", option: "--out")
        }
    }

    func synchronize() throws(ExportError) {
        do {
            try handle.synchronize()
        } catch {
            throw ExportError("cannot write \(path): \(error.localizedDescription)", option: "--out")
        }
    }

    func close() { try? handle.close() }
}
