/// Finds and deletes the documents TED-V1 wrote (ObjectId `_id`s), for the TED-V1 adoption of `ted migrate`.
extension MongoStore: LegacyDocumentStore {
    func legacyDocumentCount(in collection: CollectionName, keyedBy keyField: String?) async throws(StoreError) -> Int {
        let query = try BSONCodec.encode(Self.objectIDs(keyedBy: keyField))
        return try await withCollection(collection) { [self] handle throws(StoreError) in
            try count(handle, query: query, context: "count TED-V1 documents in \(collection)")
        }
    }

    func legacyDocuments(in collection: CollectionName, keyedBy keyField: String, limit: Int) async throws(StoreError) -> [LegacyDocument] {
        let query = try BSONCodec.encode(Self.objectIDs(keyedBy: keyField))
        let options = try BSONCodec.encode(["sort": .document(["_id": .int32(1)]), "limit": .int64(Int64(max(1, limit)))])
        let context = "read TED-V1 documents of \(collection)"
        return try await withCollection(collection) { [self] handle throws(StoreError) in
            var documents: [LegacyDocument] = []
            for bytes in try findRaw(handle, query: query, options: options, context: context) {
                guard let id = try BSONCodec.rawField("_id", in: bytes) else { continue }
                documents.append(LegacyDocument(storedID: id, document: try BSONCodec.decode(bytes)))
            }
            return documents
        }
    }

    func deleteLegacyDocuments(_ documents: [LegacyDocument], from collection: CollectionName) async throws(StoreError) -> Int {
        guard !documents.isEmpty else { return 0 }
        let selector = try BSONCodec.encodeIn(field: "_id", values: documents.map(\.storedID))
        let context = "delete TED-V1 documents of \(collection)"
        return try await withCollection(collection) { [self] handle throws(StoreError) in
            try deleteMany(handle, selector, context: context)
        }
    }

    func games(keyed gameIDs: [String]) async throws(StoreError) -> [Document] {
        guard !gameIDs.isEmpty else { return [] }
        let query = try BSONCodec.encode(["_id": .document(["$in": .array(gameIDs.map(DocumentValue.string))])])
        let options = try BSONCodec.encode([:])
        return try await withCollection(.games) { [self] handle throws(StoreError) in
            try findRaw(handle, query: query, options: options, context: "read the rekeyed games")
                .map { bytes throws(StoreError) in try BSONCodec.decode(bytes) }
        }
    }

    func insertRekeyedGames(_ games: [Document]) async throws(StoreError) {
        _ = try await insert(games, into: .games)
    }

    private static func objectIDs(keyedBy keyField: String?) -> Document {
        var filter: Document = ["_id": .document(["$type": .string("objectId")])]
        if let keyField { filter.append(keyField, .document(["$type": .string("string")])) }
        return filter
    }
}
