/// The collections and indexes a sequence of migrations leaves behind: what the check compares the database
/// with, and how the loader catches an index declared on a collection no migration creates.
public struct ExpectedSchema: Sendable, Equatable {
    /// In the order they were first created.
    public private(set) var collections: [CollectionName] = []
    public private(set) var indexes: [CollectionName: [IndexSpec]] = [:]

    public init() {}

    public init(after migrations: [Migration]) {
        for migration in migrations { apply(migration.up) }
    }

    public mutating func apply(_ steps: MigrationSteps) {
        for collection in steps.createCollections where !collections.contains(collection.name) {
            collections.append(collection.name)
        }
        for reference in steps.dropIndexes {
            indexes[reference.collection]?.removeAll { $0.name == reference.name }
        }
        for index in steps.createIndexes {
            var existing = indexes[index.collection, default: []]
            existing.removeAll { $0.name == index.spec.name || $0.hasSameKeys(as: index.spec) }
            existing.append(index.spec)
            indexes[index.collection] = existing
        }
        for name in steps.dropCollections {
            collections.removeAll { $0 == name }
            indexes[name] = nil
        }
    }

    public func indexes(of collection: CollectionName) -> [IndexSpec] { indexes[collection] ?? [] }
}
