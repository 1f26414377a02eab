import TEDCore

/// One migration file, parsed and validated: the schema changes of one version and how to undo them.
public struct Migration: Sendable, Equatable {
    /// From the file name (`0001_initial.json` → 1): versions run in this order.
    public let version: Int
    /// From the file name (`0001_initial.json` → `initial`).
    public let name: String
    public let fileName: String
    /// SHA-256 hex of the file bytes: an applied file that changes no longer describes the database.
    public let checksum: String
    public let description: String?
    public let up: MigrationSteps
    public let down: MigrationSteps
    /// The one backend whose database it changes (a file in `migrations/<backend>/`); nil for every backend.
    public let backend: StoreBackend?

    public init(version: Int, name: String, fileName: String, checksum: String, description: String?,
                up: MigrationSteps, down: MigrationSteps, backend: StoreBackend? = nil) {
        self.backend = backend
        self.version = version
        self.name = name
        self.fileName = fileName
        self.checksum = checksum
        self.description = description
        self.up = up
        self.down = down
    }

    /// The ledger `_id`: the version as the file name spells it (`0001`).
    public var id: String { Migration.id(of: version) }
    /// `0001_initial`, for messages.
    public var label: String { "\(id)_\(name)" }

    /// Whether a database of `backend` takes this migration (and lists it in its ledger).
    public func applies(to backend: StoreBackend) -> Bool { self.backend.map { $0 == backend } ?? true }

    public static func id(of version: Int) -> String {
        let digits = String(version)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

/// The changes of one direction of a migration. They run in the order of the fields: collections are created
/// (and their layouts changed) before their indexes, and an index is dropped before one with the same keys is
/// created under another name.
public struct MigrationSteps: Sendable, Equatable {
    public var createCollections: [CollectionSpec]
    /// How a backend keeps a collection's rows: only in a backend's own files (`migrations/sqlite/`).
    public var layouts: [LayoutChange]
    public var dropIndexes: [IndexReference]
    public var createIndexes: [DeclaredIndex]
    public var dropCollections: [CollectionName]

    public init(createCollections: [CollectionSpec] = [], layouts: [LayoutChange] = [], dropIndexes: [IndexReference] = [],
                createIndexes: [DeclaredIndex] = [], dropCollections: [CollectionName] = []) {
        self.createCollections = createCollections
        self.layouts = layouts
        self.dropIndexes = dropIndexes
        self.createIndexes = createIndexes
        self.dropCollections = dropCollections
    }
}

/// A collection brought to a storage layout, its rows converted in place (`SchemaStore.changeLayout`).
public struct LayoutChange: Sendable, Equatable {
    public var collection: CollectionName
    public var layout: StoredLayout

    public init(collection: CollectionName, layout: StoredLayout) {
        self.collection = collection
        self.layout = layout
    }
}

/// How a table keeps its rows.
public enum StoredLayout: String, Sendable, Equatable, CaseIterable {
    /// One JSON document per row (`_id`, `created_at`, `doc`): any document fits.
    case documents
    /// A column per field, for a collection whose records have one fixed shape (SQLite's record tables).
    case columns
}

public struct CollectionSpec: Sendable, Equatable {
    public var name: CollectionName
    /// A MongoDB validator (`{"$jsonSchema": …}`), handed to the store as is.
    public var validator: Document?

    public init(name: CollectionName, validator: Document? = nil) {
        self.name = name
        self.validator = validator
    }
}

/// An index a migration creates, with the reason it earns its write cost.
public struct DeclaredIndex: Sendable, Equatable {
    public var collection: CollectionName
    public var spec: IndexSpec
    public var why: String

    public init(collection: CollectionName, spec: IndexSpec, why: String) {
        self.collection = collection
        self.spec = spec
        self.why = why
    }
}

public struct IndexReference: Sendable, Equatable {
    public var collection: CollectionName
    public var name: String

    public init(collection: CollectionName, name: String) {
        self.collection = collection
        self.name = name
    }
}

extension IndexSpec {
    /// `created_at_1 {created_at: 1} unique ttl=3600s`, for reports and errors.
    public var summary: String {
        var text = "\(name) {" + keys.map { "\($0.field): \($0.order)" }.joined(separator: ", ") + "}"
        if unique { text += " unique" }
        if let ttl = expireAfterSeconds { text += " expireAfterSeconds=\(ttl)" }
        return text
    }
}
