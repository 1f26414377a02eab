import Foundation
import Synchronization
import TEDCore
#if canImport(Glibc)
import Glibc
#endif

/// The local, append-only record of this host's flag changes (JSON Lines next to the spool): every change is written
/// here first, and a `{"synced": id}` line follows once the store has it. So a change survives an unreachable store,
/// a flag that is off (nothing goes to the store then) and a restart; a lost mark only means one more sync, which
/// the deterministic id makes "already stored". Changes are rare: the whole file is read at start and kept in memory.
final class FlagHistoryJournal: Sendable {
    struct State {
        /// In the order they happened.
        var changes: [FlagChange] = []
        var synced: Set<String> = []
        /// The file ends in a torn line (a crash mid-write): the next line must start on a line of its own.
        var needsNewline = false
    }

    /// Nil keeps the journal in memory only (tests, or a service without a data directory).
    let path: String?
    private let state: Mutex<State>

    /// Lines of the file that could not be read at start.
    let unreadableLines: Int

    /// A journal kept in memory only.
    init() {
        path = nil
        unreadableLines = 0
        state = Mutex(State())
    }

    /// Reads what an earlier run left; a line that cannot be read (torn by a crash) is skipped and counted.
    init(path: String) throws {
        self.path = path
        var loaded = State()
        var unreadable = 0
        if FileManager.default.fileExists(atPath: path) {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            loaded.needsNewline = bytes.last.map { $0 != UInt8(ascii: "\n") } ?? false
            for line in bytes.split(separator: UInt8(ascii: "\n")) {
                guard case .object(let object)? = try? JSONParser.parse(line) else {
                    unreadable += 1
                    continue
                }
                if case .object(let change)? = object["change"], let change = FlagChange(journalJSON: change) {
                    loaded.changes.append(change)
                } else if let id = object["synced"]?.stringValue {
                    loaded.synced.insert(id)
                } else {
                    unreadable += 1
                }
            }
        }
        unreadableLines = unreadable
        state = Mutex(loaded)
    }

    var unsynced: [FlagChange] { state.withLock { state in state.changes.filter { !state.synced.contains($0.id) } } }

    /// Keeps the change (in memory even when the file cannot be written: it is still served and synced).
    func append(_ change: FlagChange) throws {
        try state.withLock { state in
            state.changes.append(change)
            try write(["change": change.journalJSON], &state)
        }
    }

    func markSynced(_ ids: [String]) throws {
        try state.withLock { state in
            let new = ids.filter { state.synced.insert($0).inserted }
            for id in new { try write(["synced": .string(id)], &state) }
        }
    }

    /// Appends one line and waits for the disk (O_APPEND: a line is never interleaved with another writer's).
    private func write(_ line: JSONValue, _ state: inout State) throws {
        guard let path else { return }
        var bytes = state.needsNewline ? [UInt8(ascii: "\n")] : []
        bytes += line.serialized
        bytes.append(UInt8(ascii: "\n"))
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw JournalError(path: path, operation: "open", code: errno) }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw JournalError(path: path, operation: "write", code: errno) }
        guard fsync(fd) == 0 else { throw JournalError(path: path, operation: "fsync", code: errno) }
        state.needsNewline = false
    }

    struct JournalError: Error, CustomStringConvertible {
        let path: String
        let operation: String
        let code: Int32
        var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }
    }
}
