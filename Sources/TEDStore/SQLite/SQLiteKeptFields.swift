extension SQLiteStore {
    /// The record in a row selected by `table.selectList`, and its document as stored, whose fields the record may
    /// not all know (restored from an older database): a rewrite of the row keeps them (`Document.setting`).
    static func stored(_ row: SQLiteStatement, in table: SQLiteTable,
                       _ collection: CollectionName) throws(StoreError) -> (record: StoreRecord, document: Document) {
        let document = try table.document(in: row)
        return (try StoreRecord(document: document, collection: collection), document)
    }
}

extension Document {
    /// This stored document with every field of `update` set as MongoDB's `$set` sets it: a field it has takes the
    /// new value in place, a new one is appended, and the fields `update` does not name are kept. SQLite rewrites a
    /// row from its typed record, which knows only a record's own fields; a document restored from an older
    /// database (kept whole in the `document` column) keeps its other fields this way, as it does in MongoDB. For a
    /// row the columns hold, the result is `update` itself.
    func setting(_ update: Document) -> Document {
        var result = self
        for (key, value) in update.fields { result[key] = value }
        return result
    }
}
