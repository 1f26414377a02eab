import Foundation
import TEDCore

/// Reads the migrations directory: one `NNNN_name.json` file per version, versions 1, 2, 3… without gaps, so that
/// every database reaches the same schema by the same steps. A version only one backend takes lives in that
/// backend's folder (`sqlite/0003_tick_sample_columns.json`); versions count across all folders, so the other
/// backends simply have none of that number.
public enum MigrationLoader {
    public static func load(directory: String) throws(MigrationError) -> [Migration] {
        var files: [(name: String, bytes: [UInt8])] = []
        for folder in [nil] + StoreBackend.allCases.map(\.rawValue) {
            let path = folder.map { (directory as NSString).appendingPathComponent($0) } ?? directory
            // A backend's folder is optional; the directory itself is not.
            if folder != nil && !FileManager.default.fileExists(atPath: path) { continue }
            let fileNames: [String]
            do {
                fileNames = try FileManager.default.contentsOfDirectory(atPath: path)
            } catch {
                throw MigrationError.invalidDirectory(path: path, reason: "cannot be read (\(error.localizedDescription))")
            }
            for fileName in fileNames.sorted() where fileName.hasSuffix(".json") && !fileName.hasPrefix(".") {
                let name = folder.map { "\($0)/\(fileName)" } ?? fileName
                guard let data = FileManager.default.contents(atPath: (directory as NSString).appendingPathComponent(name)) else {
                    throw MigrationError.invalidFile(file: (directory as NSString).appendingPathComponent(name), reason: "cannot be read")
                }
                files.append((name, Array(data)))
            }
        }
        return try load(files: files, origin: directory)
    }

    /// Parses and checks migration files already read (from a directory, or built in); `origin` names where they
    /// come from in messages. A name `backend/file.json` is a file of that backend's folder.
    public static func load(files: [(name: String, bytes: [UInt8])], origin directory: String) throws(MigrationError) -> [Migration] {
        var migrations: [Migration] = []
        for (relativePath, bytes) in files {
            let path = (directory as NSString).appendingPathComponent(relativePath)
            let parts = relativePath.split(separator: "/", omittingEmptySubsequences: false)
            let fileName = String(parts.last ?? "")
            var backend: StoreBackend?
            if parts.count == 2 {
                guard let named = StoreBackend(rawValue: String(parts[0])) else {
                    throw MigrationError.invalidFile(file: path, reason: "\(parts[0]) is not a backend (mongodb, sqlite)")
                }
                backend = named
            }
            let (version, name) = try versionAndName(of: fileName, path: path)
            migrations.append(try MigrationFileParser(file: path)
                .parse(bytes, version: version, name: name, fileName: fileName, backend: backend))
        }
        migrations.sort { $0.version < $1.version }
        try checkSequence(migrations, directory: directory)
        try checkReferences(migrations, directory: directory)
        return migrations
    }

    /// `0001_initial.json` → (1, "initial").
    static func versionAndName(of fileName: String, path: String) throws(MigrationError) -> (Int, String) {
        let stem = fileName.dropLast(".json".count)
        let digits = stem.prefix { $0.isASCII && $0.isNumber }
        let name = stem.dropFirst(digits.count + 1)
        guard digits.count == 4, let version = Int(digits), version > 0,
              stem.dropFirst(digits.count).first == "_", !name.isEmpty,
              name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }) else {
            throw MigrationError.invalidFile(
                file: path, reason: "the file name must be a 4-digit version from 0001, _ and a lowercase name: 0001_initial.json")
        }
        return (version, String(name))
    }

    private static func checkSequence(_ migrations: [Migration], directory: String) throws(MigrationError) {
        guard !migrations.isEmpty else {
            throw MigrationError.invalidDirectory(path: directory, reason: "holds no migration files (0001_name.json, …)")
        }
        var previous: Migration?
        for migration in migrations {
            let expected = (previous?.version ?? 0) + 1
            if let previous, migration.version == previous.version {
                throw MigrationError.invalidDirectory(
                    path: directory, reason: "version \(migration.id) is used twice: \(previous.fileName) and \(migration.fileName)")
            }
            guard migration.version == expected else {
                let after = previous.map { " (after \($0.fileName))" } ?? ""
                throw MigrationError.invalidDirectory(
                    path: directory, reason: "version \(Migration.id(of: expected)) is missing\(after): \(migration.fileName) comes next")
            }
            previous = migration
        }
    }

    /// The store's own collections, which it creates on first use rather than through a migration: a layout
    /// (`migrations/sqlite/`) may name them all the same (on a database without one, it has nothing to convert).
    private static let storeOwned: Set<CollectionName> = [.deadLetters, .locks, .schemaMigrations]

    /// An index or drop on a collection that no migration so far creates is a typo that would only fail mid-run.
    private static func checkReferences(_ migrations: [Migration], directory: String) throws(MigrationError) {
        var schema = ExpectedSchema()
        for migration in migrations {
            let folder = migration.backend.map { (directory as NSString).appendingPathComponent($0.rawValue) } ?? directory
            let path = (folder as NSString).appendingPathComponent(migration.fileName)
            var known = Set(schema.collections)
            known.formUnion(migration.up.createCollections.map(\.name))
            for index in migration.up.createIndexes where !known.contains(index.collection) {
                throw MigrationError.invalidFile(
                    file: path, reason: "up.create_indexes: index \(index.spec.name) is on \(index.collection), which no migration up to this one creates")
            }
            for change in migration.up.layouts where !known.contains(change.collection) && !storeOwned.contains(change.collection) {
                throw MigrationError.invalidFile(
                    file: path, reason: "up.layouts: \(change.collection) is not created by any migration up to this one")
            }
            for name in migration.up.dropCollections where !known.contains(name) {
                throw MigrationError.invalidFile(file: path, reason: "up.drop_collections: \(name) is not created by any earlier migration")
            }
            var names = Set<String>()
            for index in migration.up.createIndexes where !names.insert("\(index.collection).\(index.spec.name)").inserted {
                throw MigrationError.invalidFile(file: path, reason: "up.create_indexes: \(index.collection).\(index.spec.name) is declared twice")
            }
            schema.apply(migration.up)
        }
    }
}
