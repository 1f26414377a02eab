import Foundation

// A port of the persistence layer (see StorePorts.swift): TEDPersistence is its only consumer.

/// A lease as stored in `locks` (`DocumentStore.acquireLease` takes and renews it).
public struct StoredLease: Sendable, Equatable {
    public var owner: String
    public var expiresAt: Date

    public init(owner: String, expiresAt: Date) {
        self.owner = owner
        self.expiresAt = expiresAt
    }
}

/// The last completed run of a background job, kept next to its lease so the schedule survives restarts and is
/// shared by every instance.
public struct JobRun: Sendable, Equatable {
    /// The job's lease name.
    public var job: String
    public var startedAt: Date
    public var finishedAt: Date
    /// The instance that ran it (`JobLease.owner`).
    public var instance: String
    /// Documents deleted per collection.
    public var deleted: [CollectionName: Int]

    public init(job: String, startedAt: Date, finishedAt: Date, instance: String, deleted: [CollectionName: Int]) {
        self.job = job
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.instance = instance
        self.deleted = deleted
    }
}

/// What background jobs keep about themselves in `locks`: who holds a lease, and each job's last completed run.
public protocol JobRecordStore: Sendable {
    /// The lease `name` as stored, expired or not; nil when there is none.
    func lease(named name: String) async throws(StoreError) -> StoredLease?
    /// Keeps `run` as its job's last completed run, replacing the previous one.
    func recordJobRun(_ run: JobRun) async throws(StoreError)
    /// The last completed run of `job`; nil when it never completed.
    func lastJobRun(of job: String) async throws(StoreError) -> JobRun?
}
