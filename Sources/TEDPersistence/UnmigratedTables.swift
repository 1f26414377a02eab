import Foundation
import TEDCore
import TEDStore

extension PersistenceRuntime {
    /// The store's tables still in an older ted's layout (an SQLite file written before `migrations/sqlite/`, with
    /// `ted migrate` not run): every read and write of them fails until it is, so the write path is stuck.
    /// None with MongoDB, without a store, or when the store cannot be asked (readiness then reports it as down).
    public func unmigratedTables() async -> [TableLayout] {
        guard let store else { return [] }
        return ((try? await store.schema.tableLayouts()) ?? []).filter(\.isBehind)
    }
}

extension TableLayout {
    /// As the status and `/health/ready` name it.
    public var unmigratedJSON: JSONValue {
        ["collection": .string(collection.rawValue), "layout": .string(stored.rawValue),
         "expected_layout": .string(current.rawValue), "message": .string(migrationNeeded)]
    }
}
