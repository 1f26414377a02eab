import Foundation

/// Where the migrations come from: a directory named by `--migrations-dir` or `MIGRATIONS_DIR`, else the files
/// built into ted. The built-in ones are the default so that `ted migrate` needs no `./migrations` beside it.
public enum MigrationFiles: Sendable, Equatable, CustomStringConvertible {
    case embedded
    case directory(String)

    /// `explicit` (a command-line option) first, then `MIGRATIONS_DIR`; a blank value counts as unset.
    public static func resolve(explicit: String?, environment: [String: String]) -> MigrationFiles {
        let configured = [explicit, environment["MIGRATIONS_DIR"]]
            .compactMap { $0?.trimmingCharacters(in: .whitespaces) }
            .first { !$0.isEmpty }
        return configured.map(MigrationFiles.directory) ?? .embedded
    }

    public func load() throws(MigrationError) -> [Migration] {
        switch self {
        case .embedded:
            return try MigrationLoader.load(
                files: EmbeddedMigrations.files.map { ($0.name, Array($0.contents.utf8)) }, origin: EmbeddedMigrations.origin)
        case .directory(let path):
            return try MigrationLoader.load(directory: path)
        }
    }

    /// A directory holding the files, for callers that read one themselves (BackupRestorer): the configured one, or
    /// the built-in files written to a new temporary directory.
    public func materialized() throws -> String {
        switch self {
        case .directory(let path):
            return path
        case .embedded:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ted-migrations-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for file in EmbeddedMigrations.files {
                let url = directory.appendingPathComponent(file.name)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(file.contents.utf8).write(to: url)
            }
            return directory.path
        }
    }

    public var description: String {
        switch self {
        case .embedded: EmbeddedMigrations.origin
        case .directory(let path): path
        }
    }
}
