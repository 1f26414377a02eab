import Foundation
import TEDCore

/// Layout conversions (`migrations/sqlite/`): a table is rebuilt in the other layout inside one transaction: a
/// staging table is filled row by row through the same decoding and binding every read and write uses (so a row
/// converts to exactly the document it was, whatever its shape),
/// then takes the old table's place, and the indexes of `_ted_indexes` are built again over the new columns.
extension SQLiteStore {
    public func changeLayout(of collection: CollectionName, to layout: StoredLayout) async throws(StoreError) -> Int? {
        let target = try SQLiteTable(collection, layout: layout)
        return try await connection.run { database throws(StoreError) in
            try database.transaction { () throws(StoreError) -> Int? in
                guard try database.tableExists(target.name) else { return nil }  // created in the new layout when needed
                let source = try SQLiteTable(collection, layout: try database.storedLayout(of: target.name))
                guard source.layout != target.layout else { return nil }
                return try Self.rebuild(source, as: target, database)
            }
        }
    }

    /// Rows are copied in slices, so memory stays bounded however large the table.
    private static let slice = 1000

    private static func rebuild(_ source: SQLiteTable, as target: SQLiteTable, _ database: SQLiteDatabase) throws(StoreError) -> Int {
        let staging = SQLiteTable(stagingFor: target, layout: target.layout)
        try database.execute("DROP TABLE IF EXISTS \(staging.quoted)")
        try database.execute(staging.createSQL)
        let insert = staging.insertSQL(onConflict: "DO NOTHING")
        var converted = 0
        try database.withStatement("SELECT \(source.selectList) FROM \(source.quoted)") { row throws(StoreError) in
            var documents: [Document] = []
            documents.reserveCapacity(slice)
            while try row.step() {
                documents.append(try source.document(in: row))
                if documents.count == slice {
                    converted += try write(documents, with: insert, into: staging, database)
                    documents.removeAll(keepingCapacity: true)
                }
            }
            converted += try write(documents, with: insert, into: staging, database)
        }
        try database.execute("DROP TABLE \(source.quoted)")  // and its indexes
        try database.execute("ALTER TABLE \(staging.quoted) RENAME TO \(target.quoted)")
        for index in try SQLiteMetadata.indexes(of: target, in: database) {
            try database.execute(try SQLiteIndex(index, on: target).createSQL)
        }
        return converted
    }
}
