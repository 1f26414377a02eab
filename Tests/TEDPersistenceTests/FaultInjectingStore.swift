import Foundation
import Synchronization
import TEDCore
import TEDStore
import TEDTestSupport

/// A real store with faults laid over its record writes, as a flaky network or a strict database would cause them:
/// whole calls that fail retryably, and records refused for good. Everything else goes to the real store.
final class FaultInjectingStore: DocumentStore, @unchecked Sendable {
    struct Faults {
        /// Collections whose writes fail as a whole, retryably (an outage of one collection).
        var failing: Set<CollectionName> = []
        /// Chance that a record write fails as a whole, retryably.
        var retryableChance = 0.0
        var random = SeededRandom(seed: 1)
    }

    let base: any DocumentStore
    /// Records refused for good, whatever the order or the attempt (a value the database will never take).
    let refuses: @Sendable (StoreRecord) -> Bool
    let faults = Mutex(Faults())
    /// Told of every record write before it happens: an event a test can wait on, or act on, instead of polling.
    let beforeWrite: @Sendable (CollectionName) -> Void
    /// Awaited before every record write reaches the store: a test holds a write there until something happens.
    let holdingWrite: @Sendable (CollectionName) async -> Void

    init(_ base: any DocumentStore, refuses: @escaping @Sendable (StoreRecord) -> Bool = { _ in false },
         beforeWrite: @escaping @Sendable (CollectionName) -> Void = { _ in },
         holdingWrite: @escaping @Sendable (CollectionName) async -> Void = { _ in }) {
        self.base = base
        self.refuses = refuses
        self.beforeWrite = beforeWrite
        self.holdingWrite = holdingWrite
    }

    var backend: StoreBackend { base.backend }
    var location: String { base.location }
    var schema: any SchemaStore { base.schema }

    func ping() async throws(StoreError) { try await base.ping() }

    func write(_ records: [StoreRecord], to collection: CollectionName) async throws(StoreError) -> [RecordFate] {
        beforeWrite(collection)
        await holdingWrite(collection)
        let fails = faults.withLock { faults in
            faults.failing.contains(collection) || Double.random(in: 0..<1, using: &faults.random) < faults.retryableChance
        }
        if fails { throw StoreError(.unavailable, "injected: connection dropped") }
        let accepted = records.filter { !refuses($0) }
        var stored = try await base.write(accepted, to: collection).makeIterator()
        return records.map { record in
            refuses(record) ? .refused(StoreError(.operationFailed, "injected: document failed validation", code: 121))
                : stored.next()!
        }
    }

    func resolveOutcomes(ofGames gameIDs: [String], rules: OutcomeRules) async throws(StoreError) {
        try await base.resolveOutcomes(ofGames: gameIDs, rules: rules)
    }

    func aggregateHour(start: Date, end: Date, includeInferred: Bool) async throws(StoreError) -> HourlyFigures {
        try await base.aggregateHour(start: start, end: end, includeInferred: includeInferred)
    }

    func acquireLease(_ name: String, owner: String, now: Date, expiresAt: Date) async throws(StoreError) -> Bool {
        try await base.acquireLease(name, owner: owner, now: now, expiresAt: expiresAt)
    }

    func releaseLease(_ name: String, owner: String) async throws(StoreError) {
        try await base.releaseLease(name, owner: owner)
    }

    func close() async { await base.close() }

    // Analytics.
    func analytics(_ query: AnalyticsQuery) async throws(StoreError) -> AnalyticsReport { try await base.analytics(query) }

    // Game recordings.
    func recordedTicks(ofGame gameID: String, afterTick: Int, limit: Int) async throws(StoreError) -> [RecordedTick] {
        try await base.recordedTicks(ofGame: gameID, afterTick: afterTick, limit: limit)
    }

    // The persistence layer's ports (`StorePorts`), forwarded as they are.
    func addDeadLetters(_ letters: [DeadLetter]) async throws(StoreError) { try await base.addDeadLetters(letters) }
    func deadLetters(limit: Int) async throws(StoreError) -> [DeadLetter] { try await base.deadLetters(limit: limit) }
    func deadLetterCount() async throws(StoreError) -> Int { try await base.deadLetterCount() }
    func purgeDeadLetters() async throws(StoreError) -> Int { try await base.purgeDeadLetters() }
    func removeDeadLetters(of collection: CollectionName, recordIDs: [String]) async throws(StoreError) {
        try await base.removeDeadLetters(of: collection, recordIDs: recordIDs)
    }
    func expiredCount(in collection: CollectionName, before cutoff: Date) async throws(StoreError) -> Int {
        try await base.expiredCount(in: collection, before: cutoff)
    }
    func oldestExpired(in collection: CollectionName, before cutoff: Date) async throws(StoreError) -> Date? {
        try await base.oldestExpired(in: collection, before: cutoff)
    }
    func deleteExpired(from collection: CollectionName, before cutoff: Date, limit: Int) async throws(StoreError) -> Int {
        try await base.deleteExpired(from: collection, before: cutoff, limit: limit)
    }
    func lease(named name: String) async throws(StoreError) -> StoredLease? { try await base.lease(named: name) }
    func recordJobRun(_ run: JobRun) async throws(StoreError) { try await base.recordJobRun(run) }
    func lastJobRun(of job: String) async throws(StoreError) -> JobRun? { try await base.lastJobRun(of: job) }
    func newestMetricsHour() async throws(StoreError) -> Date? { try await base.newestMetricsHour() }
    func hourlyMetrics(from: Date, to: Date) async throws(StoreError) -> [Document] { try await base.hourlyMetrics(from: from, to: to) }
    func hourlyMetrics(id: String) async throws(StoreError) -> Document? { try await base.hourlyMetrics(id: id) }
    func saveHourlyMetrics(_ row: Document) async throws(StoreError) { try await base.saveHourlyMetrics(row) }
    func firstRecordCreated(since from: Date) async throws(StoreError) -> Date? { try await base.firstRecordCreated(since: from) }
    func appendFlagChanges(_ changes: [FlagChange]) async throws(StoreError) { try await base.appendFlagChanges(changes) }
    func latestFlagChanges(limit: Int) async throws(StoreError) -> [FlagChange] { try await base.latestFlagChanges(limit: limit) }
    func latestGames(limit: Int, before: Date?) async throws(StoreError) -> [Document] {
        try await base.latestGames(limit: limit, before: before)
    }
    func storedGame(_ gameID: String) async throws(StoreError) -> Document? { try await base.storedGame(gameID) }
    func storedGameDetail(_ gameID: String) async throws(StoreError) -> StoredGameDetail? { try await base.storedGameDetail(gameID) }
    func documentPage(of collection: CollectionName, matching selection: DocumentSelection, afterID: String?,
                      limit: Int) async throws(StoreError) -> [Document] {
        try await base.documentPage(of: collection, matching: selection, afterID: afterID, limit: limit)
    }
    func documentCount(of collection: CollectionName, matching selection: DocumentSelection) async throws(StoreError) -> Int {
        try await base.documentCount(of: collection, matching: selection)
    }
    func restoreDocuments(_ documents: [Document], into collection: CollectionName) async throws(StoreError) -> Int {
        try await base.restoreDocuments(documents, into: collection)
    }
    func appliedMigrations() async throws(StoreError) -> [AppliedMigration] { try await base.appliedMigrations() }
    func recordMigration(_ migration: AppliedMigration) async throws(StoreError) { try await base.recordMigration(migration) }
    func removeMigration(version: Int) async throws(StoreError) { try await base.removeMigration(version: version) }
}
