/// Adopts a database TED-V1 wrote, so that the game running at cut-over goes on as one game and its records
/// are stored rather than refused. Each step is idempotent, so a run interrupted by a crash is finished by the next.
///
/// 1. Drops the unique secondary indexes of the data collections (see `TEDV1Findings`). They are dropped, not
///    made non-unique: this service never queries by their keys except `game_id`, which the migrations already
///    index where it is read (predictions, side bets) and which is `_id` itself for games; and every index
///    slows each insert about 3×.
/// 2. Rewrites each game with an ObjectId `_id` to `_id: game_id`, copy then delete, keeping the old id as
///    `legacy_id`, so the game endpoint finds it by id and this service's merges land on the same document.
/// Tick samples, predictions and side bets keep their ObjectIds: they are read by `game_id`.
struct TEDV1Adoption {
    let store: any DocumentStore
    let report: MigrationReporter

    /// Games rewritten per round trip.
    static let batchSize = 500

    /// Returns whether anything changed.
    func run() async throws(StoreError) -> Bool {
        let findings = try await TEDV1Inspector(store: store).inspect()
        guard !findings.isEmpty, let legacy = store as? any LegacyDocumentStore else { return false }
        report(.adoptingTEDV1)
        for index in findings.uniqueIndexes {
            try await store.schema.dropIndex(named: index.spec.name, on: index.collection)
            report(.droppedIndex(index.collection, index.spec.name))
        }
        var rekeyed = 0
        while true {
            let batch = try await legacy.legacyDocuments(in: .games, keyedBy: "game_id", limit: Self.batchSize)
            let done = try await rekey(batch, in: legacy)
            // A batch that moves nothing holds only games left in place (reported): stop rather than read them again.
            guard !done.isEmpty else { break }
            rekeyed += try await legacy.deleteLegacyDocuments(done, from: .games)
        }
        report(.rekeyedTEDV1Games(rekeyed))
        for kept in findings.keptDocuments { report(.keptTEDV1Documents(kept.collection, kept.count)) }
        return true
    }

    /// Stores each game of `batch` under `_id: game_id` and returns those whose old document may now go.
    private func rekey(_ batch: [LegacyDocument], in legacy: any LegacyDocumentStore) async throws(StoreError) -> [LegacyDocument] {
        let current = try await legacy.games(keyed: batch.compactMap { $0.document["game_id"]?.stringValue })
        var copies: [Document] = []
        var merges: [(old: LegacyDocument, record: StoreRecord)] = []
        var done: [LegacyDocument] = []
        for old in batch {
            guard let gameID = old.document["game_id"]?.stringValue else { continue }
            guard let stored = current.first(where: { $0["_id"]?.stringValue == gameID }) else {
                copies.append(Self.copy(of: old, as: gameID))
                done.append(old)
                continue
            }
            // Our own copy, from a run that stopped before the delete.
            if stored["legacy_id"]?.stringValue == old.legacyID {
                done.append(old)
            } else if let record = try? StoreRecord(document: old.document, collection: .games) {
                // This service already wrote the game (it ran before the adoption): merge, as any version of a game is.
                merges.append((old, record))
            } else {
                report(.tedV1GameLeftInPlace(gameID, legacyID: old.legacyID, reason: "it does not read as a game of this service"))
            }
        }
        // The lock keeps other runners out and the service is stopped during an upgrade, so no copy is written
        // between the read above and this insert.
        try await legacy.insertRekeyedGames(copies)
        let fates = try await store.write(merges.map(\.record), to: .games)
        for (merge, fate) in zip(merges, fates) {
            switch fate {
            case .stored, .alreadyStored: done.append(merge.old)
            case .retryable(let error), .refused(let error):
                report(.tedV1GameLeftInPlace(merge.record.id, legacyID: merge.old.legacyID, reason: error.message))
            }
        }
        return done
    }

    private static func copy(of old: LegacyDocument, as gameID: String) -> Document {
        var copy = Document([("_id", .string(gameID))])
        for field in old.document.fields where field.key != "_id" { copy.append(field.key, field.value) }
        copy["legacy_id"] = .string(old.legacyID)
        return copy
    }
}
