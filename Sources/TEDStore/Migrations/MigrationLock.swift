import Foundation
import TEDCore

/// The lease that lets one runner at a time change the schema (two instances starting with MIGRATE_ON_START,
/// or an operator running `ted migrate` meanwhile). It has a TTL so a crashed runner's lock frees itself, and
/// the runner renews it between steps.
struct MigrationLock: Sendable {
    static let name = "schema_migrations"

    let store: any DocumentStore
    let owner: String
    let ttl: Duration
    let report: MigrationReporter

    /// Polls until the lease is ours or `timeout` has passed.
    func acquire(timeout: Duration, pollInterval: Duration) async throws(MigrationError) {
        let clock = ContinuousClock()
        let start = clock.now
        var reportedWaiting = false
        while true {
            if try await take() { return }
            // Said as soon as the lock is found held, even when the time is already up: an operator sees why the run
            // waited before it fails (a slow first attempt used to skip the line).
            if !reportedWaiting {
                report(.waitingForLock)
                reportedWaiting = true
            }
            let waited = start.duration(to: clock.now)
            guard waited < timeout else {
                throw MigrationError.lockTimeout(waitedSeconds: waited.seconds, holder: await holder())
            }
            do {
                try await Task.sleep(for: min(pollInterval, timeout - waited))
            } catch {
                throw MigrationError.cancelled
            }
        }
    }

    /// Extends the lease before the next version; losing it means another runner may be changing the schema now.
    func renew() async throws(MigrationError) {
        guard try await take() else { throw MigrationError.lockLost }
    }

    /// Runs `body` while renewing the lease every third of its TTL, so that one long step (an index built on a big
    /// collection) does not outlive it. A failed renewal is left to the next `renew()` to report. The renewals are a
    /// child task, cancelled and awaited before this returns: a late renewal cannot take the lock again after the
    /// caller releases it.
    func keepingAlive<Value: Sendable>(_ body: () async -> Value) async -> Value {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await renewUntilCancelled() }
            let value = await body()
            group.cancelAll()
            return value
        }
    }

    private func renewUntilCancelled() async {
        while true {
            do {
                try await Task.sleep(for: ttl / 3)
            } catch {
                return
            }
            _ = try? await take()
        }
    }

    func release() async {
        do {
            try await store.releaseLease(Self.name, owner: owner)
        } catch {
            report(.lockReleaseFailed(error))
        }
    }

    private func take() async throws(MigrationError) -> Bool {
        let now = Date()
        do {
            return try await store.acquireLease(Self.name, owner: owner, now: now, expiresAt: now.addingTimeInterval(ttl.seconds))
        } catch {
            throw MigrationError.store(error)
        }
    }

    /// Who holds the lease, for the timeout message; best effort, as it only helps the operator.
    private func holder() async -> String? {
        guard let names = try? await store.schema.collectionNames(), names.contains(CollectionName.locks.rawValue),
              let lease = try? await store.lease(named: Self.name) else { return nil }
        return "\(lease.owner) until \(Timestamp.formatISO8601(lease.expiresAt))"
    }
}

extension Duration {
    fileprivate var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}
