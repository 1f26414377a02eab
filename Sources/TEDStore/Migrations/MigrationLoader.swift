import Foundation

/// Reads the migrations directory: one `NNNN_name.json` file per version, versions 1, 2, 3… without gaps,
/// so that every database reaches the same schema by the same steps.
public enum MigrationLoader {
    public static func load(directory: String) throws(MigrationError) -> [Migration] {
        let fileNames: [String]
        do {
            fileNames = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw MigrationError.invalidDirectory(path: directory, reason: "cannot be read (\(error.localizedDescription))")
        }
        var files: [(name: String, bytes: [UInt8])] = []
        for fileName in fileNames.sorted() where fileName.hasSuffix(".json") && !fileName.hasPrefix(".") {
            let path = (directory as NSString).appendingPathComponent(fileName)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw MigrationError.invalidFile(file: path, reason: "cannot be read")
            }
            files.append((fileName, Array(data)))
        }
        return try load(files: files, origin: directory)
    }

    /// Parses and checks migration files already read (from a directory, or built in); `origin` names where they
    /// come from in messages.
    public static func load(files: [(name: String, bytes: [UInt8])], origin directory: String) throws(MigrationError) -> [Migration] {
        var migrations: [Migration] = []
        for (fileName, bytes) in files.sorted(by: { $0.name < $1.name }) {
            let path = (directory as NSString).appendingPathComponent(fileName)
            let (version, name) = try versionAndName(of: fileName, path: path)
            migrations.append(try MigrationFileParser(file: path).parse(bytes, version: version, name: name, fileName: fileName))
        }
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

    /// An index or drop on a collection that no migration so far creates is a typo that would only fail mid-run.
    private static func checkReferences(_ migrations: [Migration], directory: String) throws(MigrationError) {
        var schema = ExpectedSchema()
        for migration in migrations {
            let path = (directory as NSString).appendingPathComponent(migration.fileName)
            var known = Set(schema.collections)
            known.formUnion(migration.up.createCollections.map(\.name))
            for index in migration.up.createIndexes where !known.contains(index.collection) {
                throw MigrationError.invalidFile(
                    file: path, reason: "up.create_indexes: index \(index.spec.name) is on \(index.collection), which no migration up to this one creates")
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
