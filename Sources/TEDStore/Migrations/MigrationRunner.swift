import Foundation

/// Brings a database to the schema the migration files declare, one version at a time, under a lock,
/// recording each version in the ledger `schema_migrations` once its steps have succeeded.
public struct MigrationRunner: Sendable {
    public struct Options: Sendable {
        /// How long the lock lives without renewal: the longest a crashed runner blocks the others.
        public var lockTTL: Duration = .seconds(60)
        /// How long to wait for another runner before giving up.
        public var lockTimeout: Duration = .seconds(60)
        public var lockPollInterval: Duration = .milliseconds(500)

        public init() {}
    }

    /// What a run changed.
    public struct Run: Sendable, Equatable {
        public var applied: [Migration] = []
        public var reverted: [Migration] = []
        /// A TED-V1 database was adopted (see `TEDV1Adoption`).
        public var adoptedTEDV1 = false

        public var changedAnything: Bool { !applied.isEmpty || !reverted.isEmpty || adoptedTEDV1 }
    }

    public let store: any DocumentStore
    public let migrations: [Migration]
    private let options: Options
    private let report: MigrationReporter

    public init(store: any DocumentStore, migrations: [Migration], options: Options = Options(),
                reporter: @escaping MigrationReporter = { _ in }) {
        self.store = store
        // Another backend's own versions are not this database's: never applied, listed or expected here.
        self.migrations = migrations.filter { $0.applies(to: store.backend) }
        self.options = options
        report = reporter
    }

    public init(store: any DocumentStore, directory: String, options: Options = Options(),
                reporter: @escaping MigrationReporter = { _ in }) throws(MigrationError) {
        self.init(store: store, migrations: try MigrationLoader.load(directory: directory), options: options, reporter: reporter)
    }

    // MARK: Read only

    public func status() async throws(MigrationError) -> MigrationStatus {
        MigrationStatus(applied: try await storeCall { () throws(StoreError) in try await ledger.applied() }, migrations: migrations)
    }

    /// What adopting a TED-V1 database would change; empty for any other database.
    public func tedV1Findings() async throws(MigrationError) -> TEDV1Findings {
        try await storeCall { () throws(StoreError) in try await TEDV1Inspector(store: store).inspect() }
    }

    /// The dry run: the status, and each declared collection and index as the database has it, up to `target`
    /// (default: the latest). Writes nothing at all: no collection, index, ledger row or lock.
    public func checkOnly(upTo target: Int? = nil) async throws(MigrationError) -> CheckReport {
        let target = try resolve(target)
        let status = try await status()
        let expected = ExpectedSchema(after: migrations.filter { $0.version <= target })
        let inspector = SchemaInspector(store: store)
        let collections = try await storeCall { () throws(StoreError) in try await inspector.inspect(expected) }
        let size = try await storeCall { () throws(StoreError) in try await store.schema.databaseSizeBytes() }
        let tedV1 = try await tedV1Findings()
        return CheckReport(status: status, pending: status.pending.filter { $0.version <= target },
                           collections: collections, databaseSizeBytes: size, tedV1: tedV1)
    }

    // MARK: Changes

    /// Applies every pending migration: what the server runs at start with MIGRATE_ON_START.
    @discardableResult
    public func applyPending() async throws(MigrationError) -> Run {
        try await up()
    }

    /// Adopts a TED-V1 database first, then applies the pending migrations up to `target` (default: all), in
    /// order. An existing index with the declared keys but other options stops the run unless `force`, which replaces it.
    @discardableResult
    public func up(to target: Int? = nil, force: Bool = false) async throws(MigrationError) -> Run {
        let target = try resolve(target)
        return try await locked { (lock, status) throws(MigrationError) in
            let adopted = try await adoptTEDV1()
            var run = try await apply(status.pending.filter { $0.version <= target }, force: force, lock: lock)
            run.adoptedTEDV1 = adopted
            return run
        }
    }

    /// Undoes the `steps` most recent applied migrations, newest first.
    @discardableResult
    public func down(steps: Int = 1) async throws(MigrationError) -> Run {
        try await locked { (lock, status) throws(MigrationError) in
            let newest = status.applied.sorted { $0.version > $1.version }.prefix(max(0, steps))
            return try await revert(Array(newest), lock: lock)
        }
    }

    /// Goes up or down to exactly `target` (0 undoes everything).
    @discardableResult
    public func migrate(to target: Int, force: Bool = false) async throws(MigrationError) -> Run {
        let target = target == 0 ? 0 : try resolve(target)
        return try await locked { (lock, status) throws(MigrationError) in
            let newer = status.applied.filter { $0.version > target }.sorted { $0.version > $1.version }
            let reverted = try await revert(newer, lock: lock).reverted
            // Going up means writing under deterministic ids, which a TED-V1 database refuses until adopted.
            let adopted = target > 0 ? try await adoptTEDV1() : false
            let applied = try await apply(status.pending.filter { $0.version <= target }, force: force, lock: lock).applied
            return Run(applied: applied, reverted: reverted, adoptedTEDV1: adopted)
        }
    }

    // MARK: Steps

    /// Before the migrations: TED-V1's unique indexes would stop the declared ones and refuse this service's writes.
    private func adoptTEDV1() async throws(MigrationError) -> Bool {
        try await storeCall { () throws(StoreError) in try await TEDV1Adoption(store: store, report: report).run() }
    }

    private func apply(_ pending: [Migration], force: Bool, lock: MigrationLock) async throws(MigrationError) -> Run {
        guard !pending.isEmpty else { return Run() }
        try await storeCall { () throws(StoreError) in try await ledger.ensureExists() }
        let steps = SchemaSteps(schema: store.schema, force: force, report: report)
        var run = Run()
        for migration in pending {
            try await lock.renew()
            report(.applying(migration.label))
            let start = ContinuousClock.now
            let conflicts = try await storeCall { () throws(StoreError) in try await steps.apply(migration.up) }
            guard conflicts.isEmpty else { throw MigrationError.indexConflicts(migration: migration.label, conflicts) }
            let elapsed = ContinuousClock.now - start
            let milliseconds = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
            try await storeCall { () throws(StoreError) in try await ledger.record(migration, appliedAt: Date(), durationMs: milliseconds) }
            report(.applied(migration.label, durationMs: milliseconds))
            run.applied.append(migration)
        }
        return run
    }

    private func revert(_ rows: [AppliedMigration], lock: MigrationLock) async throws(MigrationError) -> Run {
        let steps = SchemaSteps(schema: store.schema, report: report)
        var run = Run()
        for row in rows {
            guard let migration = migrations.first(where: { $0.version == row.version }) else {
                throw MigrationError.missingFile(version: row.label)
            }
            try await lock.renew()
            report(.reverting(migration.label))
            let conflicts = try await storeCall { () throws(StoreError) in try await steps.apply(migration.down) }
            guard conflicts.isEmpty else { throw MigrationError.indexConflicts(migration: "\(migration.label) (down)", conflicts) }
            try await storeCall { () throws(StoreError) in try await ledger.remove(migration) }
            report(.reverted(migration.label))
            run.reverted.append(migration)
        }
        return run
    }

    /// Runs `body` holding the lock, with the ledger read after taking it (another runner may have just
    /// applied what we thought pending), refusing to go on if an applied file changed, and verifying after.
    /// The lock is released on every path; if this process dies instead, it expires after its TTL.
    private func locked(_ body: (MigrationLock, MigrationStatus) async throws(MigrationError) -> Run) async throws(MigrationError) -> Run {
        // A new owner per run: two runs must exclude each other even when they share a process or a runner.
        let owner = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(UUID().uuidString.prefix(8))"
        let lock = MigrationLock(store: store, owner: owner, ttl: options.lockTTL, report: report)
        try await lock.acquire(timeout: options.lockTimeout, pollInterval: options.lockPollInterval)
        let result: Result<Run, MigrationError> = await lock.keepingAlive { () async -> Result<Run, MigrationError> in
            do throws(MigrationError) {
                let status = try await status()
                guard status.checksumMismatches.isEmpty else { throw MigrationError.checksumMismatch(status.checksumMismatches) }
                let run = try await body(lock, status)
                if !run.changedAnything { report(.upToDate(version: status.currentVersion)) }
                try await verify()
                return .success(run)
            } catch {
                return .failure(error)
            }
        }
        await lock.release()
        return try result.get()
    }

    /// Compares the database with what its applied migrations declare. A difference made by hand is reported,
    /// not fixed: the files are the authority, and a new migration is how the schema changes.
    private func verify() async throws(MigrationError) {
        let appliedVersions = Set(try await status().applied.map(\.version))
        let expected = ExpectedSchema(after: migrations.filter { appliedVersions.contains($0.version) })
        let inspector = SchemaInspector(store: store)
        let reports = try await storeCall { () throws(StoreError) in try await inspector.inspect(expected) }
        var drift: [String] = []
        for collection in reports where !collection.matches {
            guard collection.exists else {
                drift.append("Collection \(collection.name) is missing")
                continue
            }
            drift += collection.missingIndexes.map { "Index \($0.summary) of \(collection.name) is missing" }
            drift += collection.differingIndexes.map {
                "Index of \(collection.name) differs: existing \($0.existing.summary), declared \($0.expected.summary)"
            }
        }
        if drift.isEmpty {
            report(.verified)
        } else {
            drift.forEach { report(.drift($0)) }
        }
    }

    // MARK: Helpers

    private var ledger: MigrationLedger { MigrationLedger(store: store) }

    private var latestVersion: Int { migrations.map(\.version).max() ?? 0 }

    /// A version the files know, or the latest when nil.
    private func resolve(_ target: Int?) throws(MigrationError) -> Int {
        guard let target else { return latestVersion }
        guard migrations.contains(where: { $0.version == target }) else {
            throw MigrationError.unknownVersion(target, latest: latestVersion)
        }
        return target
    }

    private func storeCall<T>(_ body: () async throws(StoreError) -> T) async throws(MigrationError) -> T {
        do {
            return try await body()
        } catch {
            throw MigrationError.store(error)
        }
    }
}
