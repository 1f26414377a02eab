import Foundation
import TEDCore

/// One layout of the job records in `locks` for both stores (and their backups). A lease is
/// `{_id: name, owner, expires_at, acquired_at}`; a job's last run is `{_id: "<job>_last_run", last_run_at,
/// finished_at, instance, deleted: {<collection>: count, ...}}`, every data collection in its fixed order.
enum JobRecordDocuments {
    static func lease(_ document: Document) -> StoredLease? {
        guard let owner = document["owner"]?.stringValue, let expiresAt = document["expires_at"]?.dateValue else { return nil }
        return StoredLease(owner: owner, expiresAt: expiresAt)
    }

    static func runID(of job: String) -> String { "\(job)_last_run" }

    static func encode(_ run: JobRun) -> Document {
        let deleted: [(key: String, value: DocumentValue)] = CollectionName.data.map {
            ($0.rawValue, .int64(Int64(run.deleted[$0] ?? 0)))
        }
        return [
            "_id": .string(runID(of: run.job)),
            "last_run_at": .date(run.startedAt),
            "finished_at": .date(run.finishedAt),
            "instance": .string(run.instance),
            "deleted": .document(Document(deleted)),
        ]
    }

    /// Nil when the document lacks the time of the run (what the schedule needs).
    static func run(of job: String, _ document: Document) -> JobRun? {
        guard let startedAt = document["last_run_at"]?.dateValue else { return nil }
        var deleted: [CollectionName: Int] = [:]
        for field in document["deleted"]?.documentValue?.fields ?? [] {
            deleted[CollectionName(field.key)] = field.value.intValue ?? 0
        }
        return JobRun(job: job, startedAt: startedAt, finishedAt: document["finished_at"]?.dateValue ?? startedAt,
                      instance: document["instance"]?.stringValue ?? "", deleted: deleted)
    }
}
