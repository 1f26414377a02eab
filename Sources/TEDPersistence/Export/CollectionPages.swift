import TEDStore

/// Reads the documents of a collection that match a selection, `pageSize` at a time in `_id` order (each page asks
/// for `_id` after the last one read), so memory holds one page whatever the size of the collection. Not a
/// snapshot: a document written meanwhile may or may not be read, but every document stored before the first page
/// and not deleted since is read exactly once. Backups and exports read through it, in one format for both stores
/// (the `CollectionSnapshotStore` port).
public struct CollectionPages: Sendable {
    public let store: any CollectionSnapshotStore
    public let collection: CollectionName
    public let selection: DocumentSelection
    public let pageSize: Int
    /// The `_id` of the last document read; nil before the first page.
    public private(set) var lastID: String?
    private var done = false

    public init(store: any CollectionSnapshotStore, collection: CollectionName, selection: DocumentSelection = .all,
                pageSize: Int) {
        self.store = store
        self.collection = collection
        self.selection = selection
        self.pageSize = max(1, pageSize)
    }

    /// The next page; nil once every document was read. Throws `.corrupt` for a document whose `_id` is not a
    /// string: such documents (TED-V1's ObjectIds) cannot be paged through by string `_id`.
    public mutating func next() async throws(StoreError) -> [Document]? {
        guard !done else { return nil }
        let page = try await store.documentPage(of: collection, matching: selection, afterID: lastID, limit: pageSize)
        done = page.count < pageSize
        guard !page.isEmpty else { return nil }
        for document in page {
            guard case .string(let id)? = document["_id"] else {
                throw StoreError(.corrupt, "\(collection) holds a document whose _id is not a string: it cannot be paged by _id")
            }
            lastID = id
        }
        return page
    }
}
