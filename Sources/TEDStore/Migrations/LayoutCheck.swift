/// A table whose layout in the database is not the one its ledger says (`ted verify`): the migration that decides
/// is the newest applied one that converts the table, or, when none is applied, the first one that would.
public struct LayoutDifference: Sendable, Equatable {
    public let collection: CollectionName
    /// The layout the table has in the database.
    public let stored: StoredLayout
    /// The layout the ledger says it has.
    public let expected: StoredLayout
    public let migration: Migration
    /// Whether `migration` is in the ledger.
    public let applied: Bool

    /// One line for `ted verify`: what differs, why it is expected, and how to bring the two together.
    public var summary: String {
        let ledger = "\(migration.label) \(applied ? "applied" : "not applied")"
        let remedy = applied
            ? "convert it again with `ted migrate --to \(migration.version - 1)` then `ted migrate`"
            : "run `ted migrate`"
        return "\(collection) has the \(stored.rawValue) layout, the ledger says \(expected.rawValue) (\(ledger)): \(remedy)"
    }
}

/// The layouts a ledger implies, compared with the tables' layouts in the database.
enum LayoutCheck {
    /// Per converted collection, the migration that decides its expected layout and whether it is applied.
    static func expected(_ migrations: [Migration], applied versions: Set<Int>) -> [CollectionName: (Migration, applied: Bool)] {
        var expected: [CollectionName: (Migration, applied: Bool)] = [:]
        for migration in migrations.sorted(by: { $0.version < $1.version }) {
            for change in migration.up.layouts {
                let applied = versions.contains(migration.version)
                // The first file decides until one is applied; then the newest applied one does.
                if applied || expected[change.collection] == nil { expected[change.collection] = (migration, applied) }
            }
        }
        return expected
    }

    static func differences(_ migrations: [Migration], applied versions: Set<Int>, tables: [TableLayout]) -> [LayoutDifference] {
        let expected = expected(migrations, applied: versions)
        return tables.compactMap { table in
            guard let (migration, applied) = expected[table.collection] else { return nil }
            let steps = applied ? migration.up : migration.down
            guard let layout = steps.layouts.last(where: { $0.collection == table.collection })?.layout,
                  layout != table.stored else { return nil }
            return LayoutDifference(collection: table.collection, stored: table.stored, expected: layout,
                                    migration: migration, applied: applied)
        }
    }
}

extension MigrationRunner {
    /// The tables whose layout in the database is not the one the ledger says (none on a store without layouts,
    /// MongoDB). Writes nothing.
    public func layoutDifferences() async throws(MigrationError) -> [LayoutDifference] {
        let applied = Set(try await status().applied.map(\.version))
        do {
            return LayoutCheck.differences(migrations, applied: applied, tables: try await store.schema.tableLayouts())
        } catch {
            throw MigrationError.store(error)
        }
    }
}
