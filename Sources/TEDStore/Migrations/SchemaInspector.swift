/// Compares the database with an expected schema using read calls only, and only on collections that exist:
/// asking a store about a missing collection could create it, and a dry run must write nothing.
struct SchemaInspector {
    let store: any DocumentStore

    func inspect(_ expected: ExpectedSchema) async throws(StoreError) -> [CollectionReport] {
        let existing = Set(try await store.schema.collectionNames())
        var reports: [CollectionReport] = []
        for name in expected.collections {
            let declared = expected.indexes(of: name)
            guard existing.contains(name.rawValue) else {
                reports.append(CollectionReport(name: name, exists: false, documentCount: nil, missingIndexes: declared,
                                                differingIndexes: [], unexpectedIndexes: []))
                continue
            }
            let actual = try await store.schema.indexes(of: name)
            var missing: [IndexSpec] = []
            var differing: [IndexDifference] = []
            for spec in declared where !actual.contains(spec) {
                if let other = actual.first(where: { $0.name == spec.name || $0.hasSameKeys(as: spec) }) {
                    differing.append(IndexDifference(collection: name, expected: spec, existing: other))
                } else {
                    missing.append(spec)
                }
            }
            let unexpected = actual.filter { index in
                !declared.contains { $0.name == index.name || $0.hasSameKeys(as: index) }
            }
            reports.append(CollectionReport(
                name: name, exists: true, documentCount: try await store.documentCount(of: name, matching: .all),
                missingIndexes: missing, differingIndexes: differing, unexpectedIndexes: unexpected))
        }
        return reports
    }
}
