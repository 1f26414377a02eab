/// What marks a database as one TED-V1 wrote, and what `ted migrate` changes to adopt it. Empty for any other
/// database, and always for SQLite (TED-V1 only wrote MongoDB).
///
/// The signature, either mark being enough:
/// - a unique secondary index on fields of a record's natural key. TED-V1 made `games {game_id}` and
///   `tick_samples {game_id, tick}` unique; this service declares no such index, because `_id` is that key.
///   Beside a deterministic `_id` such an index refuses the record of a game or tick TED-V1 already stored.
/// - a `games` document whose `_id` is an ObjectId: left so, it would stay a second document of its game beside
///   the one this service writes under `_id: game_id`.
public struct TEDV1Findings: Sendable, Equatable {
    public struct UniqueIndex: Sendable, Equatable {
        public let collection: CollectionName
        public let spec: IndexSpec
    }

    /// A collection's documents with ObjectId `_id`s that stay as they are.
    public struct KeptDocuments: Sendable, Equatable {
        public let collection: CollectionName
        public let count: Int
    }

    /// Dropped by the adoption.
    public var uniqueIndexes: [UniqueIndex] = []
    /// Games with an ObjectId `_id` and a `game_id`: rewritten to `_id: game_id`.
    public var gamesToRekey = 0
    /// Facts (tick samples, predictions, side bets) keep their ObjectIds: they are read by `game_id`, and rewriting
    /// the bulkiest collections would take long for nothing a reader needs.
    public var keptDocuments: [KeptDocuments] = []

    public init() {}

    /// Whether `ted migrate` has something to change.
    public var isEmpty: Bool { uniqueIndexes.isEmpty && gamesToRekey == 0 }

    /// What the dry run prints, one change a line.
    public var plannedChanges: [String] {
        uniqueIndexes.map { "drop unique index \($0.spec.summary) of \($0.collection) (refuses records under deterministic _ids)" }
            + (gamesToRekey == 0 ? [] : ["rewrite \(gamesToRekey) game(s) from an ObjectId _id to _id = game_id (the old id kept as legacy_id)"])
            + keptDocuments.map { "keep \($0.count) \($0.collection) document(s) with ObjectId _ids as they are (read by game_id)" }
    }
}
