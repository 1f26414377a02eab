import Foundation
import TEDStore

/// A lease in the store's `locks` collection, so that one instance among several runs a job. It expires on its
/// own (`ttl`), so a crashed owner never blocks the job for longer than that; a live owner renews it between
/// batches.
public struct JobLease: Sendable {
    /// This process, as it names itself in leases: host, pid and a random suffix (pids repeat across containers).
    public static let processInstanceID: String = {
        let host = ProcessInfo.processInfo.hostName
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return "\(host)-\(ProcessInfo.processInfo.processIdentifier)-\(suffix)"
    }()

    public let store: any DocumentStore
    public let name: String
    public let owner: String
    public let ttl: TimeInterval

    public init(store: any DocumentStore, name: String, owner: String = JobLease.processInstanceID, ttl: TimeInterval = 300) {
        self.store = store
        self.name = name
        self.owner = owner
        self.ttl = ttl
    }

    /// Takes the lease, or renews it when it is already ours.
    public func acquire(now: Date) async throws(StoreError) -> Bool {
        try await store.acquireLease(name, owner: owner, now: now, expiresAt: now.addingTimeInterval(ttl))
    }

    public func release() async throws(StoreError) {
        try await store.releaseLease(name, owner: owner)
    }

    /// Who holds the lease at `now`, if anyone (for status).
    public func holder(now: Date) async throws(StoreError) -> String? {
        guard let lease = try await store.lease(named: name), lease.expiresAt > now else { return nil }
        return lease.owner
    }
}
