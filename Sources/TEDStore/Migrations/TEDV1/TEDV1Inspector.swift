/// Looks for the TED-V1 signature (see `TEDV1Findings`) with read calls only, and only in collections that
/// exist: the dry run must write nothing.
struct TEDV1Inspector {
    let store: any DocumentStore

    /// The collections TED-V1 shares with this service; its facts are the ones kept with their ObjectIds.
    static let facts: [CollectionName] = [.tickSamples, .predictions, .sideBets]

    /// The fields each deterministic `_id` is made of. A unique index on some of them refuses a record TED-V1 has
    /// stored under another `_id`; a unique index on other fields is no mark of TED-V1 (`--force` deals with it).
    static let naturalKeys: [CollectionName: Set<String>] = [
        .games: ["game_id"],
        .tickSamples: ["game_id", "tick"],
        .predictions: ["game_id", "predicted_at_tick", "model_version"],
        .sideBets: ["game_id", "placed_at_tick"],
    ]

    func inspect() async throws(StoreError) -> TEDV1Findings {
        guard let legacy = store as? any LegacyDocumentStore else { return TEDV1Findings() }
        let existing = Set(try await store.schema.collectionNames())
        var findings = TEDV1Findings()
        for (collection, key) in Self.naturalKeys.sorted(by: { $0.key.rawValue < $1.key.rawValue })
        where existing.contains(collection.rawValue) {
            findings.uniqueIndexes += try await store.schema.indexes(of: collection)
                .filter { $0.unique && Set($0.keys.map(\.field)).isSubset(of: key) }
                .map { TEDV1Findings.UniqueIndex(collection: collection, spec: $0) }
        }
        if existing.contains(CollectionName.games.rawValue) {
            findings.gamesToRekey = try await legacy.legacyDocumentCount(in: .games, keyedBy: "game_id")
        }
        for collection in Self.facts where existing.contains(collection.rawValue) {
            let count = try await legacy.legacyDocumentCount(in: collection, keyedBy: nil)
            if count > 0 { findings.keptDocuments.append(TEDV1Findings.KeptDocuments(collection: collection, count: count)) }
        }
        return findings
    }
}
