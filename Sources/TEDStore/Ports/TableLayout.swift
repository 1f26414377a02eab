/// How one table keeps its rows in the database (`SchemaStore.tableLayouts`), and how this version of ted reads
/// and writes them.
public struct TableLayout: Sendable, Equatable {
    public let collection: CollectionName
    /// The layout the table has in the database.
    public let stored: StoredLayout
    /// The layout this version reads and writes the table in.
    public let current: StoredLayout

    public init(collection: CollectionName, stored: StoredLayout, current: StoredLayout) {
        self.collection = collection
        self.stored = stored
        self.current = current
    }

    /// Still in the documents layout an older ted wrote while this one keeps the table in columns: not converted
    /// yet (`migrations/sqlite/`), so no read or write of it can work until `ted migrate` converts it. (The other
    /// way round is a table this ted does not know, or a newer ted's: reads and writes of it say so themselves.)
    public var isBehind: Bool { stored == .documents && current == .columns }

    /// What a read or write of the table says while it is behind, and what readiness and status report.
    public var migrationNeeded: String {
        "\(collection) still has the \(stored.rawValue) layout of an older ted (this one reads and writes \(current.rawValue)): run `ted migrate` to convert it"
    }
}
