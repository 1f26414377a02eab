import Foundation

/// Why a migration run stopped. Every message names what to look at (file, version, index) and what to do.
public enum MigrationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A migration file that cannot be used; `file` is its path.
    case invalidFile(file: String, reason: String)
    /// The migrations directory as a whole is wrong (unreadable, duplicate or missing versions).
    case invalidDirectory(path: String, reason: String)
    /// Applied migrations whose files changed since.
    case checksumMismatch([ChecksumMismatch])
    /// Existing indexes that have the keys of declared ones but other options; `--force` replaces them.
    case indexConflicts(migration: String, [IndexDifference])
    case lockTimeout(waitedSeconds: Double, holder: String?)
    /// Our lock expired and another runner took it: stop before touching anything else.
    case lockLost
    case unknownVersion(Int, latest: Int)
    /// An applied version to undo whose file is not in the migrations directory.
    case missingFile(version: String)
    case store(StoreError)
    case cancelled

    public var description: String {
        switch self {
        case .invalidFile(let file, let reason):
            return "\(file): \(reason)"
        case .invalidDirectory(let path, let reason):
            return "migrations directory \(path): \(reason)"
        case .checksumMismatch(let mismatches):
            let lines = mismatches.map { "  \($0.fileName): applied with checksum \($0.recorded), file now has \($0.actual)" }
            return "applied migrations were modified after they ran; restore the original files "
                + "(add a new migration for further changes):\n" + lines.joined(separator: "\n")
        case .indexConflicts(let migration, let differences):
            let lines = differences.map { "  \($0.collection): existing \($0.existing.summary), declared \($0.expected.summary)" }
            return "\(migration): indexes exist with the same keys but other options; "
                + "re-run with --force to replace them:\n" + lines.joined(separator: "\n")
        case .lockTimeout(let waited, let holder):
            let by = holder.map { " (held by \($0))" } ?? ""
            return "another migration runner holds the migration lock\(by); gave up after \(Int(waited.rounded())) s. "
                + "A crashed runner's lock expires on its own: retry later"
        case .lockLost:
            return "the migration lock expired and another runner took it; stopped. Re-run to finish"
        case .unknownVersion(let version, let latest):
            return "no migration \(Migration.id(of: version)): the latest is \(Migration.id(of: latest))"
        case .missingFile(let version):
            return "migration \(version) is applied but its file is not in the migrations directory: cannot undo it"
        case .store(let error):
            return error.message
        case .cancelled:
            return "cancelled"
        }
    }
}

public struct ChecksumMismatch: Sendable, Equatable {
    public let version: Int
    public let fileName: String
    public let recorded: String
    public let actual: String
}

/// A declared index and the existing one with the same keys (or the same name) but other options.
public struct IndexDifference: Sendable, Equatable {
    public let collection: CollectionName
    public let expected: IndexSpec
    public let existing: IndexSpec
}
