import CSQLite
import Foundation
import TEDCore

/// The layout each table has in the file (`SchemaStore.tableLayouts`): what `ted verify` compares with the ledger,
/// readiness with this version, and what turns SQLite's "no such column" on a table an older ted wrote into an
/// error that says to run `ted migrate`.
extension SQLiteStore {
    public func tableLayouts() async throws(StoreError) -> [TableLayout] {
        try await connection.run { database throws(StoreError) in
            try database.transaction(.deferred) { () throws(StoreError) in try database.tableLayouts() }
        }
    }
}

extension SQLiteDatabase {
    /// The collections' tables (not SQLite's own, not the store's `_ted_` metadata), by name. LIKE ignores ASCII
    /// case, as SQLite does for table names.
    func tableNames() throws(StoreError) -> [String] {
        try rows("""
            SELECT name FROM sqlite_master WHERE type = 'table'
            AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_ted\\_%' ESCAPE '\\' ORDER BY name
            """) { $0.text(0) ?? "" }
    }

    /// The layout `table` has in the file: the document layout is the one with a `doc` column.
    func storedLayout(of table: String) throws(StoreError) -> StoredLayout {
        let columns = try rows("SELECT name FROM pragma_table_info(?1)", [.text(table)]) { $0.text(0) }
        return columns.contains("doc") ? .documents : .columns
    }

    func tableLayouts() throws(StoreError) -> [TableLayout] {
        var layouts: [TableLayout] = []
        for name in try tableNames() {
            guard let table = try? SQLiteTable(CollectionName(name)) else { continue }  // no collection's name
            layouts.append(TableLayout(collection: CollectionName(name), stored: try storedLayout(of: name), current: table.layout))
        }
        return layouts
    }

    /// For `sql` that failed to compile or run with `SQLITE_ERROR` ("no such column"): the error naming the table
    /// it uses that is still in an older ted's layout, if that is why; nil for any other cause.
    func layoutBehindError(for sql: String, _ error: StoreError) -> StoreError? {
        guard let layouts = try? tableLayouts(),
              let behind = layouts.first(where: { $0.isBehind && sql.contains(SQLiteTable.quote($0.collection.rawValue)) })
        else { return nil }
        return StoreError(.unavailable, behind.migrationNeeded, code: error.code)
    }
}
