@testable import TEDStore

extension DocumentStore {
    /// The adapter's own generic document access (`DocumentCollections`, internal to the store module), to seed and
    /// inspect a real store where no port says it in domain terms; through a `FaultInjectingStore`, its real store's.
    var documents: any DocumentCollections {
        if let faulty = self as? FaultInjectingStore { return faulty.base.documents }
        return self as! any DocumentCollections
    }
}
