import Synchronization
import TEDStore

/// The durable outbox as the write path sees it: the spool file plus whether it last refused an append for
/// lack of room, which admission control reads on every request without touching the disk.
public final class Spool: Sendable {
    public let file: SpoolFile
    private let full = Atomic<Bool>(false)

    public init(file: SpoolFile) {
        self.file = file
    }

    public var isFull: Bool { full.load(ordering: .relaxed) }

    public func append(_ records: [StoreRecord]) async throws(StoreError) {
        do {
            try await file.append(records)
        } catch {
            if error.isSpoolFull { full.store(true, ordering: .relaxed) }
            throw error
        }
    }

    public func peekOldest(limit: Int, excluding: Set<CollectionName> = []) async throws(StoreError) -> SpoolBatch {
        try await file.peekOldest(limit: limit, excluding: excluding)
    }

    /// Deletes a replayed batch; room was made, so appends may be tried again.
    public func remove(_ batch: SpoolBatch) async throws(StoreError) {
        _ = try await file.remove(batch)
        full.store(false, ordering: .relaxed)
    }
}
