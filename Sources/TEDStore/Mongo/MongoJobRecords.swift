import Foundation
import TEDCore

/// Job records in MongoDB's `locks`: read by `_id`, a run kept by replacing its document.
extension MongoStore {
    public func lease(named name: String) async throws(StoreError) -> StoredLease? {
        try await document(name, in: .locks).flatMap(JobRecordDocuments.lease)
    }

    public func recordJobRun(_ run: JobRun) async throws(StoreError) {
        try await replaceByID([JobRecordDocuments.encode(run)], in: .locks, context: "record the run of \(run.job)")
    }

    public func lastJobRun(of job: String) async throws(StoreError) -> JobRun? {
        try await document(JobRecordDocuments.runID(of: job), in: .locks).flatMap { JobRecordDocuments.run(of: job, $0) }
    }
}
