import Foundation
import Synchronization
import TEDCore

/// What the scheduled jobs report for status pages. Both services write it; the HTTP layer reads snapshots.
public final class JobsStatus: Sendable {
    public struct Snapshot: Sendable, Equatable {
        /// This process, as it names itself in leases.
        public var instanceID: String
        public var lastCleanupAt: Date?
        public var lastCleanupCounts: [String: Int] = [:]
        public var nextCleanupAt: Date?
        /// Who held the cleanup lease at this instance's last attempt (itself, another instance, or nobody).
        public var cleanupLeaseHolder: String?
        /// The newest hour with a metrics document.
        public var lastMetricsHour: Date?
        public var nextMetricsRunAt: Date?
        public var metricsLeaseHolder: String?
    }

    private let state: Mutex<Snapshot>

    public init(instanceID: String = JobLease.processInstanceID) {
        state = Mutex(Snapshot(instanceID: instanceID))
    }

    public var snapshot: Snapshot { state.withLock { $0 } }

    func update(_ change: (inout Snapshot) -> Void) {
        state.withLock { change(&$0) }
    }
}

extension JobsStatus.Snapshot {
    public var json: JSONValue {
        func date(_ value: Date?) -> JSONValue { JSONValue(value.map(Timestamp.formatISO8601)) }
        return [
            "instance_id": .string(instanceID),
            "cleanup": [
                "last_run_at": date(lastCleanupAt),
                "last_deleted": .object(JSONObject(lastCleanupCounts.sorted { $0.key < $1.key }.map { ($0.key, JSONValue($0.value)) })),
                "next_run_at": date(nextCleanupAt),
                "lease_holder": JSONValue(cleanupLeaseHolder),
            ],
            "hourly_metrics": [
                "last_hour": date(lastMetricsHour),
                "next_run_at": date(nextMetricsRunAt),
                "lease_holder": JSONValue(metricsLeaseHolder),
            ],
        ]
    }
}
