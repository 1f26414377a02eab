import Foundation
import TEDCore

/// Job records in SQLite's `locks` table: read by primary key, a run kept by replacing its row (without a
/// `created_at`, so retention never takes it).
extension SQLiteStore {
    public func lease(named name: String) async throws(StoreError) -> StoredLease? {
        try await document(name, in: .locks).flatMap(JobRecordDocuments.lease)
    }

    public func recordJobRun(_ run: JobRun) async throws(StoreError) {
        try await replaceByID([JobRecordDocuments.encode(run)], in: .locks)
    }

    public func lastJobRun(of job: String) async throws(StoreError) -> JobRun? {
        try await document(JobRecordDocuments.runID(of: job), in: .locks).flatMap { JobRecordDocuments.run(of: job, $0) }
    }
}
