/// Receives progress as it happens: the CLI prints each event's line, the server logs it.
public typealias MigrationReporter = @Sendable (MigrationEvent) -> Void

/// One step of progress of a migration run.
public enum MigrationEvent: Sendable, Equatable, CustomStringConvertible {
    case waitingForLock
    case applying(String)
    case createdCollection(CollectionName)
    case collectionExists(CollectionName)
    case createdIndexes(CollectionName, [String])
    case indexesExist(CollectionName)
    case replacedIndex(CollectionName, old: IndexSpec, new: IndexSpec)
    /// Left in place without `force`: the run stops after the other steps of this version.
    case indexConflict(IndexDifference)
    case droppedIndex(CollectionName, String)
    /// The collection's rows were converted to the layout (`rows` of them).
    case changedLayout(CollectionName, StoredLayout, rows: Int)
    case layoutInPlace(CollectionName, StoredLayout)
    case droppedCollection(CollectionName)
    /// The database is one TED-V1 wrote (see `TEDV1Findings`): its adoption starts.
    case adoptingTEDV1
    case rekeyedTEDV1Games(Int)
    case keptTEDV1Documents(CollectionName, Int)
    /// A TED-V1 game that could not be merged into the game of the same `game_id` this service wrote: kept as is.
    case tedV1GameLeftInPlace(String, legacyID: String, reason: String)
    case applied(String, durationMs: Int)
    case reverting(String)
    case reverted(String)
    case upToDate(version: Int?)
    /// The database differs from what its applied migrations declare (changed by hand since).
    case drift(String)
    case verified
    /// The lock could not be released; it expires on its own after its TTL.
    case lockReleaseFailed(StoreError)

    public var description: String {
        switch self {
        case .waitingForLock: "… Another migration runner holds the lock: waiting"
        case .applying(let label): "→ Applying \(label)"
        case .createdCollection(let name): "✓ Created collection: \(name)"
        case .collectionExists(let name): "✓ Collection exists: \(name)"
        case .createdIndexes(let name, let indexes): "✓ Created indexes for \(name) collection (\(indexes.joined(separator: ", ")))"
        case .indexesExist(let name): "✓ Indexes for \(name) collection already in place"
        case .replacedIndex(let name, let old, let new): "✓ Replaced index on \(name): \(old.summary) → \(new.summary)"
        case .indexConflict(let difference):
            "⚠ Index on \(difference.collection) differs: existing \(difference.existing.summary), declared \(difference.expected.summary) (--force replaces it)"
        case .droppedIndex(let name, let index): "✓ Dropped index \(index) of \(name)"
        case .changedLayout(let name, let layout, let rows): "✓ Converted \(name) to the \(layout.rawValue) layout (\(rows) rows)"
        case .layoutInPlace(let name, let layout): "✓ \(name) already has the \(layout.rawValue) layout"
        case .droppedCollection(let name): "✓ Dropped collection: \(name)"
        case .adoptingTEDV1: "→ Adopting a TED-V1 database"
        case .rekeyedTEDV1Games(let count): "✓ Rewrote \(count) TED-V1 game(s) to _id = game_id"
        case .keptTEDV1Documents(let name, let count): "✓ Kept \(count) TED-V1 document(s) of \(name) as they are (read by game_id)"
        case .tedV1GameLeftInPlace(let gameID, let legacyID, let reason):
            "⚠ TED-V1 game \(gameID) (_id \(legacyID)) left in place: \(reason)"
        case .applied(let label, let ms): "✓ Applied \(label) (\(ms) ms)"
        case .reverting(let label): "→ Reverting \(label)"
        case .reverted(let label): "✓ Reverted \(label)"
        case .upToDate(let version): "✓ Database is up to date (version \(version.map(Migration.id(of:)) ?? "none"))"
        case .drift(let text): "⚠ \(text)"
        case .verified: "✓ Database verification complete"
        case .lockReleaseFailed(let error): "⚠ Could not release the migration lock (it expires on its own): \(error.message)"
        }
    }
}
