import Foundation
import TEDCore
import TEDStore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a backup, a restore or a check of a backup failed. The message names the file and what to do.
public struct BackupError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A collection and how many documents of it a backup holds (or a restore wrote).
public struct CollectionCount: Sendable, Equatable, CustomStringConvertible {
    public let name: CollectionName
    public let count: Int
    public init(_ name: CollectionName, _ count: Int) {
        self.name = name
        self.count = count
    }
    public var description: String { "\(name): \(count)" }
}

/// The first line of a backup:
/// `{"ted_backup": 1, "backend": "sqlite", "location": "…", "created_at": "…Z", "collections": {"games": 12, …}}`
/// (plus `"database"` for MongoDB). Every following line is `{"c": "<collection>", "d": <canonical Extended JSON>}`,
/// grouped by collection in the header's order.
public struct BackupHeader: Sendable, Equatable {
    public static let formatVersion = 1

    public var version: Int
    public var backend: String
    public var database: String?
    public var location: String?
    public var createdAt: Date
    /// In file order; the counts are the number of document lines that follow.
    public var collections: [CollectionCount]

    public init(version: Int = BackupHeader.formatVersion, backend: String, database: String?, location: String?,
                createdAt: Date, collections: [CollectionCount]) {
        self.version = version
        self.backend = backend
        self.database = database
        self.location = location
        self.createdAt = createdAt
        self.collections = collections
    }

    public func count(of collection: CollectionName) -> Int? {
        collections.first { $0.name == collection }?.count
    }

    var json: JSONValue {
        var entries: [(key: String, value: JSONValue)] = [
            ("ted_backup", .int(Int64(version))), ("backend", .string(backend)),
        ]
        if let database { entries.append(("database", .string(database))) }
        if let location { entries.append(("location", .string(location))) }
        entries.append(("created_at", .string(Timestamp.formatISO8601(createdAt))))
        entries.append(("collections", .object(JSONObject(collections.map { ($0.name.rawValue, JSONValue.int(Int64($0.count))) }))))
        return .object(JSONObject(entries))
    }

    /// Reads a header line; `file` names the backup in the error.
    static func parse(_ line: some Collection<UInt8>, file: String) throws(BackupError) -> BackupHeader {
        let invalid = { (reason: String) in
            BackupError("\(file) is not a ted backup: its first line \(reason)")
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(line)
        } catch {
            throw invalid("is not JSON (\(error))")
        }
        guard case .object(let object) = value, let versionValue = object["ted_backup"] else {
            throw invalid("is not a header with \"ted_backup\"")
        }
        guard case .int(let version) = versionValue, version == Int64(formatVersion) else {
            throw BackupError("\(file) has backup format \(versionValue.serializedString); this ted reads format \(formatVersion) only")
        }
        guard case .string(let backend)? = object["backend"],
              case .string(let created)? = object["created_at"], let createdAt = Timestamp.parseISO8601(created),
              case .object(let counts)? = object["collections"] else {
            throw invalid("lacks backend, created_at or collections")
        }
        var collections: [CollectionCount] = []
        for entry in counts.entries {
            guard case .int(let count) = entry.value, count >= 0, !entry.key.isEmpty else {
                throw invalid("has an invalid count for \(entry.key): \(entry.value.serializedString)")
            }
            collections.append(CollectionCount(CollectionName(entry.key), Int(count)))
        }
        return BackupHeader(version: Int(version), backend: backend, database: object["database"]?.stringValue,
                            location: object["location"]?.stringValue, createdAt: createdAt, collections: collections)
    }
}

/// Names, listing, rotation and the `latest` link of the backup directory.
public enum BackupFiles {
    public static let latestName = "latest"
    static let suffix = ".ndjson.gz"

    /// `ted-<backend>-<UTC yyyyMMdd-HHmmss>.ndjson.gz`.
    public static func fileName(backend: StoreBackend, at date: Date) -> String {
        "ted-\(backend.rawValue)-\(stamp(date))\(suffix)"
    }

    /// `yyyyMMdd-HHmmss` in UTC.
    static func stamp(_ date: Date) -> String {
        // 2026-11-22T20:21:31.123Z
        let iso = Array(Timestamp.formatISO8601(date))
        return String(iso[0..<4] + iso[5..<7] + iso[8..<10]) + "-" + String(iso[11..<13] + iso[14..<16] + iso[17..<19])
    }

    /// The timestamp of a backup's file name, or nil for any other name (temporary files start with a dot).
    static func stamp(ofFileName name: String) -> String? {
        guard name.hasPrefix("ted-"), name.hasSuffix(suffix) else { return nil }
        let stem = name.dropLast(suffix.count)
        guard stem.count > "ted-".count + 16 else { return nil }
        let stamp = stem.suffix(15)
        let ok = stamp.enumerated().allSatisfy { index, character in
            index == 8 ? character == "-" : character.isASCII && character.isNumber
        }
        return ok && stem.dropLast(15).hasSuffix("-") ? String(stamp) : nil
    }

    /// The backups of `directory`, oldest first (by the time in their names, then by name).
    public static func list(in directory: String) throws(BackupError) -> [String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw BackupError("cannot list the backup directory \(directory): \(error.localizedDescription)")
        }
        return names.compactMap { name in stamp(ofFileName: name).map { (stamp: $0, name: name) } }
            .sorted { ($0.stamp, $0.name) < ($1.stamp, $1.name) }
            .map(\.name)
    }

    /// `latest` (the target of the `latest` link of `directory`) or a path, as the commands accept it.
    public static func resolve(_ argument: String, directory: String) throws(BackupError) -> String {
        guard argument == latestName else {
            guard FileManager.default.fileExists(atPath: argument) else { throw BackupError("no backup file \(argument)") }
            return argument
        }
        let link = (directory as NSString).appendingPathComponent(latestName)
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: link) else {
            throw BackupError("no backup to restore: \(link) does not exist (run `ted backup` first, or name a file)")
        }
        let path = target.hasPrefix("/") ? target : (directory as NSString).appendingPathComponent(target)
        guard FileManager.default.fileExists(atPath: path) else {
            throw BackupError("\(link) points at \(target), which does not exist")
        }
        return path
    }

    /// Deletes all but the newest `keep` backups and points `latest` at the newest. Returns the deleted names.
    @discardableResult
    public static func rotate(directory: String, keep: Int) throws(BackupError) -> [String] {
        let backups = try list(in: directory)
        let doomed = backups.dropLast(max(1, keep))
        for name in doomed {
            let path = (directory as NSString).appendingPathComponent(name)
            guard unlink(path) == 0 || errno == ENOENT else {
                throw BackupError("cannot delete the old backup \(path): \(String(cString: strerror(errno)))")
            }
        }
        if let newest = backups.last { try pointLatest(at: newest, directory: directory) }
        return Array(doomed)
    }

    /// Replaces the `latest` link atomically with one to `name` (relative, so the directory can move).
    static func pointLatest(at name: String, directory: String) throws(BackupError) {
        let link = (directory as NSString).appendingPathComponent(latestName)
        let temporary = (directory as NSString).appendingPathComponent(".\(latestName).\(UUID().uuidString.prefix(8))")
        guard symlink(name, temporary) == 0 else {
            throw BackupError("cannot create the link \(temporary): \(String(cString: strerror(errno)))")
        }
        guard rename(temporary, link) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw BackupError("cannot point \(link) at \(name): \(reason)")
        }
    }

    /// Makes a rename in `directory` durable.
    static func syncDirectory(_ directory: String) {
        let descriptor = open(directory, O_RDONLY)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }
}

/// Runs `gzip` to compress a backup, told of its exit by the process's termination handler (`waitUntilExit` spins a
/// CPU on Linux). Reading one back needs no process: `GzipInflater`.
enum Gzip {
    /// Runs `gzip arguments`, its standard output going to `output`. Returns gzip's complaint when it exits non-zero.
    /// Cancelling the calling task kills gzip.
    static func run(_ arguments: [String], output: FileHandle) async throws(BackupError) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip"] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        let errors = Pipe()
        process.standardError = errors
        do {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (exited: CheckedContinuation<Void, any Error>) in
                    process.terminationHandler = { _ in exited.resume() }
                    do { try process.run() } catch { return exited.resume(throwing: error) }
                    // A cancellation that came before the launch found nothing to stop.
                    if Task.isCancelled { Self.stop(process) }
                }
            } onCancel: {
                if process.isRunning { Self.stop(process) }
            }
        } catch {
            throw BackupError("cannot run gzip: \(error.localizedDescription)")
        }
        // gzip's messages are a line or two: far below a pipe's buffer, so reading after the exit cannot deadlock.
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if Task.isCancelled { throw BackupError("cancelled") }
        guard process.terminationReason == .exit else {
            return "gzip was killed by signal \(process.terminationStatus)"
        }
        guard process.terminationStatus != 127 else { throw BackupError("cannot run gzip: it is not installed (\(message))") }
        return process.terminationStatus == 0 ? nil : (message.isEmpty ? "gzip exited with status \(process.terminationStatus)" : message)
    }

    /// SIGKILL, not `Process.terminate()`'s SIGTERM: a child spawned from a pool thread inherits that thread's blocked
    /// signals on Linux, SIGTERM among them, and would compress on.
    private static func stop(_ process: Process) {
        _ = kill(process.processIdentifier, SIGKILL)
    }
}

/// Reads a file line by line through a fixed-size buffer (plus the longest line).
struct LineReader {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    static let chunkSize = 1 << 20

    init(handle: FileHandle) { self.handle = handle }

    /// The next line without its `\n`, and whether it had one (the last line of a cut file does not).
    mutating func next() throws(BackupError) -> (line: [UInt8], terminated: Bool)? {
        var searchFrom = start
        while true {
            if let newline = buffer[searchFrom...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(buffer[start..<newline])
                start = newline + 1
                return (line, true)
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start...])
                start = buffer.count
                return (line, false)
            }
            buffer.removeSubrange(0..<start)
            start = 0
            searchFrom = buffer.count
            let chunk: Data?
            do {
                chunk = try handle.read(upToCount: Self.chunkSize)
            } catch {
                throw BackupError("cannot read: \(error.localizedDescription)")
            }
            if let chunk, !chunk.isEmpty {
                buffer.append(contentsOf: chunk)
            } else {
                atEnd = true
            }
        }
    }
}
