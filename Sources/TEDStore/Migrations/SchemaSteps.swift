/// Carries out the steps of one migration direction, each idempotently, so that re-running a version
/// interrupted by a crash finishes it: what exists already is skipped, what is gone already is not dropped.
struct SchemaSteps {
    let schema: any SchemaStore
    var force = false
    var report: MigrationReporter = { _ in }

    /// Returns the indexes left as they were because they differ from the declared ones and `force` is off.
    func apply(_ steps: MigrationSteps) async throws(StoreError) -> [IndexDifference] {
        for collection in steps.createCollections {
            try await ensureCollection(collection)
        }
        for change in steps.layouts {
            let converted = try await schema.changeLayout(of: change.collection, to: change.layout)
            report(converted.map { .changedLayout(change.collection, change.layout, rows: $0) } ?? .layoutInPlace(change.collection, change.layout))
        }
        for reference in steps.dropIndexes {
            guard try await exists(reference.collection),
                  try await schema.indexes(of: reference.collection).contains(where: { $0.name == reference.name }) else { continue }
            try await schema.dropIndex(named: reference.name, on: reference.collection)
            report(.droppedIndex(reference.collection, reference.name))
        }
        var conflicts: [IndexDifference] = []
        for collection in orderedCollections(of: steps.createIndexes) {
            let declared = steps.createIndexes.filter { $0.collection == collection }.map(\.spec)
            conflicts += try await ensureIndexes(declared, on: collection)
        }
        for name in steps.dropCollections {
            guard try await exists(name) else { continue }
            try await schema.dropCollection(name)
            report(.droppedCollection(name))
        }
        return conflicts
    }

    func ensureCollection(_ collection: CollectionSpec) async throws(StoreError) {
        if try await exists(collection.name) {
            report(.collectionExists(collection.name))
            return
        }
        do {
            try await schema.createCollection(collection.name, validator: collection.validator)
        } catch {
            // Another process created it between our look and our create ("already exists"): the goal is met.
            guard try await exists(collection.name) else { throw error }
        }
        report(.createdCollection(collection.name))
    }

    private func ensureIndexes(_ declared: [IndexSpec], on collection: CollectionName) async throws(StoreError) -> [IndexDifference] {
        let existing = try await schema.indexes(of: collection)
        var created: [String] = []
        var conflicts: [IndexDifference] = []
        for spec in declared where !existing.contains(spec) {
            if let other = existing.first(where: { $0.name == spec.name || $0.hasSameKeys(as: spec) }) {
                guard force else {
                    let difference = IndexDifference(collection: collection, expected: spec, existing: other)
                    report(.indexConflict(difference))
                    conflicts.append(difference)
                    continue
                }
                try await schema.dropIndex(named: other.name, on: collection)
                try await schema.createIndex(spec, on: collection)
                report(.replacedIndex(collection, old: other, new: spec))
            } else {
                try await schema.createIndex(spec, on: collection)
                created.append(spec.name)
            }
        }
        if !created.isEmpty {
            report(.createdIndexes(collection, created))
        } else if conflicts.isEmpty && declared.allSatisfy(existing.contains) {
            report(.indexesExist(collection))
        }
        return conflicts
    }

    private func exists(_ name: CollectionName) async throws(StoreError) -> Bool {
        try await schema.collectionNames().contains(name.rawValue)
    }

    private func orderedCollections(of indexes: [DeclaredIndex]) -> [CollectionName] {
        var seen: [CollectionName] = []
        for index in indexes where !seen.contains(index.collection) { seen.append(index.collection) }
        return seen
    }
}
