@testable import TEDStore

extension DocumentStore {
    /// The adapter's own generic document access (`DocumentCollections`, internal to the store module), to seed and
    /// inspect a real store where no port says it in domain terms.
    var documents: any DocumentCollections { self as! any DocumentCollections }
}
