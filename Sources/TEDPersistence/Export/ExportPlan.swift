import Foundation
import TEDCore
import TEDStore

/// The options of `ted export` checked and turned into files to write. Every refusal names its option, so the
/// command can answer before it opens the store.
public struct ExportPlan: Sendable {
    public struct Job: Sendable {
        public let schema: ExportSchema
        public let path: String
    }

    public let jobs: [Job]
    /// Collections `--all` leaves out because `--game` does not apply to them.
    public let skipped: [CollectionName]
    public let query: ExportQuery
    public let format: ExportFormat

    /// `collection` or `all` (exactly one); `out` a file for one collection, a directory for `--all` (created when
    /// missing; files `<collection>.<format>`); `since`/`until` ISO-8601 date-times or dates (UTC midnight).
    public init(collection: String?, all: Bool, since: String?, until: String?, game: String?, format: String?,
                out: String?) throws(ExportError) {
        guard let formatText = format else { throw ExportError("--format is required: ndjson or csv", option: "--format") }
        guard let format = ExportFormat(rawValue: formatText) else {
            throw ExportError("--format must be ndjson or csv, not '\(formatText)'", option: "--format")
        }
        guard let out, !out.isEmpty else { throw ExportError("--out is required: the file (or, with --all, the directory) to write", option: "--out") }
        let query = ExportQuery(since: try Self.date(since, option: "--since"), until: try Self.date(until, option: "--until"),
                                gameID: game)
        if let since = query.since, let until = query.until, until <= since {
            throw ExportError("--until must be later than --since (the window is [since, until))", option: "--until")
        }
        if let game, game.isEmpty { throw ExportError("--game must not be empty", option: "--game") }
        let names = ExportSchema.all.map(\.collection.rawValue).joined(separator: ", ")
        switch (collection, all) {
        case (nil, false):
            throw ExportError("give --collection NAME (one of \(names)) or --all", option: "--collection")
        case (.some, true):
            throw ExportError("give either --collection or --all, not both", option: "--all")
        case (let name?, false):
            guard let schema = ExportSchema.of(CollectionName(name)) else {
                throw ExportError("--collection must be one of \(names), not '\(name)'", option: "--collection")
            }
            _ = try query.selection(for: schema)  // --game on a collection without games
            try Self.checkFile(out)
            jobs = [Job(schema: schema, path: out)]
            skipped = []
        case (nil, true):
            try Self.prepareDirectory(out)
            let schemas = ExportSchema.all.filter { game == nil || $0.hasGameID }
            jobs = schemas.map { Job(schema: $0, path: (out as NSString).appendingPathComponent("\($0.collection).\(format.fileExtension)")) }
            skipped = ExportSchema.all.filter { game != nil && !$0.hasGameID }.map(\.collection)
        }
        self.query = query
        self.format = format
    }

    /// An ISO-8601 date-time (`Timestamp.parseISO8601`: no zone means UTC) or a bare date, read as UTC midnight.
    static func date(_ text: String?, option: String) throws(ExportError) -> Date? {
        guard let text else { return nil }
        if let date = Timestamp.parseISO8601(text) ?? Timestamp.parseISO8601(text + "T00:00:00Z") { return date }
        throw ExportError("\(option) must be an ISO-8601 date-time (2026-11-22T20:00:00Z) or a date (2026-11-22), not '\(text)'",
                          option: option)
    }

    private static func checkFile(_ path: String) throws(ExportError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ExportError("--out \(path) is a directory: give a file path (a directory is for --all)", option: "--out")
        }
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ExportError("--out \(path): the directory \(parent) does not exist", option: "--out")
        }
    }

    private static func prepareDirectory(_ path: String) throws(ExportError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw ExportError("--out \(path) is a file: with --all, --out is a directory (one file per collection)", option: "--out")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ExportError("--out: cannot create the directory \(path): \(error.localizedDescription)", option: "--out")
        }
    }
}
