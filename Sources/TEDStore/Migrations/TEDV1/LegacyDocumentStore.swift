/// A store that may hold documents TED-V1 wrote: their `_id`s are ObjectIds where this service uses natural keys.
/// Only `MongoStore` conforms, because TED-V1 only ever wrote MongoDB; for SQLite the adoption finds nothing.
protocol LegacyDocumentStore: DocumentStore {
    /// How many documents of `collection` have an ObjectId `_id` (and, when given, a string `keyField`).
    func legacyDocumentCount(in collection: CollectionName, keyedBy keyField: String?) async throws(StoreError) -> Int
    /// Up to `limit` documents of `collection` with an ObjectId `_id` and a string `keyField`, oldest `_id` first.
    func legacyDocuments(in collection: CollectionName, keyedBy keyField: String, limit: Int) async throws(StoreError) -> [LegacyDocument]
    /// Deletes these documents by their original `_id`; returns how many went.
    func deleteLegacyDocuments(_ documents: [LegacyDocument], from collection: CollectionName) async throws(StoreError) -> Int
    /// The games stored under these `_id`s (this service's keys, `game_id`).
    func games(keyed gameIDs: [String]) async throws(StoreError) -> [Document]
    /// Inserts the rekeyed copies of TED-V1 games; a copy whose `_id` is stored already (an interrupted run's) is
    /// left as it is.
    func insertRekeyedGames(_ games: [Document]) async throws(StoreError)
}

/// A document TED-V1 wrote, decoded (its ObjectIds as 24-digit hex strings), with its `_id` kept in its stored
/// form so it can be deleted by it: the decoded string would not match an ObjectId.
struct LegacyDocument: Sendable {
    let storedID: RawBSONValue
    let document: Document

    /// The ObjectId as hex, for `legacy_id` and messages.
    var legacyID: String { document["_id"]?.stringValue ?? "" }
}
